import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisEngineFactory } from '../../electron/hub/bus/redis.ts';
import { allEvents, createToken, publish, sleep, startTestHub, type TestHub } from '../helpers/hub.ts';
import { Subscriber } from '../helpers/sse.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';

/** Tenants and topics travel through the Redis engine like the other scope keys. */
describe('tenants and topics across hubs through Redis', () => {
  let redis: TestRedis;
  const hubs: TestHub[] = [];
  const subs: Subscriber[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    const factory = redisEngineFactory(redis.url, { commitTimeoutMs: 3000 });
    for (let i = 0; i < 2; i++) hubs.push(await startTestHub({ heartbeatMs: 250, retryMs: 200 }, factory));
  });
  afterAll(async () => {
    for (const s of subs) s.close();
    for (const h of hubs) await h.stop().catch(() => {});
    await redis?.stop();
  });

  it('stores them on every hub, delivers them by tenant and topic selectors, and keeps them in the content key', async () => {
    const [A, B] = hubs as [TestHub, TestHub];
    const sub = await createToken(B.url, 'subscriber', { tenant_id: 'acme', subscribe_topics: ['wards/{id}'] });
    const live = new Subscriber(B.url, {}, sub);
    subs.push(live);
    await live.waitFor('connection');
    const r = await publish(A.url, [
      { id: 'rt-1', type: 'x.ward.note', tenant_id: 'acme', topics: ['wards/1'], data: {} },
      { id: 'rt-2', type: 'x.ward.note', tenant_id: 'globex', topics: ['wards/1'], data: {} },
      { id: 'rt-3', type: 'x.ward.note', tenant_id: 'acme', topics: ['beds/1'], data: {} },
      { id: 'rt-4', type: 'x.ward.note', tenant_id: 'acme', data: {} },
    ]);
    expect(r.status).toBe(201);
    await live.waitForEvents(1);
    await sleep(200);
    expect(live.events.map((e) => [e.id, e.tenant_id, e.topics])).toEqual([['rt-1', 'acme', ['wards/1']]]);
    const onB = (await allEvents(B.url)).filter((e) => e.id.startsWith('rt-'));
    expect(onB.map((e) => [e.id, e.tenant_id ?? null, e.topics ?? null])).toEqual([
      ['rt-1', 'acme', ['wards/1']],
      ['rt-2', 'globex', ['wards/1']],
      ['rt-3', 'acme', ['beds/1']],
      ['rt-4', 'acme', null],
    ]);
    // Through the bus too: the same id with other topics is a conflict, the same content a duplicate,
    // and the same id under another tenant is another event.
    expect((await publish(B.url, { id: 'rt-1', type: 'x.ward.note', tenant_id: 'acme', topics: ['wards/2'], data: {} })).status).toBe(409);
    expect((await publish(B.url, { id: 'rt-1', type: 'x.ward.note', tenant_id: 'acme', topics: ['wards/1'], data: {} })).body.results[0].duplicate).toBe(true);
    expect((await publish(B.url, { id: 'rt-1', type: 'x.ward.note', tenant_id: 'initech', topics: ['wards/1'], data: {} })).body.results[0].duplicate).toBe(false);
  }, 60_000);
});
