import type { Statement } from 'better-sqlite3';
import { inScope, type TokenScope } from '../../shared/scope.ts';
import type { HubEvent } from '../../shared/events.ts';
import { SCOPE_KEY_NAMES } from '../../shared/state-keys.ts';
import type { PageCut } from '../../shared/api.ts';
import { builtinRegistry, type DomainRegistry } from '../../shared/domains/index.ts';
import type { AttachedActions, ProjectionRow, Snapshot, StateCount } from '../../shared/state.ts';
import { attachedActionsOf } from '../../shared/state-changes.ts';
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
  tenant_id: string | null;
  created_at: string;
  updated_at: string;
  data: string;
  /** The row's AttachedActions as JSON; NULL when the event that last changed it carried none. */
  actions: string | null;
}

type Data = Record<string, unknown>;
type KindRow = Row & { kind: string };

/** What a row adds to a page, near enough: its data's JSON and its key (the other fields are small). */
const rowBytes = (r: Row) => r.data.length + (r.actions?.length ?? 0) + r.key.length + 200;

/**
 * Current-state tables (open store orders, trading orders, positions, mail, and the kinds of any
 * other registered domain) derived from the log. `apply` runs inside the same transaction as the log
 * append, so state and log never disagree. Kinds are rows of one table told apart by `kind`, so a
 * domain's kinds need no schema change.
 */
export class Projections {
  private readonly get: Statement;
  private readonly upsert: Statement;
  private readonly remove: Statement;
  /** Session-end deletes, one per combination of carried keys. */
  private readonly endSession = new Map<string, Statement>();

  constructor(
    private readonly db: DB,
    private readonly registry: DomainRegistry = builtinRegistry,
  ) {
    this.get = db.prepare('SELECT * FROM projections WHERE kind = ? AND key = ?');
    this.upsert = db.prepare(
      `INSERT INTO projections (kind, key, store_id, user_id, strategy_id, tenant_id, seq, created_at, updated_at, data, actions)
       VALUES (@kind, @key, @store_id, @user_id, @strategy_id, @tenant_id, @seq, @at, @at, @data, @actions)
       ON CONFLICT(kind, key) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at, data = excluded.data, actions = excluded.actions`,
    );
    this.remove = db.prepare('DELETE FROM projections WHERE kind = ? AND key = ?');
  }

  /**
   * Apply what the event does to the state (its domain's rule, shared/state-changes.ts; the console applies the same).
   * A row's key includes the scope keys of the events that write it, so a row only ever holds data
   * written under its own keys, and a writer reaches no row outside them.
   */
  apply(e: HubEvent): void {
    // The log keeps data as sent; state holds the schema's reading of it (string ids, defaults), so
    // keys and merges do not depend on how a publisher spelled an id. Validated at publish, so never null.
    const c = this.registry.stateChangeOf(e, this.registry.normalize(e.type, e.data) ?? e.data);
    if (!c) return;
    switch (c.op) {
      case 'create':
      case 'patch': {
        const prior = c.op === 'patch' ? (this.get.get(c.kind, c.key) as Row | undefined) : undefined;
        const base: Data = prior ? JSON.parse(prior.data) : {};
        // The buttons are the latest change's only (a patch without any clears them): shared rule.
        const actions = attachedActionsOf(e);
        this.upsert.run({
          kind: c.kind,
          key: c.key,
          store_id: e.store_id,
          user_id: e.user_id,
          strategy_id: e.strategy_id,
          tenant_id: e.tenant_id ?? null,
          seq: e.seq,
          at: e.time,
          data: JSON.stringify({ ...base, ...c.fields }),
          actions: actions ? JSON.stringify(actions) : null,
        });
        return;
      }
      case 'delete':
        this.remove.run(c.kind, c.key);
        return;
      case 'end_session': {
        const keys = SCOPE_KEY_NAMES.filter((k) => c.carried[k] !== undefined);
        // `IS`: an event without a tenant reaches only rows without one (shared/state-keys.ts).
        const sql = `DELETE FROM projections WHERE kind = ? AND json_extract(data, ?) = ? AND tenant_id IS ?${keys.map((k) => ` AND ${k} = ?`).join('')}`;
        let stmt = this.endSession.get(sql);
        if (!stmt) this.endSession.set(sql, (stmt = this.db.prepare(sql)));
        stmt.run(c.kind, `$.${JSON.stringify(c.field)}`, c.value, c.carried.tenant_id, ...keys.map((k) => c.carried[k]!));
        return;
      }
    }
  }

  /**
   * One seq-ordered page across `kinds`, each row under its wire field, and every kind's total in the
   * scope. A projection row's seq is that of the last event that wrote it, and an event writes at
   * most one row, so seq orders rows across kinds without ties and works as the cursor. At most
   * `budget` rows are examined (shared among the kinds); a page the budget cut is `partial`.
   *
   * The page also ends before its rows' JSON would pass `maxBytes` (it always holds at least one
   * row): rows are read one at a time, so rows past the bound are never loaded. `truncated` says
   * whether the row limit or the byte bound ended it.
   */
  read(
    kinds: readonly string[],
    scope: TokenScope,
    filters: KeyFilters,
    page: SeqPage,
    keys?: readonly string[],
    budget = Infinity,
    maxBytes = Infinity,
  ): {
    rows: Partial<Record<string, ProjectionRow[]>>;
    counts: Partial<Record<string, StateCount>>;
    next: number | null;
    partial: boolean;
    scanned: number;
    truncated: PageCut;
  } {
    const where = scopeWhere(scope, filters, '', 'projections');
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
      const rows: KindRow[] = [];
      let bytes = 0;
      let byBytes = false;
      for (const row of this.db
        .prepare(`SELECT * FROM projections WHERE ${[r.where, ...win.where].join(' AND ')} ${range.orderBy} LIMIT ?`)
        .iterate(...r.params, ...win.params, page.limit) as IterableIterator<KindRow>) {
        if (rows.length && bytes + rowBytes(row) > maxBytes) {
          byBytes = true;
          break;
        }
        rows.push(row);
        bytes += rowBytes(row);
      }
      // Rows after a byte cut were not read, like rows past a budget cut: the kind is seen up to its last row.
      const cut = byBytes ? rows[rows.length - 1]!.seq : rows.length < page.limit ? win.cutAt : undefined;
      return { r, rows, cut, byBytes, through: cut ?? (rows.length === page.limit ? rows[rows.length - 1]!.seq : undefined) };
    });
    // A kind cut by the budget or by bytes has unseen rows past its cut, and they sort before any row
    // of another kind further on: the page stops at the nearest cut, and the next page starts there.
    let bound: number | undefined;
    let boundByBytes = false;
    for (const k of perKindRows) {
      if (k.cut === undefined) continue;
      if (bound === undefined || (asc ? k.cut < bound : k.cut > bound)) [bound, boundByBytes] = [k.cut, k.byBytes];
      else if (k.cut === bound) boundByBytes ||= k.byBytes;
    }
    const candidates = perKindRows
      .flatMap((k) => k.rows)
      .filter((r) => bound === undefined || (asc ? r.seq <= bound : r.seq >= bound))
      .sort((a, b) => (asc ? a.seq - b.seq : b.seq - a.seq))
      .slice(0, page.limit);
    // Each kind was bounded alone; the page across them is bounded too.
    const merged: KindRow[] = [];
    let pageBytes = 0;
    let mergedByBytes = false;
    for (const r of candidates) {
      if (merged.length && pageBytes + rowBytes(r) > maxBytes) {
        mergedByBytes = true;
        break;
      }
      merged.push(r);
      pageBytes += rowBytes(r);
    }
    const fields = this.registry.fields;
    const rows: Partial<Record<string, ProjectionRow[]>> = {};
    const counts: Partial<Record<string, StateCount>> = {};
    for (const kind of kinds) rows[fields[kind]!] = [];
    for (const r of merged) {
      if (!inScope(scope, r) || !matchesFilters(filters, r)) continue;
      // A row names its tenant only when it has one, like events: rows without are sent as before.
      // Attached actions likewise: a row without them has no `actions` key at all.
      const { tenant_id, actions, ...rest } = r;
      rows[fields[r.kind]!]!.push({
        ...rest,
        ...(tenant_id != null ? { tenant_id } : {}),
        data: JSON.parse(r.data) as Data,
        ...(actions != null ? { actions: JSON.parse(actions) as AttachedActions } : {}),
      });
    }
    for (const kind of kinds) {
      // The same predicate as the rows (scopeWhere encodes inScope and matchesFilters for these
      // columns), so a scoped token learns nothing about rows outside its scope, not even how many.
      const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM projections WHERE kind = ? AND ${where.sql}`).get(kind, ...where.params) as { n: number };
      counts[fields[kind]!] = { total: n, returned: rows[fields[kind]!]!.length };
    }
    const full = merged.length === page.limit;
    let scanned = 0;
    // Charged for per request; a snapshot (no budget) is bounded by its caps and not charged by rows.
    if (Number.isFinite(perKind)) for (const k of perKindRows) scanned += countScanned(this.db, k.r, k.through, perKind);
    const last = merged[merged.length - 1]?.seq;
    if (mergedByBytes) return { rows, counts, next: last!, partial: false, scanned, truncated: 'bytes' };
    if (full) return { rows, counts, next: last!, partial: false, scanned, truncated: 'rows' };
    return { rows, counts, next: bound ?? null, partial: bound !== undefined && !boundByBytes, scanned, truncated: boundByBytes ? 'bytes' : null };
  }

  /**
   * The current state, newest rows first, each kind cut at its row cap and at `maxBytes` of row JSON,
   * saying so in `counts` (and `truncated`).
   */
  snapshot(seq: number, scope: TokenScope, filters: KeyFilters, caps: Readonly<Record<string, number>> = {}, maxBytes = Infinity): Snapshot {
    const out: Record<string, unknown> = {};
    const counts: Record<string, StateCount> = {};
    let truncated: PageCut = null;
    for (const kind of this.registry.kinds) {
      // A kind the hub's caps do not name (a domain registered at start) keeps its domain's cap.
      const r = this.read([kind], scope, filters, { order: 'desc', limit: caps[kind] ?? this.registry.caps[kind]! }, undefined, Infinity, maxBytes);
      const field = this.registry.fields[kind]!;
      const count = r.counts[field]!;
      if (r.truncated === 'bytes') {
        counts[field] = { ...count, truncated: 'bytes' };
        truncated = 'bytes';
      } else {
        counts[field] = count;
        if (count.returned < count.total) truncated ??= 'rows';
      }
      Object.assign(out, r.rows);
    }
    // `counts` goes right after `seq` so a human reading a cut-off frame (relaydesk tail) still sees it.
    return { seq, truncated, counts, ...out } as Snapshot;
  }

  /**
   * Rows older than the retained log leave the state with it, for the kinds whose domain says so
   * (mail; finished trading orders): what is left is what still matters now.
   */
  pruneBefore(seq: number): number {
    let n = 0;
    for (const kind of this.registry.kinds) {
      const rule = this.registry.kindSpecs[kind]!.prunedWithLog;
      if (rule === true) n += this.db.prepare(`DELETE FROM projections WHERE kind = ? AND seq < ?`).run(kind, seq).changes;
      else if (rule)
        n += this.db
          .prepare(`DELETE FROM projections WHERE kind = ? AND seq < ? AND json_extract(data, ?) IN (${rule.in.map(() => '?').join(',')})`)
          .run(kind, seq, `$.${JSON.stringify(rule.field)}`, ...rule.in).changes;
    }
    return n;
  }
}
