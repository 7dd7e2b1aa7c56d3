import type { TokenScope } from '../../shared/scope.ts';

/** Narrowing filters a subscriber or history query asks for, on top of its token's scope. */
export interface KeyFilters {
  store_id?: string[];
  user_id?: string[];
  strategy_id?: string[];
}

/**
 * SQL pre-filter for a scope and filters. It only narrows what SQLite returns; every row is still
 * checked with shared `inScope` before it leaves the hub, so isolation never rests on SQL alone.
 */
export function scopeWhere(scope: TokenScope, filters: KeyFilters = {}, alias = ''): { sql: string; params: string[] } {
  const col = (c: string) => (alias ? `${alias}.${c}` : c);
  const clauses: string[] = [];
  const params: string[] = [];
  const inList = (c: string, values: string[]) => {
    clauses.push(`${col(c)} IN (${values.map(() => '?').join(',')})`);
    params.push(...values);
  };
  if (scope.user_id !== undefined) inList('user_id', [scope.user_id]);
  if (scope.strategy_ids) inList('strategy_id', scope.strategy_ids);
  if (scope.store_ids) inList('store_id', scope.store_ids);
  if (filters.user_id?.length) inList('user_id', filters.user_id);
  if (filters.strategy_id?.length) inList('strategy_id', filters.strategy_id);
  if (filters.store_id?.length) inList('store_id', filters.store_id);
  return { sql: clauses.length ? clauses.join(' AND ') : '1', params };
}

export function matchesFilters(filters: KeyFilters, ev: { store_id: string | null; user_id: string | null; strategy_id: string | null }): boolean {
  if (filters.store_id?.length && (ev.store_id == null || !filters.store_id.includes(ev.store_id))) return false;
  if (filters.user_id?.length && (ev.user_id == null || !filters.user_id.includes(ev.user_id))) return false;
  if (filters.strategy_id?.length && (ev.strategy_id == null || !filters.strategy_id.includes(ev.strategy_id))) return false;
  return true;
}
