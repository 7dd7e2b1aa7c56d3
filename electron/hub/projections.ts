import type { Statement } from 'better-sqlite3';
import { inScope, type TokenScope } from '../../shared/scope.ts';
import { normalizeData, type HubEvent } from '../../shared/events.ts';
import { stateFields, stateKinds, type ProjectionRow, type Snapshot, type StateCount, type StateField, type StateKind } from '../../shared/state.ts';
import type { DB } from './db.ts';
import { seqPageSql, type SeqPage } from './log.ts';
import { scopeWhere, matchesFilters, type KeyFilters } from './scope-sql.ts';
import { scanWindow, countScanned, type ScanRange } from './scan-window.ts';

interface Row {
  key: string;
  seq: number;
  store_id: string | null;
  user_id: string | null;
  strategy_id: string | null;
  created_at: string;
  updated_at: string;
  data: string;
}

type Data = Record<string, unknown>;

const TERMINAL_TRADING = new Set(['FILLED', 'CANCELLED', 'EXPIRED', 'REJECTED']);

/**
 * Current-state tables (open store orders, trading orders, positions, mail) derived from the log.
 * `apply` runs inside the same transaction as the log append, so state and log never disagree.
 */
export class Projections {
  private readonly get: Statement;
  private readonly upsert: Statement;
  private readonly remove: Statement;
  private readonly endSession: Statement;

  constructor(private readonly db: DB) {
    this.get = db.prepare('SELECT * FROM projections WHERE kind = ? AND key = ?');
    this.upsert = db.prepare(
      `INSERT INTO projections (kind, key, store_id, user_id, strategy_id, seq, created_at, updated_at, data)
       VALUES (@kind, @key, @store_id, @user_id, @strategy_id, @seq, @at, @at, @data)
       ON CONFLICT(kind, key) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at, data = excluded.data,
         store_id = excluded.store_id, user_id = excluded.user_id, strategy_id = excluded.strategy_id`,
    );
    this.remove = db.prepare('DELETE FROM projections WHERE kind = ? AND key = ?');
    this.endSession = db.prepare(
      `DELETE FROM projections WHERE kind = 'store_order' AND store_id = ? AND json_extract(data, '$.table_id') = ?`,
    );
  }

  private merge(kind: StateKind, key: string, e: HubEvent, patch: Data, replace = false): void {
    const prior = this.get.get(kind, key) as Row | undefined;
    // A row carries the scope keys of the event that last wrote it. Data written under other keys is
    // never merged in: a token scoped to the old keys would otherwise see the new event's data.
    const sameKeys = prior && prior.store_id === e.store_id && prior.user_id === e.user_id && prior.strategy_id === e.strategy_id;
    const base: Data = prior && sameKeys && !replace ? JSON.parse(prior.data) : {};
    this.upsert.run({
      kind,
      key,
      store_id: e.store_id,
      user_id: e.user_id,
      strategy_id: e.strategy_id,
      seq: e.seq,
      at: e.time,
      data: JSON.stringify({ ...base, ...patch, last_type: e.type }),
    });
  }

  apply(e: HubEvent): void {
    // The log keeps data as sent; state holds the schema's reading of it (string ids, defaults), so
    // keys and merges do not depend on how a publisher spelled an id. Validated at publish, so never null.
    const d = normalizeData(e.type, e.data) ?? e.data;
    const scoped = (...parts: unknown[]) => parts.map((p) => String(p ?? '')).join('/');
    switch (e.type) {
      case 'store.order.created':
        return this.merge('store_order', scoped(e.store_id, d.order_id), e, d, true);
      case 'store.order.updated':
        return this.merge('store_order', scoped(e.store_id, d.order_id), e, d);
      case 'store.order.deleted':
        this.remove.run('store_order', scoped(e.store_id, d.order_id));
        return;
      case 'store.session.ended':
        this.endSession.run(e.store_id, String(d.table_id));
        return;
      case 'trading.order.created':
      case 'trading.order.updated':
      case 'trading.order.filled':
      case 'trading.order.cancelled':
        return this.merge('trading_order', scoped(e.user_id, e.strategy_id, d.order_id), e, d);
      case 'trading.position.created':
      case 'trading.position.updated':
        return this.merge('position', scoped(e.user_id, e.strategy_id, d.position_id), e, d);
      case 'trading.position.closed':
        this.remove.run('position', scoped(e.user_id, e.strategy_id, d.position_id));
        return;
      case 'mail.email.new':
        return this.merge('mail', scoped(e.user_id, d.email_id), e, d, true);
      case 'mail.email.classified': {
        const { email_id, ...classification } = d;
        return this.merge('mail', scoped(e.user_id, email_id), e, { email_id, classification });
      }
      case 'mail.email.updated':
        if (d.deleted) {
          this.remove.run('mail', scoped(e.user_id, d.email_id));
          return;
        }
        return this.merge('mail', scoped(e.user_id, d.email_id), e, d);
      case 'mail.sync.started':
      case 'mail.sync.completed':
      case 'mail.sync.error':
        return this.merge('mail_sync', scoped(e.user_id, d.account ?? d.connection_id ?? 'default'), e, {
          ...d,
          state: e.type.slice('mail.sync.'.length),
          at: e.time,
        });
    }
  }

  /**
   * One seq-ordered page across `kinds`, each row under its wire field, and every kind's total in the
   * scope. A projection row's seq is that of the last event that wrote it, and an event writes at
   * most one row, so seq orders rows across kinds without ties and works as the cursor. At most
   * `budget` rows are examined (shared among the kinds); a page the budget cut is `partial`.
   */
  read(
    kinds: readonly StateKind[],
    scope: TokenScope,
    filters: KeyFilters,
    page: SeqPage,
    keys?: readonly string[],
    budget = Infinity,
  ): {
    rows: Partial<Record<StateField, ProjectionRow[]>>;
    counts: Partial<Record<StateField, StateCount>>;
    next: number | null;
    partial: boolean;
    scanned: number;
  } {
    const where = scopeWhere(scope, filters);
    // Looking rows up by key narrows like any filter: the scope still applies, and counts follow it.
    if (keys?.length) {
      where.sql = `${where.sql} AND key IN (${keys.map(() => '?').join(',')})`;
      where.params.push(...keys);
    }
    const range = seqPageSql(page);
    const perKind = Number.isFinite(budget) ? Math.max(1, Math.floor(budget / kinds.length)) : budget;
    const asc = page.order === 'asc';
    // Each kind reads at most `limit` rows along its (kind, scope key, seq) index; merging those is
    // cheaper than one `kind IN (...)` query that SQLite would have to sort whole.
    const perKindRows = kinds.map((kind) => {
      const r: ScanRange = { table: 'projections', where: ['kind = ?', where.sql, ...range.where].join(' AND '), params: [kind, ...where.params, ...range.params], order: page.order };
      const win = scanWindow(this.db, r, perKind);
      const rows = this.db
        .prepare(`SELECT * FROM projections WHERE ${[r.where, ...win.where].join(' AND ')} ${range.orderBy} LIMIT ?`)
        .all(...r.params, ...win.params, page.limit) as (Row & { kind: StateKind })[];
      const cut = rows.length < page.limit ? win.cutAt : undefined;
      return { r, rows, cut, through: cut ?? (rows.length === page.limit ? rows[rows.length - 1]!.seq : undefined) };
    });
    // A kind cut by the budget has unseen rows past its cut, and they sort before any row of another
    // kind further on: the page stops at the nearest cut, and the next page starts there.
    let bound: number | undefined;
    for (const k of perKindRows) if (k.cut !== undefined) bound = bound === undefined ? k.cut : asc ? Math.min(bound, k.cut) : Math.max(bound, k.cut);
    const merged = perKindRows
      .flatMap((k) => k.rows)
      .filter((r) => bound === undefined || (asc ? r.seq <= bound : r.seq >= bound))
      .sort((a, b) => (asc ? a.seq - b.seq : b.seq - a.seq))
      .slice(0, page.limit);
    const rows: Partial<Record<StateField, ProjectionRow[]>> = {};
    const counts: Partial<Record<StateField, StateCount>> = {};
    for (const kind of kinds) rows[stateFields[kind]] = [];
    for (const r of merged) if (inScope(scope, r) && matchesFilters(filters, r)) rows[stateFields[r.kind]]!.push({ ...r, data: JSON.parse(r.data) as Data });
    for (const kind of kinds) {
      // The same predicate as the rows (scopeWhere encodes inScope and matchesFilters for these
      // columns), so a scoped token learns nothing about rows outside its scope, not even how many.
      const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM projections WHERE kind = ? AND ${where.sql}`).get(kind, ...where.params) as { n: number };
      counts[stateFields[kind]] = { total: n, returned: rows[stateFields[kind]]!.length };
    }
    const full = merged.length === page.limit;
    let scanned = 0;
    // Charged for per request; a snapshot (no budget) is bounded by its caps and not charged by rows.
    if (Number.isFinite(perKind)) for (const k of perKindRows) scanned += countScanned(this.db, k.r, k.through, perKind);
    return { rows, counts, next: full ? merged[merged.length - 1]!.seq : (bound ?? null), partial: !full && bound !== undefined, scanned };
  }

  /** The current state, newest rows first, each kind cut at its cap and saying so in `counts`. */
  snapshot(seq: number, scope: TokenScope, filters: KeyFilters, caps: Readonly<Record<StateKind, number>>): Snapshot {
    const out: Record<string, unknown> = {};
    const counts: Record<string, StateCount> = {};
    for (const kind of stateKinds) {
      const r = this.read([kind], scope, filters, { order: 'desc', limit: caps[kind] });
      Object.assign(counts, r.counts);
      Object.assign(out, r.rows);
    }
    // `counts` goes right after `seq` so a human reading a cut-off frame (relaydesk tail) still sees it.
    return { seq, counts, ...out } as Snapshot;
  }

  /** Finished trading orders and mail older than the retained log leave the state with it. */
  pruneBefore(seq: number): number {
    let n = this.db.prepare(`DELETE FROM projections WHERE kind = 'mail' AND seq < ?`).run(seq).changes;
    const terminal = [...TERMINAL_TRADING].map(() => '?').join(',');
    n += this.db
      .prepare(`DELETE FROM projections WHERE kind = 'trading_order' AND seq < ? AND json_extract(data, '$.status') IN (${terminal})`)
      .run(seq, ...TERMINAL_TRADING).changes;
    return n;
  }
}
