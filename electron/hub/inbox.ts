import type { DB } from './db.ts';
import type { Priority } from '../../shared/events.ts';
import { inScope, type EventKeys, type TokenScope } from '../../shared/scope.ts';
import { prioritiesFrom, INBOX_DEFAULT_PRIORITY, type InboxChange, type InboxCounts, type InboxItem, type InboxMark, type InboxOp } from '../../shared/inbox.ts';
import { scopeWhere } from './scope-sql.ts';
import { HubError } from './errors.ts';
import { rowToEvent, type EventRow } from './log.ts';

interface Row extends EventRow {
  read_at: string | null;
  dismissed_at: string | null;
}

/**
 * Read and dismissed marks on notable events, per token. Only events in the token's scope can be
 * listed or marked: SQL narrows by scope, and every row is checked again with `inScope`.
 */
export class InboxStore {
  constructor(private readonly db: DB) {}

  private notable(scope: TokenScope, min: Priority, extra: string, params: unknown[], tokenId: string, tail = '') {
    const prios = prioritiesFrom(min);
    const where = scopeWhere(scope, {}, 'e');
    const sql = `SELECT e.seq, e.id, e.type, e.store_id, e.user_id, e.strategy_id, e.tenant_id, e.topics, e.priority, e.time, e.received_at, e.data, e.actions, m.read_at, m.dismissed_at
      FROM events e LEFT JOIN inbox_marks m ON m.token_id = ? AND m.seq = e.seq
      WHERE e.priority IN (${prios.map(() => '?').join(',')}) AND ${where.sql}${extra ? ` AND ${extra}` : ''} ${tail}`;
    return { sql, params: [tokenId, ...prios, ...where.params, ...params] };
  }

  counts(tokenId: string, scope: TokenScope, min: Priority = INBOX_DEFAULT_PRIORITY): InboxCounts {
    const q = this.notable(scope, min, 'm.read_at IS NULL AND m.dismissed_at IS NULL', [], tokenId);
    let unread = 0;
    let urgent = 0;
    for (const r of this.db.prepare(q.sql).iterate(...q.params) as IterableIterator<Row>) {
      if (!inScope(scope, r)) continue;
      unread++;
      if (r.priority === 'urgent') urgent++;
    }
    return { unread, unread_urgent: urgent, min_priority: min };
  }

  /** Newest first, below `before` (exclusive) when given. */
  list(tokenId: string, scope: TokenScope, opts: { min: Priority; before?: number; limit: number; dismissed: boolean }): { items: InboxItem[]; next: number | null } {
    const extra: string[] = [];
    const params: unknown[] = [];
    if (opts.before !== undefined) {
      extra.push('e.seq < ?');
      params.push(opts.before);
    }
    if (!opts.dismissed) extra.push('m.dismissed_at IS NULL');
    const q = this.notable(scope, opts.min, extra.join(' AND '), params, tokenId, 'ORDER BY e.seq DESC LIMIT ?');
    const rows = this.db.prepare(q.sql).all(...q.params, opts.limit) as Row[];
    const items = rows.filter((r) => inScope(scope, r)).map((r) => ({ event: rowToEvent(r), read: r.read_at !== null, dismissed: r.dismissed_at !== null }));
    return { items, next: rows.length === opts.limit ? rows[rows.length - 1]!.seq : null };
  }

  /**
   * Apply a mark. Named seqs must all be events in the scope, or nothing is marked: a seq that does
   * not exist and one outside the scope are refused alike, so the answer tells nothing about others.
   */
  mark(tokenId: string, scope: TokenScope, head: number, op: InboxOp, body: InboxMark): InboxChange {
    const now = new Date().toISOString();
    let seqs: number[];
    if (body.seqs) {
      const get = this.db.prepare('SELECT store_id, user_id, strategy_id, tenant_id, topics FROM events WHERE seq = ?');
      body.seqs.forEach((seq, i) => {
        const r = get.get(seq) as EventKeys | undefined;
        if (!r || !inScope(scope, r))
          throw new HubError(404, 'not_found', `no event ${seq} in this token's scope`, [{ path: `seqs.${i}`, reason: "no such event in this token's scope" }]);
      });
      seqs = [...new Set(body.seqs)];
    } else {
      const q = this.notable(scope, body.min_priority ?? INBOX_DEFAULT_PRIORITY, 'e.seq <= ?', [head], tokenId);
      seqs = (this.db.prepare(q.sql).all(...q.params) as Row[]).filter((r) => inScope(scope, r)).map((r) => r.seq);
    }
    const stmt = this.db.prepare(
      op === 'read'
        ? `INSERT INTO inbox_marks(token_id, seq, read_at) VALUES (?, ?, ?) ON CONFLICT(token_id, seq) DO UPDATE SET read_at = coalesce(read_at, excluded.read_at)`
        : op === 'dismiss'
          ? `INSERT INTO inbox_marks(token_id, seq, dismissed_at) VALUES (?, ?, ?) ON CONFLICT(token_id, seq) DO UPDATE SET dismissed_at = coalesce(dismissed_at, excluded.dismissed_at)`
          : `UPDATE inbox_marks SET read_at = NULL WHERE token_id = ? AND seq = ? AND ? IS NOT NULL`,
    );
    this.db.transaction(() => {
      for (const seq of seqs) stmt.run(tokenId, seq, now);
      // A mark with nothing left in it is no mark: the table holds only what differs from "new".
      if (op === 'unread') this.db.prepare('DELETE FROM inbox_marks WHERE token_id = ? AND read_at IS NULL AND dismissed_at IS NULL').run(tokenId);
    })();
    return {
      op,
      seqs: body.seqs ? seqs : null,
      through: body.all ? head : null,
      all_min_priority: body.all ? (body.min_priority ?? INBOX_DEFAULT_PRIORITY) : null,
      ...this.counts(tokenId, scope),
    };
  }
}
