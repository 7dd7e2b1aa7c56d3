import { z } from 'zod';
import { tokenScopeSchema } from './scope.ts';

/**
 * SSE framing. Every frame is built here so no caller can emit a field with a raw newline: ids are
 * integers, event names are checked against a strict pattern, and data is JSON (which escapes CR and
 * LF inside strings). A name that fails the check is a programming error, so we throw.
 */
const EVENT_NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_-]+)*$/;

/**
 * A log's epoch: a random id made with the log (and, on the Redis engine, each time the shared stream
 * had to start over). A position in a log is a sequence number *and* the epoch it was handed out in,
 * so a client holding a position from a log that was replaced or forked is told so instead of being
 * served whatever another history holds at that number.
 */
export const EPOCH_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** An SSE event id: `<seq>@<epoch>`, or a plain `<seq>` (clients and hubs from before epochs). */
export interface EventPosition {
  seq: number;
  epoch?: string;
}

export function formatEventId(seq: number, epoch?: string): string {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new Error(`invalid SSE id ${seq}`);
  if (epoch === undefined) return String(seq);
  if (!EPOCH_PATTERN.test(epoch)) throw new Error(`invalid epoch ${JSON.stringify(epoch)}`);
  return `${seq}@${epoch}`;
}

const EVENT_ID = /^(\d{1,15})(?:@([A-Za-z0-9_-]{1,32}))?$/;

/** The position in an SSE id sent by a hub, or null when it is not one. */
export function parseEventId(raw: string): EventPosition | null {
  const m = EVENT_ID.exec(raw.trim());
  if (!m) return null;
  return m[2] === undefined ? { seq: Number(m[1]) } : { seq: Number(m[1]), epoch: m[2] };
}

export function sseFrame(event: string | null, data: string, id?: number | EventPosition): string {
  if (event !== null && !EVENT_NAME.test(event)) throw new Error(`invalid SSE event name ${JSON.stringify(event)}`);
  if (/[\r\n]/.test(data)) throw new Error('SSE data must be single-line JSON');
  let out = '';
  if (id !== undefined) out += `id: ${typeof id === 'number' ? formatEventId(id) : formatEventId(id.seq, id.epoch)}\n`;
  if (event !== null) out += `event: ${event}\n`;
  return out + `data: ${data}\n\n`;
}

/** Names of the hub's own control events (domain events use their dotted type as the name). */
export const CONTROL = {
  connection: 'connection',
  initial: 'initial',
  reset: 'reset',
  heartbeat: 'heartbeat',
  forceDisconnect: 'force_disconnect',
  /** The token's inbox marks changed (shared/inbox.ts#inboxChangeSchema), from this or another window. */
  inbox: 'inbox',
} as const;

/** `events=message` delivers domain events unnamed, for clients that cannot list every type up front. */
export const streamEventModes = ['named', 'message'] as const;

export const connectionEventSchema = z.object({
  connection_id: z.string(),
  hub_id: z.string(),
  head_seq: z.number().int().nonnegative(),
  oldest_seq: z.number().int().nonnegative(),
  resume_from: z.number().int().nonnegative().nullable(),
  /** The log's current epoch (absent from hubs before epochs); event ids are `<seq>@<epoch>`. */
  epoch: z.string().optional(),
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
  /**
   * retention: the events after the position were pruned; ahead_of_log: the position is past the
   * head; epoch_changed: the position is from another history (a replaced log, or a Redis stream
   * that started over) than the one this hub serves.
   */
  reason: z.enum(['retention', 'ahead_of_log', 'epoch_changed']),
  requested: z.number().int().nonnegative(),
  /** The epoch of the position asked for, when it had one. */
  requested_epoch: z.string().optional(),
  /** The log's current epoch. */
  epoch: z.string().optional(),
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
