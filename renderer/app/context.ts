import { createContext, useContext } from 'react';
import type { TokenScope } from '../../shared/scope.ts';
import type { TokenRole } from '../../shared/api.ts';
import type { HubConnection } from './connection.ts';
import type { ConsoleStore } from '../stream/store.ts';
import type { StatsSampler } from '../stats/sampler.ts';

export interface Whoami {
  token_id: string;
  role: TokenRole;
  scope: TokenScope;
  via: string;
  hub_id: string;
  head_seq: number;
}

export interface ConsoleContext {
  store: ConsoleStore;
  conn: HubConnection;
  me: Whoami;
  sampler: StatsSampler;
  retry(): void;
}

export const Ctx = createContext<ConsoleContext | null>(null);

export function useConsole(): ConsoleContext {
  const c = useContext(Ctx);
  if (!c) throw new Error('useConsole outside the console');
  return c;
}
