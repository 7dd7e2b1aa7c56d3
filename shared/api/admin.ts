import { z } from 'zod';
import { scopeKey } from '../scope.ts';
import { tokenInfoSchema } from '../api.ts';

// Tokens, strategies and connections: the admin API. A scoped admin sees and manages only what lies
// within its own scope.

export const idParams = z.object({ id: z.string().min(1).max(200) });

export const tokenListSchema = z.object({ tokens: z.array(tokenInfoSchema) });
export const revokeResultSchema = z.object({
  revoked: z.boolean(),
  /** Streams of the token that were closed. */
  disconnected: z.number().int().nonnegative(),
});
/**
 * POST /v1/tokens/prune: delete revoked tokens of one label, keeping the newest `keep` revoked ones
 * (when they were revoked) as a record. Live tokens are never touched.
 */
export const pruneTokensRequest = z
  .object({
    label: z.string().min(1).max(200).meta({ description: 'Only revoked tokens with exactly this label.' }),
    keep: z.number().int().min(0).max(1000).default(0).meta({ description: 'How many of the most recently revoked ones to keep.' }),
  })
  .strict();
export const prunedTokensSchema = z.object({ deleted: z.number().int().nonnegative() });
export const loginUrlSchema = z.object({ url: z.string(), expires_in_s: z.number().int().positive() });
export type LoginUrl = z.infer<typeof loginUrlSchema>;

export const strategyStateSchema = z.object({
  strategy_id: z.string(),
  active: z.boolean(),
  reason: z.string().nullable(),
  updated_at: z.string(),
});
export type StrategyState = z.infer<typeof strategyStateSchema>;
export const strategyListSchema = z.object({ strategies: z.array(strategyStateSchema) });
export const strategyParams = z.object({ id: scopeKey });
/** POST /v1/strategies/{id}/activate|deactivate: the body is optional. */
export const strategyChangeSchema = z.object({ reason: z.string().min(1).max(500).optional() }).strict().optional();
export const strategyChangedSchema = strategyStateSchema.extend({
  /** Streams closed because they could only receive the deactivated strategy. */
  disconnected: z.number().int().nonnegative(),
});

export const connectionInfoSchema = z.object({
  connection_id: z.string(),
  token_id: z.string(),
  scope: z.string(),
  types: z.array(z.string()).nullable(),
  live: z.boolean(),
  last_seq: z.number().int(),
  delivered: z.number().int(),
  queue_events: z.number().int(),
  queue_bytes: z.number().int(),
  connected_at: z.string(),
});
export type ConnectionInfo = z.infer<typeof connectionInfoSchema>;
export const connectionListSchema = z.object({ connections: z.array(connectionInfoSchema) });
/** DELETE /v1/connections: which streams to close; at least one selector, or all=1. */
export const closeConnectionsQuery = z
  .object({
    strategy_id: scopeKey.optional(),
    user_id: scopeKey.optional(),
    store_id: scopeKey.optional(),
    token_id: z.string().max(64).optional(),
    connection_id: z.string().max(64).optional(),
    all: z.enum(['1', 'true']).optional(),
  })
  .strict();
export const disconnectedSchema = z.object({ disconnected: z.number().int().nonnegative() });
