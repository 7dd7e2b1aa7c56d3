import type { Redis } from 'ioredis';
import type { EngineLogger } from '../engine.ts';
import { controlChangeSchema, type ControlChange, type ControlOutcome, type ControlPlane, type ControlReplicator } from '../control.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { getMeta, setMeta, type DB } from '../db.ts';
import { BOOTSTRAP_ADMIN_ID, type TokenRow } from '../tokens.ts';
import { HubError } from '../errors.ts';

const APPLIED_KEY = 'redis_control_applied';

const shutDown = () => new HubError(503, 'shutting_down', 'the hub shut down before applying this change; check its state on another hub', undefined, { 'retry-after': '2' });

interface Waiter {
  id: string;
  resolve: (o: ControlOutcome) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Stream ids are `<ms>-<n>`; compare them as numbers, not strings. */
function idAtLeast(a: string, b: string): boolean {
  const [am, an] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bn] = b.split('-').map(BigInt) as [bigint, bigint];
  return am > bm || (am === bm && an >= bn);
}

/**
 * Token and strategy changes for every hub on one Redis (docs/scaling.md): a second, small stream,
 * `<prefix>:control`, never trimmed (a hub that joins later replays it whole, so it knows every
 * token). The hub that makes a change XADDs it and answers once its own tail has applied it, exactly
 * as publishes wait for their own commit; every other hub applies it as it tails.
 */
export class RedisControl implements ControlReplicator {
  private cursor: string;
  private waiters: Waiter[] = [];
  private outcomes = new Map<string, ControlOutcome>();
  private closing = false;
  private loopDone: Promise<void> = Promise.resolve();
  caughtUp = false;
  /** Entries every hub skipped as unreadable (logged each time). */
  readonly counters = { skipped: 0 };

  constructor(
    private readonly cmd: Redis,
    private readonly tail: Redis,
    private readonly key: string,
    private readonly db: DB,
    private readonly plane: ControlPlane,
    private readonly logger: EngineLogger,
    private readonly o: { blockMs: number; commitTimeoutMs: number; minReplicas: number; replicaTimeoutMs: number },
  ) {
    this.cursor = getMeta(db, APPLIED_KEY) ?? '0-0';
  }

  start(): void {
    this.loopDone = this.loop();
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(shutDown());
    }
    await this.loopDone;
  }

  async replicate(change: ControlChange): Promise<ControlOutcome> {
    if (this.closing) throw new HubError(503, 'shutting_down', 'the hub is shutting down; retry against another hub', undefined, { 'retry-after': '2' });
    // This hub must be able to apply it too, or it would answer 503 for a change every other hub made.
    if (this.cmd.status !== 'ready' || this.tail.status !== 'ready' || !this.caughtUp)
      throw new HubError(
        503,
        'redis_unavailable',
        `the Redis bus is unavailable (${this.cmd.status !== 'ready' ? `not connected: ${this.cmd.status}` : 'this hub is not caught up with the control stream'}); the change was not made on any hub, retry later`,
        undefined,
        { 'retry-after': '2' },
      );
    let id: string;
    try {
      id = (await this.cmd.xadd(this.key, '*', 'c', JSON.stringify(change)))!;
    } catch (err) {
      throw new HubError(503, 'redis_unavailable', `the Redis bus is unavailable (${(err as Error).message}); the change may or may not have reached the other hubs, check and retry`, undefined, {
        'retry-after': '2',
      });
    }
    if (this.o.minReplicas > 0) {
      const got = await this.cmd.wait(this.o.minReplicas, this.o.replicaTimeoutMs).catch(() => -1);
      if (got < this.o.minReplicas)
        throw new HubError(503, 'redis_not_replicated', `Redis stored the change but only ${Math.max(got, 0)} of ${this.o.minReplicas} replica(s) confirmed it within ${this.o.replicaTimeoutMs} ms; check its state and retry`, undefined, {
          'retry-after': '2',
        });
    }
    return this.whenApplied(id);
  }

  private whenApplied(id: string): Promise<ControlOutcome> {
    const done = this.outcomes.get(id);
    if (done) {
      this.outcomes.delete(id);
      return Promise.resolve(done);
    }
    if (this.closing) return Promise.reject(shutDown());
    // Our cursor is past an entry we never applied: the stream was replaced under us (see continuity()).
    if (idAtLeast(this.cursor, id))
      return Promise.reject(new HubError(503, 'redis_error', `Redis gave the change an id (${id}) this hub had already passed: the control stream was reset; check the change and retry`, undefined, { 'retry-after': '2' }));
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        id,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(
            new HubError(503, 'redis_apply_timeout', `Redis stored the change (${id}) but this hub has not applied it within ${this.o.commitTimeoutMs} ms; every hub applies it once it catches up`, undefined, {
              'retry-after': '2',
            }),
          );
        }, this.o.commitTimeoutMs),
      };
      this.waiters.push(w);
    });
  }

  private async loop(): Promise<void> {
    let backoff = 50;
    while (!this.closing) {
      try {
        if (this.tail.status !== 'ready') {
          this.caughtUp = false;
          await sleep(50);
          continue;
        }
        if (!this.caughtUp) await this.continuity();
        const reply = (
          this.caughtUp
            ? await this.tail.xread('COUNT', 100, 'BLOCK', this.o.blockMs, 'STREAMS', this.key, this.cursor)
            : await this.tail.xread('COUNT', 100, 'STREAMS', this.key, this.cursor)
        ) as [string, [string, string[]][]][] | null;
        const entries = reply?.[0]?.[1] ?? [];
        for (const [id, fields] of entries) {
          const outcome = this.db.transaction(() => {
            const o = this.applyOne(id, fields);
            setMeta(this.db, APPLIED_KEY, id);
            return o;
          })();
          this.cursor = id;
          this.settle(id, outcome);
        }
        if (entries.length < 100) this.caughtUp = true;
        backoff = 50;
      } catch (err) {
        if (this.closing) break;
        this.caughtUp = false;
        this.logger.warn({ err: (err as Error).message }, 'redis control tail failed; retrying');
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 1000);
      }
    }
  }

  /**
   * On every (re)connect: is the stream still the one we followed? A Redis that lost data (restarted
   * without AOF, flushed, failed over asynchronously) has no entry up to our cursor. Then start over at
   * its beginning, and put back what can safely be said again: every token this hub knows, and every
   * revocation (both only ever move one way). Strategy states can be changed either way by any hub, so
   * they are reported, not replayed.
   */
  private async continuity(): Promise<void> {
    if (this.cursor === '0-0') return;
    let last = '0-0';
    try {
      const info = (await this.tail.call('XINFO', 'STREAM', this.key)) as (string | number)[];
      last = String(info[info.indexOf('last-generated-id') + 1]);
    } catch (err) {
      if (!/no such key/i.test((err as Error).message)) throw err;
    }
    if (idAtLeast(last, this.cursor)) return;
    this.logger.error({ cursor: this.cursor, streamLast: last }, 'the Redis control stream is behind this hub (Redis lost data?): restating this hub\'s tokens and revocations');
    const tokens = this.db.prepare('SELECT * FROM tokens WHERE id != ? ORDER BY created_at').all(BOOTSTRAP_ADMIN_ID) as TokenRow[];
    for (const t of tokens) {
      // A revoked token is restated revoked: a hub that pruned its row (POST /v1/tokens/prune) then
      // stores it revoked, instead of live until the revoke below arrives.
      const change: ControlChange = { op: 'token.create', row: { ...t, last_used_at: null } };
      await this.cmd.xadd(this.key, '*', 'c', JSON.stringify(change));
    }
    for (const t of tokens.filter((x) => x.revoked_at)) await this.cmd.xadd(this.key, '*', 'c', JSON.stringify({ op: 'token.revoke', id: t.id, at: t.revoked_at! } satisfies ControlChange));
    const inactive = (this.db.prepare('SELECT strategy_id FROM strategies WHERE active = 0').all() as { strategy_id: string }[]).map((r) => r.strategy_id);
    if (inactive.length) this.logger.error({ inactive }, 'strategy states were not restated to the other hubs; deactivate these again where needed');
    this.cursor = '0-0';
    setMeta(this.db, APPLIED_KEY, this.cursor);
  }

  private applyOne(id: string, fields: string[]): ControlOutcome {
    let parsed: ReturnType<typeof controlChangeSchema.safeParse>;
    try {
      parsed = controlChangeSchema.safeParse(JSON.parse(fields[fields.indexOf('c') + 1] ?? 'null'));
    } catch {
      parsed = controlChangeSchema.safeParse(null);
    }
    if (!parsed.success) {
      // Written by something that is not a hub of this version: skipping it is all any hub can do,
      // and every hub skips it the same way.
      this.counters.skipped++;
      this.logger.error({ id }, 'unreadable entry in the Redis control stream; skipped');
      return { disconnected: 0 };
    }
    return this.plane.apply(parsed.data);
  }

  private settle(id: string, outcome: ControlOutcome): void {
    const w = this.waiters.find((x) => x.id === id);
    if (w) {
      this.waiters = this.waiters.filter((x) => x !== w);
      clearTimeout(w.timer);
      w.resolve(outcome);
      return;
    }
    // This hub's own XADD reply can arrive after its tail applied the entry: keep recent outcomes.
    this.outcomes.set(id, outcome);
    if (this.outcomes.size > 1000) this.outcomes.delete(this.outcomes.keys().next().value!);
  }
}
