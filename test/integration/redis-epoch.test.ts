import { afterAll, describe, expect, it } from 'vitest';
import { redisEngineFactory } from '../../electron/hub/bus/redis.ts';
import type { Hub } from '../../electron/hub/hub.ts';
import { ADMIN, api, publish, startTestHub, until, type TestHub } from '../helpers/hub.ts';
import { Subscriber } from '../helpers/sse.ts';
import { sample } from '../helpers/events.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';

const hubOpts = { heartbeatMs: 250, retryMs: 200 };

/** Every event in a hub's log with the epoch its seq was handed out in. */
const logOf = (h: Hub) => h.log.readAfter(0, 1000, () => true).events.map((e) => ({ seq: e.event.seq, id: e.event.id, epoch: e.epoch }));

describe('Redis engine when Redis loses its data (restart without persistence)', () => {
  let redis: TestRedis | undefined;
  const hubs: TestHub[] = [];
  const subs: Subscriber[] = [];
  afterAll(async () => {
    for (const s of subs) s.close();
    for (const h of hubs) await h.stop().catch(() => {});
    await redis?.stop();
  });

  it('never acks into a forked history: the hub that was away is forked, the other continues in a new epoch, clients get reset epoch_changed', async () => {
    redis = await startRedis({ aof: false });
    const factory = redisEngineFactory(redis.url, { prefix: '{epoch}', commitTimeoutMs: 8000, epochSettleMs: 1500 });
    const A = await startTestHub(hubOpts, factory);
    const B = await startTestHub(hubOpts, factory);
    hubs.push(A, B);
    const acked = new Map<TestHub, Map<number, string>>([
      [A, new Map()],
      [B, new Map()],
    ]);
    const pub = async (h: TestHub, id: string) => {
      const r = await publish(h.url, sample.storeOrder(12, { id }));
      if (r.status === 201) acked.get(h)!.set(r.body.results[0].seq, id);
      return r;
    };

    for (let i = 1; i <= 3; i++) expect((await pub(A, `both-${i}`)).status).toBe(201);
    await until(() => A.hub.log.head === 3 && B.hub.log.head === 3, 'both hubs applied 1..3');
    const onB = new Subscriber(B.url, { lastEventId: '0' });
    subs.push(onB);

    // Stop A; B publishes 3 more; stop B; Redis comes back empty; A publishes; B comes back.
    await A.hub.close();
    for (let i = 1; i <= 3; i++) expect((await pub(B, `b-only-${i}`)).status).toBe(201);
    await onB.waitForEvents(6);
    const lastOnB = onB.all.filter((r) => r.name === 'message').at(-1)!.lastEventId;
    onB.close();
    await B.hub.close();
    await redis.kill();
    await redis.start();
    await A.restart();
    for (let i = 1; i <= 3; i++) {
      const r = await pub(A, `a-after-${i}`);
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
    await B.restart();

    // No acked event is missing from the log of the hub that acked it.
    for (const h of [A, B]) {
      const log = new Map(logOf(h.hub).map((e) => [e.seq, e.id]));
      for (const [seq, id] of acked.get(h)!) expect(log.get(seq), `${id} acked as seq ${seq}`).toBe(id);
    }
    // No two different events hold the same position (seq and epoch) on the two hubs.
    const positions = new Map<string, string>();
    for (const h of [A, B])
      for (const e of logOf(h.hub)) {
        const pos = `${e.seq}@${e.epoch}`;
        expect(positions.get(pos) ?? e.id, `position ${pos}`).toBe(e.id);
        positions.set(pos, e.id);
      }
    expect(logOf(A.hub).map((e) => e.epoch)[3]).not.toBe(logOf(A.hub).map((e) => e.epoch)[0]);

    // B holds a history the shared log left: it says so and refuses to ack into it.
    const refused = await pub(B, 'b-late');
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('log_forked');
    const health = await api(B.url, '/healthz', { token: null });
    expect(health.status).toBe(503);
    expect(health.body.status).toBe('forked');
    const stats = await api(B.url, '/v1/stats');
    expect(stats.body.bus.fork).toMatchObject({ head: 6, redis_base: 3 });
    expect((await api(A.url, '/healthz', { token: null })).status).toBe(200);
    expect((await api(A.url, '/v1/stats')).body.bus.fork).toBeNull();
    // A's events never reach B's log (it keeps its own 4..6).
    expect(logOf(B.hub).map((e) => e.id)).toEqual(['both-1', 'both-2', 'both-3', 'b-only-1', 'b-only-2', 'b-only-3']);

    // A client that read B's 4..6 and resumes on A is told its history is gone, then gets a snapshot.
    expect(lastOnB).toMatch(/^6@/);
    const moved = new Subscriber(A.url, {}, ADMIN, { 'last-event-id': lastOnB });
    subs.push(moved);
    const reset = await moved.waitFor('reset');
    expect(reset.data).toMatchObject({ reason: 'epoch_changed', requested: 6, requested_epoch: lastOnB.split('@')[1] });
    await moved.waitFor('initial');
    // One that stopped at 3 (common to both histories) resumes on A without a reset.
    const common = new Subscriber(A.url, {}, ADMIN, { 'last-event-id': onB.all.filter((r) => r.name === 'message')[2]!.lastEventId });
    subs.push(common);
    expect((await common.waitForEvents(3)).map((e) => e.id)).toEqual(['a-after-1', 'a-after-2', 'a-after-3']);
    expect(common.named('reset')).toHaveLength(0);
  });
});
