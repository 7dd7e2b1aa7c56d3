import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Hub } from '../../electron/hub/hub.ts';
import { redisEngineFactory, redisTarget, type RedisEngine } from '../../electron/hub/bus/redis.ts';
import { ADMIN, allEvents, api, createToken, publish, sleep, startTestHub, until, type TestHub } from '../helpers/hub.ts';
import { Subscriber } from '../helpers/sse.ts';
import { sample } from '../helpers/events.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import type { HubEvent } from '../../shared/events.ts';

const hubOpts = { heartbeatMs: 250, retryMs: 200 };
const engineOf = (h: Hub) => h.engine as unknown as RedisEngine;
const key = (e: HubEvent) => `${e.seq}:${e.id}`;

function expectCleanSequence(events: HubEvent[]): void {
  const seqs = events.map((e) => e.seq);
  for (let i = 1; i < seqs.length; i++) expect(seqs[i]!, `order at ${i}`).toBeGreaterThan(seqs[i - 1]!);
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
}

describe('three hubs through Redis Streams', () => {
  let redis: TestRedis;
  const hubs: TestHub[] = [];
  const subs: Subscriber[] = [];
  let extraHub: Hub | undefined;

  beforeAll(async () => {
    redis = await startRedis({ aof: true });
  });

  afterAll(async () => {
    for (const s of subs) s.close();
    await extraHub?.close().catch(() => {});
    for (const h of hubs) await h.stop().catch(() => {});
    await redis?.stop();
  });

  it('keeps one complete, ordered, duplicate-free sequence across Redis and hub restarts', async () => {
    const factory = redisEngineFactory(redis.url, { commitTimeoutMs: 3000 });
    for (let i = 0; i < 3; i++) hubs.push(await startTestHub(hubOpts, factory));
    const [A, B, C] = hubs as [TestHub, TestHub, TestHub];
    const urlB = B.url;
    for (const h of hubs) subs.push(new Subscriber(h.url));
    const [sA, sB, sC] = subs as [Subscriber, Subscriber, Subscriber];
    await until(() => subs.every((s) => s.named('connection').length === 1), 'three subscribers connected');

    const acked = new Map<string, number>();
    const bodies = new Map<string, unknown>();
    const refused = new Set<string>();
    let n = 0;
    const pub = async (url: string, id = `rr-${n++}`) => {
      const body = bodies.get(id) ?? sample.storeOrder(7, { id });
      bodies.set(id, body);
      const r = await publish(url, body);
      if (r.status === 201) {
        acked.set(id, r.body.results[0].seq);
        refused.delete(id);
      } else refused.add(id);
      return r;
    };
    const roundRobin = async (count: number, targets: string[], parallel = 3) => {
      for (let i = 0; i < count; i += parallel) {
        const rs = await Promise.all(Array.from({ length: Math.min(parallel, count - i) }, (_, k) => pub(targets[(i + k) % targets.length]!)));
        for (const r of rs) expect(r.status, JSON.stringify(r.body)).toBe(201);
      }
    };
    const urls = () => hubs.map((h) => h.url);

    // 1. Normal operation: round-robin, three publishes in flight at a time.
    await roundRobin(60, urls());
    for (const s of subs) await s.waitForEvents(60);
    const stats = await api(A.url, '/v1/stats');
    expect(stats.body.bus).toMatchObject({ engine: 'redis', connected: true });
    expect(typeof stats.body.bus.lag_ms).toBe('number');

    // 2. Redis SIGKILLed while three publishers are running: nothing is acknowledged that Redis did
    //    not store, publishes during the outage get 503, streams stay open with heartbeats.
    const opened = subs.map((s) => s.opened);
    let running = true;
    const statuses: number[] = [];
    const lanes = [0, 1, 2].map(async (lane) => {
      for (let i = 0; i < 400 && running; i++) {
        statuses.push((await pub(urls()[lane]!)).status);
        await sleep(5);
      }
    });
    await until(() => statuses.length >= 30, 'traffic before the kill');
    await redis.kill();
    await until(() => hubs.every((h) => !h.hub.engine.status().connected), 'hubs notice Redis is gone');
    await sleep(300);
    running = false;
    await Promise.all(lanes);
    expect(statuses.every((s) => s === 201 || s === 503), `statuses ${[...new Set(statuses)]}`).toBe(true);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    const beatsBefore = sA.named('heartbeat').length;
    const outageIds: string[] = [];
    for (let i = 0; i < 9; i++) {
      const id = `outage-${i}`;
      outageIds.push(id);
      const r = await pub(urls()[i % 3]!, id);
      expect(r.status).toBe(503);
      expect(r.body.error?.code ?? r.body.code).toBe('redis_unavailable');
      expect(r.headers.get('retry-after')).toBeTruthy();
    }
    await until(() => sA.named('heartbeat').length >= beatsBefore + 2, 'heartbeats during the outage');
    const outage = await api(B.url, '/v1/stats');
    expect(outage.body.bus.connected).toBe(false);
    expect(outage.body.bus.lag_ms).toBeGreaterThan(0);
    expect(subs.map((s) => s.opened)).toEqual(opened);

    // 3. Redis back (AOF kept the data): the hubs reconnect and resume by themselves.
    await redis.start();
    await until(() => hubs.every((h) => h.hub.engine.status().connected), 'hubs reconnect to Redis', 15_000);
    const maxAcked = Math.max(...acked.values());
    await until(() => hubs.every((h) => h.hub.log.head >= maxAcked), 'hubs caught up');
    for (const h of hubs) expect(h.hub.log.readAfter(0, 10_000, () => true).events.filter((e) => outageIds.includes(e.event.id))).toEqual([]);
    // Publishers retry what was refused with the same ids: landed ones are deduplicated.
    const retried = [...refused];
    for (const [i, id] of retried.entries()) {
      const r = await pub(urls()[i % 3]!, id);
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
    expect(refused.size).toBe(0);
    await roundRobin(30, urls());
    for (const s of subs) await s.waitForEvents(acked.size);

    // 4. Hub B goes away; events published meanwhile reach its subscriber after B restarts.
    const portB = B.hub.port;
    await B.hub.close();
    await roundRobin(15, [A.url, C.url], 2);
    extraHub = await Hub.start({ ...hubOpts, port: portB, dbFile: B.dbFile, adminToken: ADMIN, logLevel: 'silent' }, { engineFactory: factory });
    expect(extraHub.url).toBe(urlB);
    expect(extraHub.log.head).toBeGreaterThanOrEqual(Math.max(...acked.values()));
    await sB.waitForEvents(acked.size, 15_000);

    // 5. A client moves from A to C with its Last-Event-ID and gets exactly what it missed.
    const mover = new Subscriber(A.url);
    subs.push(mover);
    await mover.waitFor('connection');
    await roundRobin(6, [A.url, extraHub.url, C.url]);
    await mover.waitForEvents(6);
    mover.close();
    const lastSeen = mover.events.at(-1)!.seq;
    const before = new Set(acked.keys());
    await roundRobin(12, [A.url, extraHub.url, C.url]);
    const missed = [...acked.keys()].filter((id) => !before.has(id));
    const moved = new Subscriber(C.url, {}, ADMIN, { 'last-event-id': String(lastSeen) });
    subs.push(moved);
    await moved.waitForEvents(12);
    await sleep(300);
    expect(moved.events.map((e) => e.id).sort()).toEqual(missed.sort());
    expect(moved.events[0]!.seq).toBeGreaterThan(lastSeen);

    // 6. Everyone ends with the same complete, ordered, duplicate-free sequence of acked events.
    const total = acked.size;
    expect(total).toBe(n + outageIds.length);
    for (const s of [sA, sB, sC]) await s.waitForEvents(total, 15_000);
    await sleep(300);
    const ref = sA.events;
    expectCleanSequence(ref);
    expect(ref.map((e) => e.id).sort()).toEqual([...acked.keys()].sort());
    for (const e of ref) expect(e.seq).toBe(acked.get(e.id));
    for (const s of [sB, sC]) expect(s.events.map(key)).toEqual(ref.map(key));
    // The local replicas are identical, received_at included.
    const dump = (h: Hub) => h.log.readAfter(0, 10_000, () => true).events.map((e) => e.json);
    expect(dump(extraHub)).toEqual(dump(A.hub));
    expect(dump(C.hub)).toEqual(dump(A.hub));
    for (const h of [A.hub, extraHub, C.hub]) expect(engineOf(h).counters.gaps).toBe(0);
    expect(await engineOf(C.hub).whenApplied(ref.at(-1)!.seq, 1000)).toBe(true);
    expect(await engineOf(C.hub).whenApplied(ref.at(-1)!.seq + 1, 50)).toBe(false);
    await extraHub.close();
    extraHub = undefined;
  });
});

describe('Redis engine details', () => {
  let redis: TestRedis;
  const hubs: TestHub[] = [];
  const subs: Subscriber[] = [];

  beforeAll(async () => {
    redis = await startRedis({ aof: false });
  });
  afterAll(async () => {
    for (const s of subs) s.close();
    for (const h of hubs) await h.stop().catch(() => {});
    await redis?.stop();
  });

  it('uses the Redis engine when only opts.redisUrl is given (as serve --redis does)', async () => {
    const A = await startTestHub({ ...hubOpts, redisUrl: redis.url });
    hubs.push(A);
    expect(A.hub.engine.kind).toBe('redis');
    expect((await publish(A.url, sample.mail('u1', { id: 'url-1' }))).status).toBe(201);
  });

  it('deduplicates publisher ids globally and refuses reused ids with different content', async () => {
    const factory = redisEngineFactory(redis.url, { prefix: '{dedup}' });
    const A = await startTestHub(hubOpts, factory);
    const B = await startTestHub(hubOpts, factory);
    hubs.push(A, B);
    const ev = sample.mail('u1', { id: 'mail-1' });
    const first = await publish(A.url, ev);
    expect(first.status).toBe(201);
    const again = await publish(B.url, ev);
    expect(again.status).toBe(201);
    expect(again.body.results[0]).toMatchObject({ seq: first.body.results[0].seq, duplicate: true });
    const other = await publish(B.url, { ...ev, data: { ...ev.data, subject: 'changed' } });
    expect(other.status).toBe(409);
    const batch = await publish(A.url, [sample.mail('u1', { id: 'm-2' }), sample.mail('u1', { id: 'm-3' }), ev]);
    expect(batch.status).toBe(201);
    expect(batch.body.results.map((r: { duplicate: boolean }) => r.duplicate)).toEqual([false, false, true]);
    const seqs = batch.body.results.map((r: { seq: number }) => r.seq);
    expect(seqs[1]).toBe(seqs[0] + 1);
    await until(() => B.hub.log.head === A.hub.log.head, 'B applied');
    expect(B.hub.log.count()).toBe(3);

    // Through Redis too: fields no schema names arrive on the other hub as sent, a retry with the
    // keys in another order is the same event, and one with other extra fields is not.
    const extra = { id: 'mail-x', type: 'mail.email.new', user_id: 'u1', data: { email_id: 9, from: 'a@b.c', subject: 's', client_tag: { k: [1, 'x'] } } };
    expect((await publish(A.url, extra)).status).toBe(201);
    const reordered = await publish(B.url, { ...extra, data: { client_tag: { k: [1, 'x'] }, subject: 's', from: 'a@b.c', email_id: 9 } });
    expect(reordered.body.results?.[0]?.duplicate).toBe(true);
    expect((await publish(B.url, { ...extra, data: { ...extra.data, client_tag: { k: [2] } } })).status).toBe(409);
    await until(() => B.hub.log.head === A.hub.log.head, 'B applied the extra-field event');
    expect(JSON.stringify((await allEvents(B.url)).find((e) => e.id === 'mail-x')!.data)).toBe(JSON.stringify(extra.data));
  });

  it('keeps publisher ids per scope namespace on every hub: another store can neither squat nor probe an id', async () => {
    const factory = redisEngineFactory(redis.url, { prefix: '{ns}' });
    const A = await startTestHub(hubOpts, factory);
    const B = await startTestHub(hubOpts, factory);
    hubs.push(A, B);
    const order = (store: number, order_id: number) => ({ ...sample.storeOrder(store), id: 'pos-7', data: { order_id, items: [{ name: 'Ramen', quantity: 1 }], total: 9 } });
    // Store 13 takes the id on hub A; store 12's real publish on hub B is a new event all the same.
    const squat = await publish(A.url, order(13, 666));
    const real = await publish(B.url, order(12, 7));
    expect([squat.status, real.status]).toEqual([201, 201]);
    expect(real.body.results[0]).toMatchObject({ id: 'pos-7', duplicate: false });
    expect(real.body.results[0].seq).not.toBe(squat.body.results[0].seq);
    // Retries through the other hub are duplicates of their own namespace's event (Redis keys them apart).
    expect((await publish(A.url, order(12, 7))).body.results[0]).toEqual({ seq: real.body.results[0].seq, id: 'pos-7', duplicate: true });
    expect((await publish(B.url, order(13, 666))).body.results[0]).toEqual({ seq: squat.body.results[0].seq, id: 'pos-7', duplicate: true });
    // A conflict names the caller's own namespace's event only.
    const conflict = await publish(A.url, order(13, 667));
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.message).toContain(`seq ${squat.body.results[0].seq}`);
    const r = new Redis(redis.url);
    expect((await r.keys('{ns}:id:*')).sort()).toEqual(['{ns}:id:12///pos-7', '{ns}:id:13///pos-7']);
    r.disconnect();
    // Both hubs hold both events, in one order.
    await until(() => A.hub.log.head === B.hub.log.head && B.hub.log.count() === 2, 'both hubs applied both');
    const dump = (h: Hub) => h.log.readAfter(0, 100, () => true).events.map((e) => e.json);
    expect(dump(A.hub)).toEqual(dump(B.hub));
  });

  it('after the Redis id TTL, every hub still deduplicates against its own log the same way', async () => {
    const factory = redisEngineFactory(redis.url, { prefix: '{ttl}', idTtlMs: 50 });
    const A = await startTestHub(hubOpts, factory);
    const B = await startTestHub(hubOpts, factory);
    hubs.push(A, B);
    const ev = sample.mail('u1', { id: 'ttl-1' });
    expect((await publish(A.url, ev)).body.results[0]).toMatchObject({ seq: 1, duplicate: false });
    await sleep(120);
    // Redis forgot the id, so the entry gets seq 2 in the stream; both logs skip it as a duplicate.
    const again = await publish(B.url, ev);
    expect(again.status).toBe(201);
    expect(again.body.results[0]).toMatchObject({ seq: 1, duplicate: true });
    const conflict = await publish(A.url, { ...ev, data: { ...ev.data, subject: 'other' } });
    expect(conflict.status).toBe(409);
    // The tails moved past the skipped entries: the next event is applied everywhere.
    const next = await publish(A.url, sample.mail('u1', { id: 'ttl-2' }));
    expect(next.status).toBe(201);
    // 3, or 4 when the conflicting publish came after the id expired again (then both hubs skip it).
    const seq = next.body.results[0].seq;
    expect([3, 4]).toContain(seq);
    await until(() => B.hub.log.head === seq, `B applied seq ${seq}`);
    const dump = (h: Hub) => h.log.readAfter(0, 100, () => true).events.map((e) => e.json);
    expect(dump(A.hub)).toEqual(dump(B.hub));
    expect(A.hub.log.count()).toBe(2);
  });

  it('detects a hub falling behind the trimmed stream instead of skipping silently', async () => {
    const factory = redisEngineFactory(redis.url, { prefix: '{gap}' });
    const A = await startTestHub(hubOpts, factory);
    hubs.push(A);
    for (let i = 0; i < 20; i++) expect((await publish(A.url, sample.storeOrder(1, { id: `g-${i}` }))).status).toBe(201);
    const r = new Redis(redis.url);
    await r.xtrim('{gap}:stream', 'MAXLEN', 5);
    r.disconnect();
    const late = await startTestHub(hubOpts, factory);
    hubs.push(late);
    await until(() => late.hub.log.head === 20, 'late hub applied the retained tail');
    expect(late.hub.log.prunedThrough).toBe(15);
    expect(late.hub.log.count()).toBe(5);
    expect(engineOf(late.hub).counters.gaps).toBe(1);
    // A client resuming from inside the gap is told so, with a snapshot, not silently skipped.
    const s = new Subscriber(late.url, {}, ADMIN, { 'last-event-id': '3' });
    subs.push(s);
    const reset = await s.waitFor('reset');
    expect(reset.data).toMatchObject({ reason: 'retention', requested: 3, oldest_seq: 16 });
  });

  it('continues after the highest local seq when Redis comes back empty (no AOF)', async () => {
    const factory = redisEngineFactory(redis.url, { prefix: '{lost}' });
    const A = await startTestHub(hubOpts, factory);
    const B = await startTestHub(hubOpts, factory);
    hubs.push(A, B);
    for (let i = 0; i < 10; i++) expect((await publish([A, B][i % 2]!.url, sample.storeOrder(1, { id: `l-${i}` }))).status).toBe(201);
    await until(() => A.hub.log.head === 10 && B.hub.log.head === 10, 'both applied');
    await redis.kill();
    await redis.start();
    await until(() => [A, B].every((h) => h.hub.engine.status().connected), 'reconnected');
    // Publish at once: the seq floor travels with the publish, so no seq is handed out twice.
    const r = await publish(B.url, sample.storeOrder(1, { id: 'l-after' }));
    expect(r.status).toBe(201);
    expect(r.body.results[0].seq).toBe(11);
    await until(() => A.hub.log.head === 11, 'A applied the new event');
    const dump = (h: Hub) => h.log.readAfter(0, 100, () => true).events.map((e) => e.json);
    expect(dump(A.hub)).toEqual(dump(B.hub));
  });

  it('starts while Redis is down, refuses publishes with 503, and connects when Redis appears', async () => {
    await redis.kill();
    const factory = redisEngineFactory(redis.url, { prefix: '{late}', startTimeoutMs: 300 });
    const A = await startTestHub(hubOpts, factory);
    hubs.push(A);
    expect(A.hub.engine.status().connected).toBe(false);
    const s = new Subscriber(A.url);
    subs.push(s);
    await s.waitFor('heartbeat');
    const refused = await publish(A.url, sample.storeOrder(1, { id: 'late-1' }));
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('redis_unavailable');
    await redis.start();
    await until(() => A.hub.engine.status().connected, 'connected once Redis is up', 15_000);
    const ok = await publish(A.url, sample.storeOrder(1, { id: 'late-1' }));
    expect(ok.status).toBe(201);
    expect((await s.waitForEvents(1))[0]!.id).toBe('late-1');
  });

  it('trims the stream by the local retention rules', async () => {
    const factory = redisEngineFactory(redis.url, { prefix: '{trim}', trimIntervalMs: 100 });
    const A = await startTestHub({ ...hubOpts, retention: { maxEvents: 10, chunk: 100, intervalMs: 100 } }, factory);
    hubs.push(A);
    for (let i = 0; i < 40; i++) expect((await publish(A.url, sample.storeOrder(1, { id: `t-${i}` }))).status).toBe(201);
    const r = new Redis(redis.url);
    try {
      await until(async () => A.hub.log.prunedThrough >= 30 && (await r.xlen('{trim}:stream')) < 40, 'stream trimmed', 5000);
      const first = (await r.xrange('{trim}:stream', '-', '+', 'COUNT', 1))[0]![0];
      expect(Number(first.split('-')[0])).toBeGreaterThan(1);
    } finally {
      r.disconnect();
    }
  });
});

describe('tokens and strategy states are one across the hubs on a Redis', () => {
  const redises: TestRedis[] = [];
  const hubs: TestHub[] = [];
  const subs: Subscriber[] = [];
  afterAll(async () => {
    for (const s of subs) s.close();
    for (const h of hubs) await h.stop().catch(() => {});
    for (const r of redises) await r.stop();
  });

  it('a token made on one hub works on every hub; revoking or deactivating on any hub takes effect on all, and a hub that joins later knows it all', async () => {
    const redis = await startRedis({ aof: false });
    redises.push(redis);
    const factory = redisEngineFactory(redis.url, { prefix: '{ctl}' });
    const A = await startTestHub(hubOpts, factory);
    const B = await startTestHub(hubOpts, factory);
    hubs.push(A, B);
    const whoami = (h: TestHub, token: string) => api(h.url, '/v1/whoami', { token });

    // Made on A, answered at once on B: A replies only after its own tail applied the change, and B's
    // tail is as quick, but a client may hit B first, so B is given a moment.
    const storeSub = await createToken(A.url, 'subscriber', { store_ids: ['c1'] }, 'kitchen tablet');
    const pubC1 = await createToken(A.url, 'publisher', { store_ids: ['c1'] });
    expect((await whoami(A, storeSub)).status).toBe(200);
    await until(async () => (await whoami(B, storeSub)).status === 200, 'B to know the token made on A');
    expect((await whoami(B, storeSub)).body.scope).toEqual({ store_ids: ['c1'] });
    // Its scope holds on B too: the tablet sees store c1 only.
    const tablet = new Subscriber(B.url, {}, storeSub);
    subs.push(tablet);
    await tablet.waitFor('connection');
    expect((await publish(B.url, sample.storeOrder('c1', { id: 'ctl-1' }), pubC1)).status).toBe(201);
    expect((await publish(B.url, sample.storeOrder('c2', { id: 'ctl-2' }))).status).toBe(201);
    expect((await publish(A.url, sample.storeOrder('c2', { id: 'ctl-3' }), pubC1)).status).toBe(403);
    await tablet.waitForEvents(1);
    // The list on B shows it, without the secret (only its hash ever went to Redis).
    const listed = (await api(B.url, '/v1/tokens')).body.tokens.find((t: { label: string }) => t.label === 'kitchen tablet');
    expect(listed).toMatchObject({ role: 'subscriber', scope: { store_ids: ['c1'] }, revoked_at: null });
    const r = new Redis(redis.url);
    const control = await r.xrange('{ctl}:control', '-', '+');
    r.disconnect();
    expect(control.length).toBe(2);
    expect(JSON.stringify(control)).not.toContain(storeSub);

    // Revoked on A: the tablet's stream on B is cut with the reason, and B refuses the token.
    const revoked = await api(A.url, `/v1/tokens/${listed.id}`, { method: 'DELETE' });
    expect(revoked.body).toEqual({ revoked: true, disconnected: 0 });
    const cut = await tablet.waitFor('force_disconnect');
    expect(cut.data).toMatchObject({ reason: 'token_revoked' });
    await until(async () => (await whoami(B, storeSub)).status === 401, 'B to refuse the revoked token');
    expect((await whoami(A, storeSub)).status).toBe(401);

    // Deactivated on B: A refuses publishes for it and closes its streams; activated on A, B takes them again.
    const trader = new Subscriber(A.url, { strategy_id: '77' });
    subs.push(trader);
    await trader.waitFor('connection');
    expect((await api(B.url, '/v1/strategies/77/deactivate', { body: { reason: 'drawdown limit' } })).body).toMatchObject({ strategy_id: '77', active: false, disconnected: 0 });
    expect((await trader.waitFor('force_disconnect')).data).toMatchObject({ reason: 'strategy_deactivated', message: 'strategy 77 was deactivated: drawdown limit' });
    await until(async () => (await publish(A.url, sample.tradingOrder('u1', 77))).status === 409, 'A to refuse strategy 77');
    const refused = await publish(A.url, sample.tradingOrder('u1', 77));
    expect(refused.body.error).toMatchObject({ code: 'strategy_inactive' });
    expect((await api(A.url, '/v1/strategies/77/activate', { body: {} })).body).toMatchObject({ active: true });
    await until(async () => (await publish(B.url, sample.tradingOrder('u1', 77))).status === 201, 'B to take strategy 77 again');

    // A hub that joins later (its own empty database) starts knowing all of it.
    const C = await startTestHub(hubOpts, factory);
    hubs.push(C);
    expect((await whoami(C, storeSub)).status).toBe(401);
    expect((await publish(C.url, sample.storeOrder('c1', { id: 'ctl-4' }), pubC1)).status).toBe(201);
    expect((await api(C.url, '/v1/strategies')).body.strategies).toEqual([expect.objectContaining({ strategy_id: '77', active: true })]);
    expect((await api(C.url, '/v1/tokens')).body.tokens.map((t: { id: string }) => t.id)).toContain(listed.id);

    // With Redis gone, a token change is refused on every hub rather than made on one.
    await redis.kill();
    const down = await api(A.url, '/v1/tokens', { body: { role: 'subscriber', scope: {} } });
    expect(down.status).toBe(503);
    expect(down.body.error.code).toBe('redis_unavailable');
  });

  it('a Redis that comes back empty gets the tokens and revocations restated; entries a hub did not write are checked, and each bootstrap admin stays its own', async () => {
    const redis = await startRedis({ aof: false });
    redises.push(redis);
    const factory = redisEngineFactory(redis.url, { prefix: '{ctl2}' });
    const A = await startTestHub(hubOpts, factory);
    const B = await startTestHub(hubOpts, factory);
    hubs.push(A, B);
    const kept = await createToken(A.url, 'subscriber', { user_id: 'u7' });
    const dropped = await createToken(B.url, 'publisher', {});
    const droppedId = (await api(B.url, '/v1/whoami', { token: dropped })).body.token_id;
    expect((await api(B.url, `/v1/tokens/${droppedId}`, { method: 'DELETE' })).status).toBe(200);

    await redis.kill();
    await redis.start(); // no AOF: the control stream is gone
    await until(() => [A, B].every((h) => h.hub.engine.status().connected), 'both hubs reconnected');
    // The hubs notice on reconnect and restate what they know (two tokens, one revocation) before a
    // new hub can learn it from the stream.
    const r = new Redis(redis.url);
    await until(async () => (await r.xlen('{ctl2}:control')) >= 3, 'the tokens restated');
    const C = await startTestHub(hubOpts, factory);
    hubs.push(C);
    await until(async () => (await api(C.url, '/v1/whoami', { token: kept })).status === 200, 'C to know the kept token');
    // C knows the other one as revoked (not merely unknown), so a late replay of its creation cannot revive it.
    await until(async () => (await api(C.url, '/v1/tokens')).body.tokens.find((t: { id: string }) => t.id === droppedId)?.revoked_at, 'C to know the revocation');
    expect((await api(C.url, '/v1/whoami', { token: dropped })).status).toBe(401);

    // An entry no hub would write (a scope the API refuses, a malformed row) is skipped by every hub.
    const forged = { op: 'token.create', row: { id: 'tok_forged', hash: 'f'.repeat(64), role: 'admin', label: null, scope: '{"everything":true}', rate_limit: null, created_at: 'x', revoked_at: null, last_used_at: null } };
    await r.xadd('{ctl2}:control', '*', 'c', JSON.stringify(forged));
    await r.xadd('{ctl2}:control', '*', 'c', 'not json');
    r.disconnect();
    await until(() => [A, B, C].every((h) => (h.hub.engine as unknown as RedisEngine).control.counters.skipped === 2), 'every hub to skip both');
    for (const h of [A, B, C]) expect((await api(h.url, '/v1/tokens')).body.tokens.map((t: { id: string }) => t.id)).not.toContain('tok_forged');
    // Normal changes still flow after them.
    const later = await createToken(C.url, 'subscriber', {});
    await until(async () => (await api(A.url, '/v1/whoami', { token: later })).status === 200, 'A to know the token made on C');

    // Revoking a hub's bootstrap admin (with another admin token) is that hub's own business.
    const otherAdmin = await createToken(A.url, 'admin', {});
    await until(async () => (await api(B.url, '/v1/whoami', { token: otherAdmin })).status === 200, 'B to know the second admin');
    expect((await api(B.url, '/v1/tokens/tok_admin', { method: 'DELETE', token: otherAdmin })).body).toMatchObject({ revoked: true });
    expect((await api(B.url, '/v1/whoami')).status).toBe(401);
    await sleep(300);
    expect((await api(A.url, '/v1/whoami')).status).toBe(200);
  });
});

describe('Redis replicas and Sentinel addresses', () => {
  it('parses redis-sentinel:// addresses and passes plain URLs through', () => {
    expect(redisTarget('redis-sentinel://:s3cret@10.0.0.1:26379,10.0.0.2:26380/relay')).toEqual({
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26380 },
      ],
      name: 'relay',
      password: 's3cret',
    });
    expect(redisTarget('redis://127.0.0.1:6379/0')).toBe('redis://127.0.0.1:6379/0');
  });

  it('with minReplicas, acknowledges only what a replica confirmed', async () => {
    const primary = await startRedis({ aof: false, args: ['--repl-diskless-sync-delay', '0'] });
    const replica = await startRedis({ aof: false, args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    let hub: TestHub | undefined;
    try {
      const factory = redisEngineFactory(primary.url, { minReplicas: 1, replicaTimeoutMs: 3_000 });
      hub = await startTestHub(hubOpts, factory);
      const r = new Redis(primary.url);
      await until(async () => /slave0:.*state=online/.test(await r.info('replication')), 'replica attached and in sync');
      // The replica acknowledges only once it has loaded the initial sync.
      await until(async () => (await r.incr('warm'), (await r.wait(1, 200)) >= 1), 'replica acknowledging writes');
      const ok = await publish(hub.url, sample.storeOrder(1, { id: 'rep-1' }));
      expect(ok.status, JSON.stringify(ok.body)).toBe(201);
      await replica.kill();
      await until(async () => /connected_slaves:0/.test(await r.info('replication')), 'replica gone');
      r.disconnect();
      const refused = await publish(hub.url, sample.storeOrder(1, { id: 'rep-2' }));
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe('redis_not_replicated');
    } finally {
      await hub?.stop();
      await replica.stop();
      await primary.stop();
    }
  });
});
