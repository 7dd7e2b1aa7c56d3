import type { EventKeys } from './scope.ts';

/**
 * The scope keys an event carries, in the order they appear in namespaces and row keys. Scope keys
 * never contain `/` (shared/scope.ts), so `/` separates them unambiguously.
 */
export const SCOPE_KEY_NAMES = ['store_id', 'user_id', 'strategy_id'] as const;
export type ScopeKeyName = (typeof SCOPE_KEY_NAMES)[number];

/**
 * The namespace of everything written under one combination of scope keys: `store/user/strategy`,
 * an absent key left empty (`12/7/`, `//` for an event with none). Idempotency ids are unique within
 * a namespace and current-state rows live inside one, so a writer only ever meets ids and rows of
 * the keys it writes under, which its token's scope allows by construction.
 */
export function scopeNamespace(keys: EventKeys): string {
  return tenantPrefix(keys) + SCOPE_KEY_NAMES.map((k) => keys[k] ?? '').join('/');
}

/**
 * A tenant's namespaces start with `<tenant>|`: `|` is in no scope key, so `t1|12/7/` can neither
 * be a namespace without a tenant nor another tenant's. Without a tenant the namespace is what it
 * always was, so ids and state rows written before tenants existed keep their keys.
 */
function tenantPrefix(keys: EventKeys): string {
  return keys.tenant_id != null ? `${keys.tenant_id}|` : '';
}

/**
 * The key of a current-state row: the writing event's namespace and the domain's own id
 * (`12/7//1002` for order 1002 of store 12, user 7). Two writers under different scope keys can
 * therefore never touch each other's rows, whatever domain ids they use. The domain id comes last
 * and may itself contain `/`: the first three separators are always the namespace's.
 */
export function stateRowKey(keys: EventKeys, domainId: unknown): string {
  // (A tenant's rows are `<tenant>|12/7//1002`: see tenantPrefix.)
  return `${scopeNamespace(keys)}/${String(domainId ?? '')}`;
}

/**
 * The scope keys an event carries (the ones it has), e.g. `{ store_id: '12', user_id: '7' }`, and
 * its tenant, which is always compared (null for none).
 */
export type CarriedKeys = Partial<Record<ScopeKeyName, string>> & { tenant_id: string | null };

export function carriedKeys(keys: EventKeys): CarriedKeys {
  const out: CarriedKeys = { tenant_id: keys.tenant_id ?? null };
  for (const k of SCOPE_KEY_NAMES) {
    const v = keys[k];
    if (v != null) out[k] = v;
  }
  return out;
}

/**
 * Whether a row lies under every key the event carries. An event that carries a key only reaches
 * rows with that same key; a key it does not carry does not narrow it (a store-wide writer ends a
 * table's session for every user of the store, a user-7 writer only for user 7). Tenants are
 * separate worlds: a row is reached only by events of its own tenant, and an event without a tenant
 * reaches only rows without one.
 */
export function underCarriedKeys(carried: CarriedKeys, row: EventKeys): boolean {
  if ((row.tenant_id ?? null) !== carried.tenant_id) return false;
  for (const k of SCOPE_KEY_NAMES) if (carried[k] !== undefined && row[k] !== carried[k]) return false;
  return true;
}
