import { z } from 'zod';
import { tokenScopeSchema } from './scope.ts';
import { hubEventSchema } from './events.ts';

/** An operator is a subscriber that may also request actions (POST /v1/actions) within its scope. */
export const tokenRoles = ['publisher', 'subscriber', 'operator', 'admin'] as const;
export type TokenRole = (typeof tokenRoles)[number];

export const createTokenRequest = z
  .object({
    role: z.enum(tokenRoles),
    label: z.string().min(1).max(200).optional(),
    scope: tokenScopeSchema.default({}),
    /** Requests per second allowed for this token; omitted uses the hub default. */
    rate_limit: z.number().int().positive().max(1_000_000).optional(),
  })
  .strict();
export type CreateTokenRequest = z.input<typeof createTokenRequest>;

export const tokenInfoSchema = z.object({
  id: z.string(),
  role: z.enum(tokenRoles),
  label: z.string().nullable(),
  scope: tokenScopeSchema,
  created_at: z.string(),
  revoked_at: z.string().nullable(),
  last_used_at: z.string().nullable(),
});
export type TokenInfo = z.infer<typeof tokenInfoSchema>;

/** Only the create response ever carries the secret; the hub keeps a hash. */
export const createdTokenSchema = tokenInfoSchema.extend({ token: z.string() });

export const publishResultSchema = z.object({
  results: z.array(z.object({ seq: z.number().int().positive(), id: z.string(), duplicate: z.boolean() })),
});
export type PublishResult = z.infer<typeof publishResultSchema>;

export const errorBodySchema = z.object({
  error: z.object({
    status: z.number().int(),
    code: z.string(),
    message: z.string(),
    fields: z.array(z.object({ path: z.string(), reason: z.string() })).optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/**
 * Why a page (or a snapshot's list) holds fewer rows than there are: 'rows' when it reached its row
 * limit, 'bytes' when it reached its size bound first; null when nothing was left out.
 */
export const pageCutSchema = z.enum(['rows', 'bytes']).nullable();
export type PageCut = z.infer<typeof pageCutSchema>;

/**
 * GET /v1/events answers at most this much event JSON per page, whatever `limit` says: a page ends
 * early (truncated: 'bytes', with a next_cursor) instead of holding 1,000 events of 1 MB in memory.
 */
export const HISTORY_PAGE_MAX_BYTES = 4 * 1024 * 1024;

export const historyPageSchema = z.object({
  events: z.array(hubEventSchema),
  /** Pass as `cursor` (with the same `order`) for the next page; null when this was the last. */
  next_cursor: z.string().nullable(),
  /**
   * The hub stopped at its per-request scan budget before filling the page: fewer events than
   * `limit` (maybe none) came back, and `next_cursor` continues the search where it stopped.
   */
  partial: z.literal(true).optional(),
  /** The page ended at its `limit` ('rows') or at HISTORY_PAGE_MAX_BYTES ('bytes'); null otherwise. */
  truncated: pageCutSchema,
});
export type HistoryPage = z.infer<typeof historyPageSchema>;

/**
 * Hub stats. A scoped admin gets its scope's view: `scope` is its scope, `head_seq` its scope's
 * head and `connections` the streams within its scope; the hub-wide fields (log, rates, bus, uptime,
 * slow-consumer count) are left out, since they describe every scope. An unscoped admin gets all,
 * with `scope: {}`.
 */
/** A Redis-engine hub whose log holds a history the shared stream left (see docs/scaling.md). */
export const busForkSchema = z.object({
  epoch: z.string(),
  head: z.number().int().nonnegative(),
  redis_epoch: z.string(),
  redis_base: z.number().int().nonnegative().nullable(),
  since: z.string(),
  message: z.string(),
});
export type BusFork = z.infer<typeof busForkSchema>;

export const statsSchema = z.object({
  hub_id: z.string(),
  scope: tokenScopeSchema.default({}),
  uptime_s: z.number().optional(),
  head_seq: z.number().int(),
  oldest_seq: z.number().int().optional(),
  log: z.object({ events: z.number().int(), bytes: z.number().int(), pruned_through: z.number().int() }).optional(),
  rates: z.object({
    publish_per_s: z.number(),
    delivery_per_s: z.number(),
    publish_total: z.number().int(),
    delivery_total: z.number().int(),
  }).optional(),
  connections: z.object({
    total: z.number().int(),
    by_scope: z.record(z.string(), z.number().int()),
    queue_depth_max: z.number().int(),
    queue_bytes_total: z.number().int(),
    slow_consumer_disconnects: z.number().int().optional(),
  }),
  bus: z.object({
    engine: z.enum(['local', 'redis']),
    lag_ms: z.number().nullable(),
    connected: z.boolean(),
    /** The log's current epoch (event ids are `<seq>@<epoch>`). */
    epoch: z.string().optional(),
    /** Set when this hub's log left the shared history (Redis lost data while it was away). */
    fork: busForkSchema.nullable().optional(),
  }).optional(),
});
export type Stats = z.infer<typeof statsSchema>;
