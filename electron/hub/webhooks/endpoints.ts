import { randomBytes } from 'node:crypto';
import type { TokenScope } from '../../../shared/scope.ts';
import type { DeadLetter, WebhookEndpoint } from '../../../shared/webhooks.ts';
import type { DB } from '../db.ts';

interface EndpointRow {
  id: string;
  url: string;
  secret: string;
  types: string;
  scope: string;
  description: string | null;
  created_by: string | null;
  created_at: string;
  removed_at: string | null;
  cursor: number;
  attempts: number;
  next_at: number;
  delivered: number;
  failed_attempts: number;
  last_success_at: string | null;
  last_error: string | null;
  last_status: number | null;
}

/** What the dispatcher needs of an endpoint: where, how to sign, what to send, and where it is. */
export interface Endpoint {
  id: string;
  url: string;
  secret: string;
  types: string[];
  scope: TokenScope;
  cursor: number;
  attempts: number;
  nextAt: number;
}

const toEndpoint = (r: EndpointRow): Endpoint => ({
  id: r.id,
  url: r.url,
  secret: r.secret,
  types: JSON.parse(r.types) as string[],
  scope: JSON.parse(r.scope) as TokenScope,
  cursor: r.cursor,
  attempts: r.attempts,
  nextAt: r.next_at,
});

/**
 * How long a delivery's cursor advance may wait in memory, and how many deliveries (all endpoints
 * together) may wait at most, before they are written in one transaction. Every commit is an fsync
 * (synchronous=FULL) that blocks the hub's event loop; one per delivery capped a burst's rate and
 * stalled publishes and streams alike. The price is the crash window: a SIGKILL loses at most this
 * much of the bookkeeping, so those deliveries are repeated with the same webhook-id, which
 * receivers already deduplicate (Standard Webhooks is at least once). No event is skipped: the
 * stored cursor only ever trails what was delivered.
 */
export interface CursorBatching {
  flushMs: number;
  maxPending: number;
}

export const CURSOR_BATCHING: CursorBatching = { flushMs: 50, maxPending: 100 };

/** Deliveries to one endpoint since its row was last written: the same effect as that many delivered() writes. */
interface PendingDelivery {
  cursor: number;
  delivered: number;
  lastSuccessAt: number;
}

/** A whsec_ secret of 32 random bytes, the form Standard Webhooks libraries take. */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * Webhook endpoints and their delivery state, in the hub's database. The secret is stored as is:
 * the hub signs with it, so it cannot keep only a hash as it does for tokens.
 */
export class WebhookEndpoints {
  /**
   * Delivered but not yet written. Reads see these applied, so the dispatcher and the API go on
   * from the true position; every other write to the table commits them first, in its own
   * transaction, so rows never see a later state overwritten by an earlier one.
   */
  private readonly pending = new Map<string, PendingDelivery>();
  private pendingCount = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly batching: CursorBatching;
  private readonly warn: (obj: object, msg: string) => void;

  constructor(
    private readonly db: DB,
    opts: { batching?: Partial<CursorBatching>; warn?: (obj: object, msg: string) => void } = {},
  ) {
    this.batching = { ...CURSOR_BATCHING, ...opts.batching };
    this.warn = opts.warn ?? (() => undefined);
  }

  create(input: { url: string; types: string[]; scope: TokenScope; description?: string; secret?: string; createdBy: string; cursor: number }): { endpoint: WebhookEndpoint; secret: string } {
    const id = `wh_${randomBytes(6).toString('hex')}`;
    const secret = input.secret ?? generateSecret();
    this.db
      .prepare(
        `INSERT INTO webhook_endpoints (id, url, secret, types, scope, description, created_by, created_at, cursor)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(id, input.url, secret, JSON.stringify(input.types), JSON.stringify(input.scope), input.description ?? null, input.createdBy, new Date().toISOString(), input.cursor);
    return { endpoint: this.info(id, input.cursor)!, secret };
  }

  /** Active endpoints for the dispatcher. */
  active(): Endpoint[] {
    return this.rows().map(toEndpoint);
  }

  get(id: string): Endpoint | undefined {
    const r = this.row(id);
    return r && toEndpoint(r);
  }

  info(id: string, head: number): WebhookEndpoint | undefined {
    const r = this.row(id);
    return r && this.describe(r, head);
  }

  list(head: number): WebhookEndpoint[] {
    return this.rows().map((r) => this.describe(r, head));
  }

  private row(id: string): EndpointRow | undefined {
    const r = this.db.prepare('SELECT * FROM webhook_endpoints WHERE id = ? AND removed_at IS NULL').get(id) as EndpointRow | undefined;
    return r && this.withPending(r);
  }

  private rows(): EndpointRow[] {
    return (this.db.prepare('SELECT * FROM webhook_endpoints WHERE removed_at IS NULL ORDER BY created_at').all() as EndpointRow[]).map((r) => this.withPending(r));
  }

  /** A row as it will be once its pending deliveries are written (the same columns `write` updates). */
  private withPending(r: EndpointRow): EndpointRow {
    const p = this.pending.get(r.id);
    if (!p) return r;
    return { ...r, cursor: Math.max(r.cursor, p.cursor), attempts: 0, next_at: 0, delivered: r.delivered + p.delivered, last_success_at: new Date(p.lastSuccessAt).toISOString(), last_error: null, last_status: null };
  }

  remove(id: string): boolean {
    return this.write(() => {
      // Its dead letters could never be redelivered or cleared once the endpoint is gone.
      this.db.prepare('DELETE FROM webhook_dead WHERE endpoint_id = ?').run(id);
      return this.db.prepare('UPDATE webhook_endpoints SET removed_at = ? WHERE id = ? AND removed_at IS NULL').run(new Date().toISOString(), id).changes > 0;
    });
  }

  /**
   * Delivered (2xx): the cursor moves past the event and the retry state clears. Written with the
   * other deliveries of the same short window (CursorBatching), or sooner with any other write.
   */
  delivered(id: string, seq: number, now: number): void {
    const p = this.pending.get(id);
    if (p) {
      p.cursor = Math.max(p.cursor, seq);
      p.delivered++;
      p.lastSuccessAt = now;
    } else this.pending.set(id, { cursor: seq, delivered: 1, lastSuccessAt: now });
    this.pendingCount++;
    if (this.pendingCount >= this.batching.maxPending || this.batching.flushMs <= 0) this.flush();
    else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flushLater(), this.batching.flushMs);
      this.flushTimer.unref();
    }
  }

  /** Write every pending delivery now (shutdown, or a caller that needs them on disk). */
  flush(): void {
    if (this.pending.size) this.write(() => undefined);
  }

  private flushLater(): void {
    this.flushTimer = undefined;
    // Closed under us (the hub stopped without flushing): those deliveries will be repeated.
    if (!this.db.open) return;
    try {
      this.flush();
    } catch (err) {
      // Still pending: the next delivery or write tries again, and reads keep seeing them.
      this.warn({ err }, 'webhook cursor write failed; will retry');
      if (!this.flushTimer) {
        this.flushTimer = setTimeout(() => this.flushLater(), Math.max(this.batching.flushMs, 1_000));
        this.flushTimer.unref();
      }
    }
  }

  /**
   * One transaction: the pending deliveries first (they happened before whatever `fn` records), then
   * `fn`. They leave memory only once it committed, so a failed write loses nothing.
   */
  private write<T>(fn: () => T): T {
    const batch = [...this.pending];
    const stmt = batch.length
      ? this.db.prepare('UPDATE webhook_endpoints SET cursor = MAX(cursor, ?), attempts = 0, next_at = 0, delivered = delivered + ?, last_success_at = ?, last_error = NULL, last_status = NULL WHERE id = ?')
      : undefined;
    const out = this.db.transaction(() => {
      for (const [id, p] of batch) stmt!.run(p.cursor, p.delivered, new Date(p.lastSuccessAt).toISOString(), id);
      return fn();
    })();
    if (batch.length) {
      this.pending.clear();
      this.pendingCount = 0;
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    return out;
  }

  /** Nothing to send up to `seq` (out of scope or filtered out): move the cursor without a delivery. */
  skip(id: string, seq: number): void {
    this.write(() => this.db.prepare('UPDATE webhook_endpoints SET cursor = MAX(cursor, ?) WHERE id = ?').run(seq, id));
  }

  failed(id: string, attempts: number, nextAt: number, error: string, status: number | null): void {
    this.write(() =>
      this.db
        .prepare('UPDATE webhook_endpoints SET attempts = ?, next_at = ?, failed_attempts = failed_attempts + 1, last_error = ?, last_status = ? WHERE id = ?')
        .run(attempts, nextAt, error.slice(0, 500), status, id),
    );
  }

  /** Out of attempts: the event goes to the dead-letter list and the endpoint moves on, in one transaction. */
  dead(id: string, letter: Omit<DeadLetter, 'endpoint_id' | 'dead_at'>, now: number): void {
    this.write(() => {
      this.db
        .prepare('INSERT OR REPLACE INTO webhook_dead (endpoint_id, seq, webhook_id, type, attempts, last_error, last_status, dead_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(id, letter.seq, letter.webhook_id, letter.type, letter.attempts, letter.last_error?.slice(0, 500) ?? null, letter.last_status, new Date(now).toISOString());
      this.db
        .prepare('UPDATE webhook_endpoints SET cursor = MAX(cursor, ?), attempts = 0, next_at = 0, failed_attempts = failed_attempts + 1, last_error = ?, last_status = ? WHERE id = ?')
        .run(letter.seq, letter.last_error?.slice(0, 500) ?? null, letter.last_status, id);
    });
  }

  /** The newest dead letters of these endpoints (the caller passes only those it may see). */
  deadLetters(endpointIds: readonly string[], limit = 500): DeadLetter[] {
    if (!endpointIds.length) return [];
    return this.db
      .prepare(`SELECT * FROM webhook_dead WHERE endpoint_id IN (${endpointIds.map(() => '?').join(',')}) ORDER BY dead_at DESC, seq DESC LIMIT ?`)
      .all(...endpointIds, limit) as DeadLetter[];
  }

  deadLetter(endpointId: string, seq: number): DeadLetter | undefined {
    return this.db.prepare('SELECT * FROM webhook_dead WHERE endpoint_id = ? AND seq = ?').get(endpointId, seq) as DeadLetter | undefined;
  }

  forgetDeadLetter(endpointId: string, seq: number): number {
    return this.db.prepare('DELETE FROM webhook_dead WHERE endpoint_id = ? AND seq = ?').run(endpointId, seq).changes;
  }

  /** Delete the dead letters of these endpoints: all of them, or those that died before `before` (ISO). */
  purgeDead(endpointIds: readonly string[], before?: string): number {
    if (!endpointIds.length) return 0;
    const ids = endpointIds.map(() => '?').join(',');
    // dead_at is written by toISOString(), so text order is time order.
    const when = before === undefined ? '' : ' AND dead_at < ?';
    return this.db.prepare(`DELETE FROM webhook_dead WHERE endpoint_id IN (${ids})${when}`).run(...endpointIds, ...(before === undefined ? [] : [before])).changes;
  }

  /**
   * Retention: a dead letter whose event the log no longer holds can never be redelivered, so it
   * goes with the event. The list is therefore bounded by the log's own retention.
   */
  pruneDeadBefore(seq: number): number {
    return this.db.prepare('DELETE FROM webhook_dead WHERE seq < ?').run(seq).changes;
  }

  private describe(r: EndpointRow, head: number): WebhookEndpoint {
    const dead = (this.db.prepare('SELECT COUNT(*) AS n FROM webhook_dead WHERE endpoint_id = ?').get(r.id) as { n: number }).n;
    return {
      id: r.id,
      url: r.url,
      types: JSON.parse(r.types) as string[],
      scope: JSON.parse(r.scope) as TokenScope,
      description: r.description,
      created_at: r.created_at,
      cursor: r.cursor,
      delivered: r.delivered,
      failed_attempts: r.failed_attempts,
      dead,
      backlog: Math.max(0, head - r.cursor),
      retrying: r.attempts,
      next_attempt_at: r.attempts > 0 && r.next_at > 0 ? new Date(r.next_at).toISOString() : null,
      last_success_at: r.last_success_at,
      last_error: r.last_error,
      last_status: r.last_status,
    };
  }
}
