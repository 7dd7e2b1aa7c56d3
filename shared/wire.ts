import { z } from 'zod';
import { tokenScopeSchema } from './scope.ts';

/**
 * SSE framing. Every frame is built here so no caller can emit a field with a raw newline: ids are
 * integers, event names are checked against a strict pattern, and data is JSON (which escapes CR and
 * LF inside strings). A name that fails the check is a programming error, so we throw.
 */
const EVENT_NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_-]+)*$/;

export function sseFrame(event: string | null, data: string, id?: number): string {
  if (event !== null && !EVENT_NAME.test(event)) throw new Error(`invalid SSE event name ${JSON.stringify(event)}`);
  if (/[\r\n]/.test(data)) throw new Error('SSE data must be single-line JSON');
  let out = '';
  if (id !== undefined) {
    if (!Number.isSafeInteger(id) || id < 0) throw new Error(`invalid SSE id ${id}`);
    out += `id: ${id}\n`;
  }
  if (event !== null) out += `event: ${event}\n`;
  return out + `data: ${data}\n\n`;
}

export const sseComment = (text: string) => `: ${text.replace(/[\r\n]/g, ' ')}\n\n`;

/** Names of the hub's own control events (domain events use their dotted type as the name). */
export const CONTROL = {
  connection: 'connection',
  initial: 'initial',
  reset: 'reset',
  heartbeat: 'heartbeat',
  forceDisconnect: 'force_disconnect',
} as const;

/** `events=message` delivers domain events unnamed, for clients that cannot list every type up front. */
export const streamEventModes = ['named', 'message'] as const;

export const connectionEventSchema = z.object({
  connection_id: z.string(),
  hub_id: z.string(),
  head_seq: z.number().int().nonnegative(),
  oldest_seq: z.number().int().nonnegative(),
  resume_from: z.number().int().nonnegative().nullable(),
  scope: tokenScopeSchema,
  filters: z.object({
    store_id: z.array(z.string()).optional(),
    user_id: z.array(z.string()).optional(),
    strategy_id: z.array(z.string()).optional(),
    type: z.array(z.string()).optional(),
  }),
  heartbeat_ms: z.number().int().positive(),
  server_time: z.string(),
});
export type ConnectionEvent = z.infer<typeof connectionEventSchema>;

export const resetEventSchema = z.object({
  reason: z.enum(['retention', 'ahead_of_log']),
  requested: z.number().int().nonnegative(),
  oldest_seq: z.number().int().nonnegative(),
  head_seq: z.number().int().nonnegative(),
  message: z.string(),
});
export type ResetEvent = z.infer<typeof resetEventSchema>;

export const forceDisconnectReasons = [
  'strategy_deactivated',
  'token_revoked',
  'admin',
  'slow_consumer',
  'shutdown',
] as const;
export const forceDisconnectSchema = z.object({
  reason: z.enum(forceDisconnectReasons),
  message: z.string(),
  /** Milliseconds the client should wait before reconnecting; null means do not reconnect. */
  retry_ms: z.number().int().nonnegative().nullable(),
});
export type ForceDisconnect = z.infer<typeof forceDisconnectSchema>;

export const heartbeatSchema = z.object({ time: z.string(), head_seq: z.number().int().nonnegative() });
export type Heartbeat = z.infer<typeof heartbeatSchema>;
