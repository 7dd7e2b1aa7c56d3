import { z } from 'zod';

/**
 * Scope keys are strings on the wire. Backends in the seeds use integer ids (store 12, strategy 3);
 * we accept both and normalise to strings so `3` and `"3"` can never be two different scopes.
 */
export const scopeKey = z
  .union([z.string(), z.number().int().nonnegative()])
  .transform((v) => String(v))
  .pipe(
    z
      .string()
      .min(1, 'must not be empty')
      .max(64, 'must be at most 64 characters')
      .regex(/^[A-Za-z0-9._:@-]+$/, 'may only contain letters, digits and . _ : @ -'),
  );

export const tokenScopeSchema = z
  .object({
    user_id: scopeKey.optional(),
    strategy_ids: z.array(scopeKey).min(1).max(1000).optional(),
    store_ids: z.array(scopeKey).min(1).max(1000).optional(),
  })
  .strict();
export type TokenScope = z.infer<typeof tokenScopeSchema>;

/** The scope keys an event carries. */
export interface EventKeys {
  store_id?: string | null;
  user_id?: string | null;
  strategy_id?: string | null;
}

/**
 * Fail closed: when a scope constrains a key, an event that lacks the key is outside the scope.
 * This one function decides visibility for streams, replay, history, snapshots and publishing.
 */
export function inScope(scope: TokenScope, ev: EventKeys): boolean {
  if (scope.user_id !== undefined && ev.user_id !== scope.user_id) return false;
  if (scope.strategy_ids && (ev.strategy_id == null || !scope.strategy_ids.includes(ev.strategy_id)))
    return false;
  if (scope.store_ids && (ev.store_id == null || !scope.store_ids.includes(ev.store_id))) return false;
  return true;
}

/** Which scope key is outside the scope, for a 403 that names the field. */
export function scopeViolation(scope: TokenScope, ev: EventKeys): keyof EventKeys | null {
  if (scope.user_id !== undefined && ev.user_id !== scope.user_id) return 'user_id';
  if (scope.strategy_ids && (ev.strategy_id == null || !scope.strategy_ids.includes(ev.strategy_id)))
    return 'strategy_id';
  if (scope.store_ids && (ev.store_id == null || !scope.store_ids.includes(ev.store_id))) return 'store_id';
  return null;
}

export function describeScope(scope: TokenScope): string {
  const parts: string[] = [];
  if (scope.user_id !== undefined) parts.push(`user=${scope.user_id}`);
  if (scope.strategy_ids) parts.push(`strategies=${scope.strategy_ids.join(',')}`);
  if (scope.store_ids) parts.push(`stores=${scope.store_ids.join(',')}`);
  return parts.length ? parts.join(' ') : 'all';
}
