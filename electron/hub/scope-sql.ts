import { topicsOf, type EventKeys, type TokenScope } from '../../shared/scope.ts';
import { selectorSet } from '../../shared/topic-selector.ts';

/** Narrowing filters a subscriber or history query asks for, on top of its token's scope. */
export interface KeyFilters {
  store_id?: string[];
  user_id?: string[];
  strategy_id?: string[];
  tenant_id?: string[];
  /** Topic selectors (exact topics, URI templates or `*`): an event matches when one of its topics does. */
  topic?: string[];
}

/**
 * The SQL pre-filter for topic selectors over `events`: the seqs of event_topics rows whose topic is
 * one of the exact selectors or starts with a template's literal prefix (an index range each).
 * Templates are then matched exactly in JS (inScope / matchesFilters), like every other key. Null
 * when SQL cannot narrow: `*`, or a template that starts with a variable.
 */
function topicPrefilter(selectors: readonly string[], col: string, bounds: SeqBounds): { sql: string; params: (string | number)[] } | null {
  const set = selectorSet(selectors);
  if (set.any) return null;
  const prefixes = set.templatePrefixes();
  if (prefixes.includes('')) return null;
  const ors: string[] = [];
  const params: (string | number)[] = [];
  if (set.exact.size) {
    ors.push(`topic IN (${[...set.exact].map(() => '?').join(',')})`);
    params.push(...set.exact);
  }
  for (const prefix of prefixes) {
    // Text compares as UTF-8 bytes (BINARY): every topic starting with `prefix` sorts between it and
    // its bytes with the last one raised (UTF-8 never holds 0xFF, so the last byte can be raised).
    const upper = Buffer.from(prefix, 'utf8');
    upper[upper.length - 1]! += 1;
    ors.push('(topic >= ? AND topic < CAST(unhex(?) AS TEXT))');
    params.push(prefix, upper.toString('hex'));
  }
  // The page's seq bounds inside too: SQLite lists the subquery's seqs before looking events up, so
  // a replay from a recent cursor lists only the topic's entries after it, not its whole history.
  const range: string[] = [];
  if (bounds.after !== undefined) {
    range.push('seq > ?');
    params.push(bounds.after);
  }
  if (bounds.before !== undefined) {
    range.push('seq < ?');
    params.push(bounds.before);
  }
  return { sql: `${col} IN (SELECT seq FROM event_topics WHERE (${ors.join(' OR ')})${range.map((r) => ` AND ${r}`).join('')})`, params };
}

/** The seq range a read covers (exclusive), when it knows one. */
export interface SeqBounds {
  after?: number;
  before?: number;
}

/**
 * SQL pre-filter for a scope and filters. It only narrows what SQLite returns; every row is still
 * checked with shared `inScope` before it leaves the hub, so isolation never rests on SQL alone.
 * State rows (`projections`) carry no topics: a scope that selects topics sees none of them.
 */
export function scopeWhere(
  scope: TokenScope,
  filters: KeyFilters = {},
  alias = '',
  table: 'events' | 'projections' = 'events',
  bounds: SeqBounds = {},
): { sql: string; params: (string | number)[] } {
  const col = (c: string) => (alias ? `${alias}.${c}` : c);
  const clauses: string[] = [];
  const params: (string | number)[] = [];
  const inList = (c: string, values: string[]) => {
    clauses.push(`${col(c)} IN (${values.map(() => '?').join(',')})`);
    params.push(...values);
  };
  if (scope.user_id !== undefined) inList('user_id', [scope.user_id]);
  if (scope.strategy_ids) inList('strategy_id', scope.strategy_ids);
  if (scope.store_ids) inList('store_id', scope.store_ids);
  if (scope.tenant_id !== undefined) inList('tenant_id', [scope.tenant_id]);
  if (filters.user_id?.length) inList('user_id', filters.user_id);
  if (filters.strategy_id?.length) inList('strategy_id', filters.strategy_id);
  if (filters.store_id?.length) inList('store_id', filters.store_id);
  if (filters.tenant_id?.length) inList('tenant_id', filters.tenant_id);
  for (const selectors of [scope.subscribe_topics, filters.topic?.length ? filters.topic : undefined]) {
    if (!selectors) continue;
    if (table === 'projections') {
      clauses.push('0');
      continue;
    }
    const pre = topicPrefilter(selectors, col('seq'), bounds);
    if (pre) {
      clauses.push(pre.sql);
      params.push(...pre.params);
    } else {
      // `*` selects every topic, but an event without topics is still outside it.
      clauses.push(`${col('topics')} IS NOT NULL`);
    }
  }
  return { sql: clauses.length ? clauses.join(' AND ') : '1', params };
}

// At module level, not inside matchesFilters: a closure made per call is also named per call by the
// TypeScript loader (a defineProperty each), and this runs for every event and every subscription.
const has = (list: string[] | undefined, v: string | null | undefined) => !list?.length || (v != null && list.includes(v));

export function matchesFilters(filters: KeyFilters, ev: EventKeys): boolean {
  if (!has(filters.store_id, ev.store_id) || !has(filters.user_id, ev.user_id) || !has(filters.strategy_id, ev.strategy_id) || !has(filters.tenant_id, ev.tenant_id))
    return false;
  if (filters.topic?.length && !selectorSet(filters.topic).matchesAny(topicsOf(ev))) return false;
  return true;
}
