import type { Statement } from 'better-sqlite3';
import type { DB } from './db.ts';

const statements = new WeakMap<DB, Map<string, Statement>>();

/**
 * A prepared statement per SQL text and database, kept: every stream that connects replays through
 * these reads, and preparing costs more than running them on an empty range (hundreds of µs here,
 * paid per connection by tens of thousands of subscribers). The texts differ only by scope shape
 * and list length, so few exist; the cap bounds a client that varies its lists.
 */
export function prepared(db: DB, sql: string): Statement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let stmt = cache.get(sql);
  if (!stmt) {
    if (cache.size >= 256) cache.clear();
    cache.set(sql, (stmt = db.prepare(sql)));
  }
  return stmt;
}

/**
 * Reads run on the event loop (better-sqlite3 is synchronous), so every read a client can ask for
 * must be bounded in the rows it may examine, however sparse its matches are: a history search whose
 * text occurs once in a million events, or a scope whose index range is dense with rows another
 * filter rejects, would otherwise hold every publisher and subscriber for as long as the scan takes.
 * A read that reaches its budget stops there and hands back a cursor to continue from.
 */

/** Most rows one GET /v1/events or GET /v1/state request examines (HubOptions.scanBudgetRows). */
export const SCAN_BUDGET_ROWS = 10_000;
/** Most rows one replay step examines; the stream yields to the event loop between steps. */
export const REPLAY_STEP_ROWS = 2_000;

/**
 * The rows a read walks: `where` holds the terms an index serves (scope keys and the page's seq
 * range), `order` the direction it walks them in. Filters an index cannot serve (type, time, text)
 * are applied inside the window, so they can narrow what is returned but never widen what is scanned.
 */
export interface ScanRange {
  table: 'events' | 'projections';
  where: string;
  params: readonly (string | number)[];
  order: 'asc' | 'desc';
}

export interface ScanWindow {
  /** Extra WHERE terms that keep a query inside the window (none when the range fits the budget). */
  where: string[];
  params: number[];
  /** The last seq inside the window when the budget ends before the range does: the next cursor. */
  cutAt?: number;
}

/**
 * The first `budget` rows of a range, as a seq bound. Found on the index alone (the seq of the row
 * just past the budget), so it costs a walk of at most `budget` index entries, never a read of their
 * data; a range of exactly `budget` rows or fewer is not cut.
 */
export function scanWindow(db: DB, range: ScanRange, budget: number): ScanWindow {
  if (!Number.isFinite(budget)) return { where: [], params: [] };
  const asc = range.order === 'asc';
  const past = prepared(db, `SELECT seq FROM ${range.table} WHERE ${range.where} ORDER BY seq ${asc ? 'ASC' : 'DESC'} LIMIT 1 OFFSET ?`)
    .pluck()
    .get(...range.params, Math.max(1, budget)) as number | undefined;
  if (past === undefined) return { where: [], params: [] };
  // Cursors are exclusive and seqs are integers: stopping just short of `past` makes it the first
  // row of the next page, whether or not any row holds the seq in between.
  const cutAt = asc ? past - 1 : past + 1;
  return { where: [asc ? 'seq <= ?' : 'seq >= ?'], params: [cutAt], cutAt };
}

/**
 * How many rows of a range a read examined, up to and including `through` (the last row it
 * returned, or its window's end), at most `budget`: what the read is charged for.
 */
export function countScanned(db: DB, range: ScanRange, through: number | undefined, budget: number): number {
  const terms = [range.where];
  const params: (string | number)[] = [...range.params];
  if (through !== undefined) {
    terms.push(range.order === 'asc' ? 'seq <= ?' : 'seq >= ?');
    params.push(through);
  }
  const limit = Number.isFinite(budget) ? budget : -1;
  return prepared(db, `SELECT COUNT(*) FROM (SELECT 1 FROM ${range.table} WHERE ${terms.join(' AND ')} LIMIT ?)`).pluck().get(...params, limit) as number;
}
