import { createContext, useContext } from 'react';
import type { Whoami } from '../../shared/api/identity.ts';
import type { HubConnection } from './connection.ts';
import type { ConsoleStore } from '../stream/store.ts';
import type { StatsSampler } from '../stats/sampler.ts';

// Who the console is signed in as: GET /v1/whoami, as the API contract says.
export type { Whoami } from '../../shared/api/identity.ts';

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
