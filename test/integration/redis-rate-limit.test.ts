import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisEngineFactory } from '../../electron/hub/bus/redis.ts';
import { api, publish, until, type TestHub, startTestHub } from '../helpers/hub.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { RATE_WINDOW_MS } from '../../electron/hub/http/rate-limit.ts';

/**
 * Behind a load balancer a token's requests land on several hubs. With the Redis engine the rate
 * limit is counted in Redis, so the token gets its limit once, not once per hub.
 */
describe('the rate limit holds across hubs sharing one Redis', () => {
  let redis: TestRedis;
  const hubs: TestHub[] = [];

  beforeAll(async () => {
    redis = await startRedis({ aof: false });
    const factory = redisEngineFactory(redis.url, { commitTimeoutMs: 3000 });
    for (let i = 0; i < 2; i++) hubs.push(await startTestHub({}, factory));
  });
  afterAll(async () => {
    for (const h of hubs) await h.stop().catch(() => {});
    await redis?.stop();
  });

  /** A fresh token with `rate` requests/s, known to both hubs (tokens travel on the control stream). */
  async function tokenOnBoth(rate: number): Promise<string> {
    const created = await api(hubs[0]!.url, '/v1/tokens', { body: { role: 'subscriber', rate_limit: rate } });
    expect(created.status).toBe(201);
    const token = created.body.token as string;
    // whoami is not rate-limited, so waiting for the token costs none of its requests.
    await until(async () => (await api(hubs[1]!.url, '/v1/whoami', { token })).status === 200, 'token replicated to the second hub');
    return token;
  }

  it('two hubs together let a token through as often as one hub would', async () => {
    const [A, B] = hubs as [TestHub, TestHub];
    // 5 requests/s: 10 per 2-second window. Six requests on each hub fit a per-hub limit (12 in all)
    // but not a shared one. A fresh token's window opens with its first request; the burst must end
    // inside it for the count to mean anything, so a burst that took too long is tried again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const token = await tokenOnBoth(5);
      const started = Date.now();
      const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => api((i % 2 ? B : A).url, '/v1/events?limit=1', { token })));
      if (Date.now() - started > RATE_WINDOW_MS - 300) continue;
      const statuses = rs.map((r) => r.status);
      expect(statuses.filter((s) => s === 200).length, statuses.join(',')).toBe(10);
      expect(statuses.filter((s) => s === 429).length).toBe(2);
      const refused = rs.find((r) => r.status === 429)!;
      expect(refused.body.error).toMatchObject({ status: 429, code: 'rate_limited' });
      expect(refused.headers.get('retry-after')).toMatch(/^[12]$/);
      // Both hubs refuse: the count is one.
      const afterA = await api(A.url, '/v1/events?limit=1', { token });
      const afterB = await api(B.url, '/v1/events?limit=1', { token });
      expect([afterA.status, afterB.status]).toEqual([429, 429]);
      return;
    }
    throw new Error('no burst of 12 requests finished within one rate window in 3 tries (machine too slow to tell)');
  });

  it('a read charged on one hub uses up the token on the other', async () => {
    const [A, B] = hubs as [TestHub, TestHub];
    for (let i = 0; i < 5; i++) {
      const r = await publish(A.url, Array.from({ length: 200 }, (_, j) => ({ type: 'x.cost.tick', store_id: 'cost', data: { i: i * 200 + j, pad: 'p'.repeat(100) } })));
      expect(r.status).toBe(201);
    }
    await until(async () => (await api(B.url, '/v1/events?store_id=cost&limit=1')).body.events?.[0]?.data.i === 999, 'events applied on the second hub');
    const token = await tokenOnBoth(5);
    // 1,000 rows examined (10 units) and ~170 KB sent (~10 units): well past the 10 a window holds.
    const heavy = await api(A.url, '/v1/events?limit=1000', { token });
    expect(heavy.status).toBe(200);
    expect(heavy.body.events.length).toBe(1000);
    // One request on the other hub: two requests alone are far below the limit, the charge is not.
    const next = await api(B.url, '/v1/events?limit=1', { token });
    expect(next.status).toBe(429);
    expect(next.body.error.message).toMatch(/rows examined/);
  });
});
