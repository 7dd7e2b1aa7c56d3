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
 * The one list of scope keys: the token scope field, the event key it constrains, and the values it
 * allows. Visibility, widening checks and descriptions are all driven by it, so a key added here is
 * enforced everywhere at once.
 */
export const SCOPE_KEYS = [
  { field: 'user_id', event: 'user_id', label: 'user', values: (s: TokenScope) => (s.user_id !== undefined ? [s.user_id] : undefined) },
  { field: 'strategy_ids', event: 'strategy_id', label: 'strategies', values: (s: TokenScope) => s.strategy_ids },
  { field: 'store_ids', event: 'store_id', label: 'stores', values: (s: TokenScope) => s.store_ids },
] as const satisfies readonly { field: keyof TokenScope; event: keyof EventKeys; label: string; values: (s: TokenScope) => readonly string[] | undefined }[];
export type ScopeField = (typeof SCOPE_KEYS)[number]['field'];

/** Which scope key is outside the scope, for a 403 that names the field. */
export function scopeViolation(scope: TokenScope, ev: EventKeys): keyof EventKeys | null {
  for (const k of SCOPE_KEYS) {
    const allowed = k.values(scope);
    const v = ev[k.event];
    if (allowed && (v == null || !allowed.includes(v))) return k.event;
  }
  return null;
}

/**
 * Fail closed: when a scope constrains a key, an event that lacks the key is outside the scope.
 * This one function decides visibility for streams, replay, history, snapshots and publishing.
 */
export function inScope(scope: TokenScope, ev: EventKeys): boolean {
  return scopeViolation(scope, ev) === null;
}

/** A scope that constrains nothing: it sees the whole hub. */
export function isUnscoped(scope: TokenScope): boolean {
  return SCOPE_KEYS.every((k) => k.values(scope) === undefined);
}

/**
 * The keys on which `inner` would see more than `outer`: a key `outer` constrains that `inner`
 * leaves open or allows other values for. Empty means `inner` is within `outer`.
 */
export function scopeExcess(inner: TokenScope, outer: TokenScope): ScopeField[] {
  const excess: ScopeField[] = [];
  for (const k of SCOPE_KEYS) {
    const allowed = k.values(outer);
    if (!allowed) continue;
    const asked = k.values(inner);
    if (!asked || asked.some((v) => !allowed.includes(v))) excess.push(k.field);
  }
  return excess;
}

/** Everything `inner` can see, `outer` can see too (a scoped admin manages only such tokens). */
export function scopeWithin(inner: TokenScope, outer: TokenScope): boolean {
  return scopeExcess(inner, outer).length === 0;
}

export function describeScope(scope: TokenScope): string {
  const parts: string[] = [];
  for (const k of SCOPE_KEYS) {
    const v = k.values(scope);
    if (v) parts.push(`${k.label}=${v.join(',')}`);
  }
  return parts.length ? parts.join(' ') : 'all';
}
