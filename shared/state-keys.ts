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
  return SCOPE_KEY_NAMES.map((k) => keys[k] ?? '').join('/');
}

/**
 * The key of a current-state row: the writing event's namespace and the domain's own id
 * (`12/7//1002` for order 1002 of store 12, user 7). Two writers under different scope keys can
 * therefore never touch each other's rows, whatever domain ids they use. The domain id comes last
 * and may itself contain `/`: the first three separators are always the namespace's.
 */
export function stateRowKey(keys: EventKeys, domainId: unknown): string {
  return `${scopeNamespace(keys)}/${String(domainId ?? '')}`;
}

/** The scope keys an event carries (the ones it has), e.g. `{ store_id: '12', user_id: '7' }`. */
export type CarriedKeys = Partial<Record<ScopeKeyName, string>>;

export function carriedKeys(keys: EventKeys): CarriedKeys {
  const out: CarriedKeys = {};
  for (const k of SCOPE_KEY_NAMES) {
    const v = keys[k];
    if (v != null) out[k] = v;
  }
  return out;
}

/**
 * Whether a row lies under every key the event carries. An event that carries a key only reaches
 * rows with that same key; a key it does not carry does not narrow it (a store-wide writer ends a
 * table's session for every user of the store, a user-7 writer only for user 7).
 */
export function underCarriedKeys(carried: CarriedKeys, row: EventKeys): boolean {
  for (const k of SCOPE_KEY_NAMES) if (carried[k] !== undefined && row[k] !== carried[k]) return false;
  return true;
}
