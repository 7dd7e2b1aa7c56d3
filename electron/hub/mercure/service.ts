import { randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import { MERCURE_UPDATE } from '../../../shared/domains/mercure.ts';
import type { DB } from '../db.ts';
import type { EventLog, LoggedEvent } from '../log.ts';
import type { ValidEvent } from '../../../shared/events.ts';
import { MercureAuth, type MercureOptions } from './auth.ts';
import { EARLIEST, updateEvent, updateOf } from './update.ts';
import { JSONLD_CONTEXT, SubscriptionRegistry, type ActiveSubscriber } from './subscriptions.ts';

/** Whether the options turn the protocol on: a publisher or a subscriber key. */
export function mercureEnabled(opts: MercureOptions | undefined): opts is MercureOptions {
  return !!opts && !!(opts.publisherKey || opts.subscriberKey);
}

/** Where a subscriber starts: after `cursor` (a log seq), telling it `responseId` as its Last-Event-ID. */
export interface ResumePoint {
  cursor: number;
  /** The id of the update before the first one sent, or `earliest` when there is none. */
  responseId: string;
}

/**
 * The Mercure protocol's state on one hub: JWT verification, the active subscriptions, and the
 * way from an update id back to a position in the log.
 */
export class MercureService {
  readonly subscriptions = new SubscriptionRegistry();
  private readonly byUpdateId: Statement;
  private readonly newest: Statement;
  private lastId: string;

  readonly auth: MercureAuth;

  constructor(
    readonly opts: MercureOptions,
    db: DB,
    private readonly log: EventLog,
    private readonly publish: (events: ValidEvent[]) => Promise<unknown>,
  ) {
    this.auth = new MercureAuth(opts);
    // The partial index events_mercure_id (db.ts) holds update rows only: a lookup reads none of the rest.
    this.byUpdateId = db.prepare(`SELECT seq FROM events WHERE type = '${MERCURE_UPDATE}' AND json_extract(data, '$.id') = ? ORDER BY seq DESC LIMIT 1`);
    this.newest = db.prepare('SELECT data FROM events WHERE type = ? ORDER BY seq DESC LIMIT 1');
    const row = this.newest.get(MERCURE_UPDATE) as { data: string } | undefined;
    this.lastId = row ? (JSON.parse(row.data) as { id: string }).id : EARLIEST;
  }

  /** The id of the newest update in the log (`earliest` when there is none), for the subscriptions API. */
  get lastEventId(): string {
    return this.lastId;
  }

  /** Called with every commit (this hub's and, on the Redis engine, the others'). */
  observe(events: readonly LoggedEvent[]): void {
    for (let i = events.length - 1; i >= 0; i--) {
      const u = updateOf(events[i]!.event);
      if (u) {
        this.lastId = u.id;
        return;
      }
    }
  }

  /**
   * Where a subscriber resumes. `earliest` replays everything the log retains; a known update id
   * replays what came after it (after its newest use, when a publisher used it twice); an unknown one (never published here, or pruned) replays nothing
   * and says `earliest`, the protocol's sign that the subscriber should fetch the resource again.
   */
  resumePoint(lastEventId: string | undefined): ResumePoint | null {
    if (lastEventId === undefined) return null;
    if (lastEventId === EARLIEST) return { cursor: this.log.prunedThrough, responseId: EARLIEST };
    const row = this.byUpdateId.get(lastEventId) as { seq: number } | undefined;
    if (!row) return { cursor: this.log.head, responseId: EARLIEST };
    return { cursor: row.seq, responseId: lastEventId };
  }

  /**
   * Subscription events: one private update per topic selector of the subscriber, on
   * `/.well-known/mercure/subscriptions/{topic}/{subscriber}`, written to the log like any update.
   */
  async announce(s: ActiveSubscriber, active: boolean): Promise<void> {
    if (!this.opts.subscriptions) return;
    const events = this.subscriptions.docsOf(s, active).map((doc) =>
      updateEvent({ id: `urn:uuid:${randomUUID()}`, topics: [doc.id], data: JSON.stringify({ '@context': JSONLD_CONTEXT, ...doc }, null, 2), private: true }),
    );
    await this.publish(events);
  }
}
