import type { Statement } from 'better-sqlite3';
import { inScope, type TokenScope } from '../../shared/scope.ts';
import type { HubEvent } from '../../shared/events.ts';
import type { ProjectionRow, Snapshot, StateKind } from '../../shared/state.ts';
import type { DB } from './db.ts';
import { scopeWhere, matchesFilters, type KeyFilters } from './scope-sql.ts';

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
    const d = e.data as Data;
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

  list(kind: StateKind, scope: TokenScope, filters: KeyFilters = {}, limit = 5000): ProjectionRow[] {
    const where = scopeWhere(scope, filters);
    const rows = this.db
      .prepare(`SELECT * FROM projections WHERE kind = ? AND ${where.sql} ORDER BY seq DESC LIMIT ?`)
      .all(kind, ...where.params, limit) as Row[];
    return rows
      .filter((r) => inScope(scope, r) && matchesFilters(filters, r))
      .map((r) => ({ ...r, data: JSON.parse(r.data) as Data }));
  }

  snapshot(seq: number, scope: TokenScope, filters: KeyFilters = {}): Snapshot {
    return {
      seq,
      store_orders: this.list('store_order', scope, filters),
      trading_orders: this.list('trading_order', scope, filters),
      positions: this.list('position', scope, filters),
      mail: this.list('mail', scope, filters, 1000),
      mail_sync: this.list('mail_sync', scope, filters),
    };
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
