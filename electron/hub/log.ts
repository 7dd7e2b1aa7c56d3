import type { Statement } from 'better-sqlite3';
import { inScope, isUnscoped, type TokenScope } from '../../shared/scope.ts';
import { typeMatches, generatedEventId, eventContentKey, type HubEvent, type ValidEvent } from '../../shared/events.ts';
import { rfc3339Ms } from '../../shared/time.ts';
import { scopeNamespace } from '../../shared/state-keys.ts';
import type { PageCut } from '../../shared/api.ts';
import { getMeta, setMeta, type DB } from './db.ts';
import { scopeWhere, matchesFilters, type KeyFilters } from './scope-sql.ts';
import { scanWindow, countScanned, prepared, REPLAY_STEP_ROWS, SCAN_BUDGET_ROWS, type ScanRange } from './scan-window.ts';
import { LogEpochs } from './epoch.ts';

/** An `events` row as SQLite returns it. */
export interface EventRow {
  seq: number;
  id: string;
  type: string;
  store_id: string | null;
  user_id: string | null;
  strategy_id: string | null;
  tenant_id: string | null;
  /** The topics as a JSON array, or NULL. */
  topics: string | null;
  priority: HubEvent['priority'];
  time: string;
  received_at: string;
  data: string;
  /** NULL: the log's first epoch. */
  epoch?: string | null;
  /** The publisher's attached actions as JSON text; NULL when it attached none. */
  actions?: string | null;
}

/** The instant of `time`, for range queries (the publisher's offset stays in `time`, as sent). */
const instantOf = (time: string, receivedAt: string): number => rfc3339Ms(time) ?? rfc3339Ms(receivedAt) ?? Date.now();

/** An event with its JSON body kept: frames and replies reuse it instead of serialising again. */
export interface LoggedEvent {
  event: HubEvent;
  json: string;
  /** The epoch the event's seq was handed out in: its SSE id is `<seq>@<epoch>`. */
  epoch: string;
}

/**
 * The one place a stored row becomes a delivered event, so a live frame and a replayed frame of the
 * same event are the same bytes. `data` is passed when the caller already holds it parsed.
 */
function toLogged(r: EventRow, origin: string, data: Record<string, unknown> = JSON.parse(r.data)): LoggedEvent {
  const event = rowToEvent(r, data);
  return { event, json: JSON.stringify(event), epoch: r.epoch ?? origin };
}

/** A stored row as the event clients get, for readers that need the event without its frame. */
export function rowToEvent(r: EventRow, data: Record<string, unknown> = JSON.parse(r.data)): HubEvent {
  return {
    seq: r.seq,
    id: r.id,
    type: r.type,
    data,
    store_id: r.store_id,
    user_id: r.user_id,
    strategy_id: r.strategy_id,
    // Only on events that carry them: an event without is delivered exactly as before they existed.
    ...(r.tenant_id != null ? { tenant_id: r.tenant_id } : {}),
    ...(r.topics != null ? { topics: JSON.parse(r.topics) as string[] } : {}),
    priority: r.priority,
    time: r.time,
    received_at: r.received_at,
    ...(r.actions ? { actions: JSON.parse(r.actions) as HubEvent['actions'] } : {}),
  };
}

export class IdConflictError extends Error {
  /** Position of the conflicting event in its request, set by the engine for the error's field path. */
  index = 0;
  constructor(
    readonly eventId: string,
    readonly existingSeq: number,
  ) {
    super(`id "${eventId}" was already used for a different event (seq ${existingSeq}); a retry must repeat the type, data, scope keys and priority`);
  }
}

export interface AppendResult {
  seq: number;
  id: string;
  duplicate: boolean;
  logged?: LoggedEvent;
}

/**
 * One page by sequence number, the paging of GET /v1/events and GET /v1/state alike: `after` (asc) or
 * `before` (desc) is the last seq of the previous page, exclusive.
 */
export interface SeqPage {
  after?: number;
  before?: number;
  limit: number;
  order: 'asc' | 'desc';
}

/** The WHERE terms and ORDER BY of a SeqPage, for a table with a `seq` column (the caller adds LIMIT). */
export function seqPageSql(p: SeqPage): { where: string[]; params: number[]; orderBy: string } {
  const where: string[] = [];
  const params: number[] = [];
  if (p.after !== undefined) {
    where.push('seq > ?');
    params.push(p.after);
  }
  if (p.before !== undefined) {
    where.push('seq < ?');
    params.push(p.before);
  }
  return { where, params, orderBy: `ORDER BY seq ${p.order === 'asc' ? 'ASC' : 'DESC'}` };
}

export interface HistoryQuery extends KeyFilters, SeqPage {
  types?: string[];
  /** Instants in ms since the epoch: since inclusive, until exclusive. */
  since?: number;
  until?: number;
  text?: string;
}

/** A page read within a scan budget: what it found, where the next page starts, what it examined. */
export interface ScanPage<T> {
  rows: T[];
  /** The cursor of the next page (a seq, exclusive), or null when the range is exhausted. */
  next: number | null;
  /** True when the scan budget ended the page before `limit` rows were found; `next` continues it. */
  partial: boolean;
  /** Rows examined, for the request's cost. */
  scanned: number;
  /** The page ended at its row limit ('rows') or its byte bound ('bytes'); null otherwise. */
  truncated: PageCut;
}

/** The durable, ordered event log. All writes happen inside the caller's transaction. */
export class EventLog {
  private readonly insert: Statement;
  private readonly insertTopic: Statement;
  private readonly byId: Statement;
  private readonly afterStmt: Statement;
  private readonly countStmt: Statement;
  /**
   * The highest seq handed out, kept in memory because every append needs it. Only appends move
   * it, and only `transaction` takes it back (when the transaction it was handed out in fails).
   */
  private last: number;
  /** The log's epochs: every position handed out is a seq and the epoch it belongs to. */
  readonly epochs: LogEpochs;
  private pruned: number;

  constructor(private readonly db: DB) {
    this.insert = db.prepare(
      `INSERT INTO events (seq, id, type, store_id, user_id, strategy_id, tenant_id, topics, priority, time, time_ms, received_at, data, epoch, actions)
       VALUES (@seq, @id, @type, @store_id, @user_id, @strategy_id, @tenant_id, @topics, @priority, @time, @time_ms, @received_at, @data, @epoch, @actions)`,
    );
    this.insertTopic = db.prepare('INSERT OR IGNORE INTO event_topics (topic, seq) VALUES (?, ?)');
    this.byId = db.prepare('SELECT seq, type, data, store_id, user_id, strategy_id, tenant_id, topics, priority, actions FROM events WHERE namespace = ? AND id = ?');
    this.afterStmt = db.prepare('SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?');
    this.countStmt = db.prepare('SELECT COUNT(*) AS n FROM events');
    this.pruned = Number(getMeta(db, 'pruned_through') ?? 0);
    const row = db.prepare('SELECT MAX(seq) AS s FROM events').get() as { s: number | null };
    // Everything pruned was once handed out: a log pruned empty goes on after it, never reuses it.
    this.last = Math.max(row.s ?? 0, this.pruned);
    this.epochs = new LogEpochs(db);
  }

  /** The newest seq in the log (or pruned from it). */
  get head(): number {
    return this.last;
  }

  /** Events with seq <= prunedThrough are gone; a resume from before it cannot be served. */
  get prunedThrough(): number {
    return this.pruned;
  }

  /**
   * Wrap `fn` in a write transaction (a savepoint when called inside another). The head follows the
   * transaction's fate: when `fn` or the commit throws, every seq handed out inside is taken back,
   * so nothing that is not in the file is ever numbered as if it were.
   */
  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
    const tx = this.db.transaction(fn);
    return (...args: A) => {
      const before = this.last;
      try {
        return tx(...args);
      } catch (err) {
        this.last = before;
        throw err;
      }
    };
  }

  /**
   * Record that events up to `through` are gone without having been pruned here (the Redis engine:
   * trimmed from the shared stream before this hub applied them). A resume from before them then gets
   * a `reset`, never a silent gap.
   */
  markGone(through: number): void {
    if (through <= this.pruned) return;
    setMeta(this.db, 'pruned_through', String(through));
    this.pruned = through;
  }

  private headInStmts = new Map<string, Statement>();

  /**
   * The head as a scope sees it: the newest seq visible to `scope`, never below the pruned-through
   * point (a client resuming from it must not be sent a retention `reset` just because its own
   * events aged out). A scoped token never learns the global head, which tells how busy the other
   * scopes are. MAX(seq) under the (key, seq) scope indexes is a seek per listed value (SQLite's
   * min/max optimisation), not a scan of the scope's rows; ORDER BY seq DESC LIMIT 1 would sort
   * every row of a multi-value IN list.
   */
  headIn(scope: TokenScope): number {
    if (isUnscoped(scope)) return this.last;
    const where = scopeWhere(scope);
    const sql = `SELECT MAX(seq) AS seq FROM events WHERE ${where.sql}`;
    let stmt = this.headInStmts.get(sql);
    if (!stmt) {
      if (this.headInStmts.size >= 64) this.headInStmts.clear();
      this.headInStmts.set(sql, (stmt = this.db.prepare(sql)));
    }
    const row = stmt.get(...where.params) as { seq: number | null };
    return Math.max(row.seq ?? 0, this.pruned);
  }

  count(): number {
    return (this.countStmt.get() as { n: number }).n;
  }

  /**
   * Append one event with the given sequence number (the local engine passes head+1, the Redis
   * engine the global number, with the epoch it was numbered in). A repeated id with identical
   * content is a duplicate, not an error.
   * Ids are unique within the event's scope namespace: the same id under other scope keys is
   * another event, so a conflict only ever names an event the caller may write (and see).
   */
  /** Append with the next seq after the head (the local engine, which numbers events itself). */
  appendNext(ev: ValidEvent, receivedAt: string): AppendResult {
    return this.append(ev, this.last + 1, receivedAt);
  }

  append(ev: ValidEvent, seq: number, receivedAt: string, epoch?: string): AppendResult {
    const data = JSON.stringify(ev.data);
    if (ev.id !== undefined) {
      const prior = this.byId.get(scopeNamespace(ev), ev.id) as (Omit<EventRow, 'data'> & { data: string }) | undefined;
      if (prior) {
        if (eventContentKey({ ...prior, data: JSON.parse(prior.data), actions: prior.actions ? JSON.parse(prior.actions) : undefined }) !== eventContentKey(ev)) throw new IdConflictError(ev.id, prior.seq);
        return { seq: prior.seq, id: ev.id, duplicate: true };
      }
    }
    const row: EventRow = {
      seq,
      id: ev.id ?? generatedEventId(seq),
      type: ev.type,
      store_id: ev.store_id,
      user_id: ev.user_id,
      strategy_id: ev.strategy_id,
      tenant_id: ev.tenant_id ?? null,
      topics: ev.topics?.length ? JSON.stringify(ev.topics) : null,
      priority: ev.priority,
      time: ev.time ?? receivedAt,
      received_at: receivedAt,
      data,
      epoch: epoch === undefined || epoch === this.epochs.origin ? null : epoch,
      actions: ev.actions === undefined ? null : JSON.stringify(ev.actions),
    };
    this.insert.run({ ...row, time_ms: instantOf(row.time, receivedAt) });
    if (ev.topics) for (const t of ev.topics) this.insertTopic.run(t, seq);
    if (seq > this.last) this.last = seq;
    return { seq, id: row.id, duplicate: false, logged: toLogged(row, this.epochs.origin, ev.data) };
  }

  /**
   * A page of events after `seq` visible to a subscriber, for replay: at most `limit` events, found
   * among at most `step` rows of its scope (read along the scope's index), so one step costs the same
   * however sparse the scope is in the log. `scannedTo` is the seq everything up to which was seen.
   *
   * The page also ends before its events' JSON would pass `maxBytes` (it always holds at least one):
   * rows are read one at a time, so a reader that stops reading holds at most one page, never the
   * rows after the one that did not fit.
   */
  readAfter(
    seq: number,
    limit: number,
    visible: (e: HubEvent) => boolean,
    scoped?: { scope: TokenScope; filters: KeyFilters; step?: number },
    maxBytes = Infinity,
  ): { events: LoggedEvent[]; scannedTo: number; scanned: number } {
    const where = scopeWhere(scoped?.scope ?? {}, scoped?.filters, '', 'events', { after: seq });
    const step = scoped ? (scoped.step ?? REPLAY_STEP_ROWS) : Infinity;
    const range: ScanRange = { table: 'events', where: `${where.sql} AND seq > ?`, params: [...where.params, seq], order: 'asc' };
    const win = scanWindow(this.db, range, step);
    const rows = prepared(this.db, `SELECT * FROM events WHERE ${[range.where, ...win.where].join(' AND ')} ORDER BY seq ASC LIMIT ?`).iterate(
      ...range.params,
      ...win.params,
      limit,
    ) as IterableIterator<EventRow>;
    const events: LoggedEvent[] = [];
    let read = 0;
    let last = seq;
    let bytes = 0;
    let cut = false;
    for (const r of rows) {
      const logged = toLogged(r, this.epochs.origin);
      if (visible(logged.event)) {
        if (events.length && bytes + logged.json.length > maxBytes) {
          cut = true;
          break;
        }
        events.push(logged);
        bytes += logged.json.length;
      }
      read++;
      last = r.seq;
    }
    const full = cut || read === limit;
    // A window that ran to the end of the range has seen everything up to the head, whatever the
    // last row of this scope was: a sparse scope goes live without reading the rest of the log.
    const scannedTo = full ? last : (win.cutAt ?? Math.max(seq, this.last));
    return { events, scannedTo, scanned: scoped ? countScanned(this.db, range, full ? scannedTo : win.cutAt, step) : read };
  }

  /** History in a scope, without a scan budget (tools and tests). */
  history(scope: TokenScope, q: HistoryQuery): HubEvent[] {
    return this.historyPage(scope, q, Infinity).rows;
  }

  /**
   * History in a scope, one page: the scope's own index gives the rows in seq order, and at most
   * `budget` of them are examined by the filters no index serves (type, time, text). The page ends
   * early before its events' JSON would pass `maxBytes` (it always holds at least one): rows are read
   * one at a time, so a page of 1,000 events of 1 MB is never loaded whole.
   */
  historyPage(scope: TokenScope, q: HistoryQuery, budget = SCAN_BUDGET_ROWS, maxBytes = Infinity): ScanPage<HubEvent> {
    const where = scopeWhere(scope, q, '', 'events', { after: q.after, before: q.before });
    const page = seqPageSql(q);
    const range: ScanRange = { table: 'events', where: [where.sql, ...page.where].join(' AND '), params: [...where.params, ...page.params], order: q.order };
    const win = scanWindow(this.db, range, budget);
    const clauses = [range.where, ...win.where];
    const params: (string | number)[] = [...range.params, ...win.params];
    const and = (sql: string, value: string | number) => {
      clauses.push(sql);
      params.push(value);
    };
    if (q.since !== undefined) and('time_ms >= ?', q.since);
    if (q.until !== undefined) and('time_ms < ?', q.until);
    if (q.text) {
      clauses.push("instr(lower(data), lower(?)) > 0");
      params.push(q.text);
    }
    const exactTypes = q.types?.filter((t) => !t.endsWith('*'));
    const prefixTypes = q.types?.filter((t) => t.endsWith('*') && t !== '*');
    if (q.types?.length && !q.types.includes('*')) {
      const ors: string[] = [];
      for (const t of exactTypes ?? []) {
        ors.push('type = ?');
        params.push(t);
      }
      for (const t of prefixTypes ?? []) {
        ors.push('substr(type, 1, ?) = ?');
        params.push(t.length - 1, t.slice(0, -1));
      }
      clauses.push(`(${ors.join(' OR ')})`);
    }
    const sql = `SELECT * FROM events WHERE ${clauses.join(' AND ')} ${page.orderBy} LIMIT ?`;
    params.push(q.limit);
    const events: HubEvent[] = [];
    let read = 0;
    let last: number | undefined;
    let bytes = 0;
    let cut = false;
    for (const r of this.db.prepare(sql).iterate(...params) as IterableIterator<EventRow>) {
      const { event, json } = toLogged(r, this.epochs.origin);
      if (inScope(scope, event) && matchesFilters(q, event) && typeMatches(q.types, event.type)) {
        if (events.length && bytes + json.length > maxBytes) {
          cut = true;
          break;
        }
        events.push(event);
        bytes += json.length;
      }
      read++;
      last = r.seq;
    }
    const full = cut || read === q.limit;
    return {
      rows: events,
      next: full ? last! : (win.cutAt ?? null),
      partial: !full && win.cutAt !== undefined,
      scanned: Number.isFinite(budget) ? countScanned(this.db, range, full ? last : win.cutAt, budget) : 0,
      truncated: cut ? 'bytes' : full ? 'rows' : null,
    };
  }

  /**
   * Delete at most `chunk` of the oldest events that fall outside retention. Small chunks keep each
   * write transaction short so publishes never wait long behind pruning.
   */
  pruneChunk(opts: { maxAgeMs?: number; maxEvents?: number; chunk: number; now: number }): number {
    let cutoff = 0;
    if (opts.maxEvents !== undefined) {
      const row = this.db.prepare('SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?').get(opts.maxEvents) as { seq: number } | undefined;
      if (row) cutoff = Math.max(cutoff, row.seq);
    }
    if (opts.maxAgeMs !== undefined) {
      const before = new Date(opts.now - opts.maxAgeMs).toISOString();
      const row = this.db.prepare('SELECT MAX(seq) AS s FROM events WHERE received_at < ?').get(before) as { s: number | null };
      if (row.s) cutoff = Math.max(cutoff, row.s);
    }
    if (cutoff <= this.pruned) return 0;
    const upper = this.db.prepare('SELECT seq FROM events WHERE seq <= ? ORDER BY seq LIMIT 1 OFFSET ?').get(cutoff, opts.chunk - 1) as { seq: number } | undefined;
    const through = upper ? upper.seq : cutoff;
    const deleted = this.db.transaction(() => {
      const n = this.db.prepare('DELETE FROM events WHERE seq <= ?').run(through).changes;
      this.db.prepare('DELETE FROM event_topics WHERE seq <= ?').run(through);
      setMeta(this.db, 'pruned_through', String(through));
      return n;
    })();
    this.pruned = through;
    return deleted;
  }
}
