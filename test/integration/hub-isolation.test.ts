import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestHub, api, publish, createToken, until, sleep, type TestHub } from '../helpers/hub.ts';
import { Subscriber } from '../helpers/sse.ts';
import { sample } from '../helpers/events.ts';
import { inScope, type TokenScope } from '../../shared/scope.ts';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(async () => {
  await t.stop();
});

/** Small seeded PRNG (mulberry32) so a failing run can be replayed. */
function rng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

describe('scoped tokens', () => {
  it('lets a scoped publisher publish only inside its scope, naming the field otherwise', async () => {
    const pub = await createToken(t.url, 'publisher', { user_id: 'u1', strategy_ids: ['1', '2'] });
    expect((await publish(t.url, sample.tradingOrder('u1', 1), pub)).status).toBe(201);
    const other = await publish(t.url, sample.tradingOrder('u1', 3), pub);
    expect(other.status).toBe(403);
    expect(other.body.error.fields).toEqual([{ path: 'strategy_id', reason: "outside this token's scope (3)" }]);
    const batch = await publish(t.url, [sample.tradingOrder('u1', 1), sample.tradingOrder('u2', 1)], pub);
    expect(batch.status).toBe(403);
    expect(batch.body.error.fields[0].path).toBe('1.user_id');
    // Fail closed: a custom event without the constrained keys is outside the scope.
    expect((await publish(t.url, { type: 'x.note', data: {} }, pub)).status).toBe(403);
  });

  it('refuses to subscribe outside scope and hides out-of-scope events from stream, history and state', async () => {
    const sub = await createToken(t.url, 'subscriber', { store_ids: ['shopA'] });
    const refused = await api(t.url, '/v1/stream?store_id=shopB', { token: sub });
    expect(refused.status).toBe(403);
    expect(refused.body.error.fields[0].path).toBe('store_id');
    expect((await api(t.url, '/v1/events?store_id=shopB', { token: sub })).status).toBe(403);

    const live = new Subscriber(t.url, { snapshot: '1' }, sub);
    await live.waitFor('initial');
    await publish(t.url, [sample.storeOrder('shopB'), sample.storeOrder('shopA'), { type: 'x.unscoped', data: {} }, sample.mail('u1')]);
    await live.waitForEvents(1);
    await sleep(100);
    expect(live.events.map((e) => e.store_id)).toEqual(['shopA']);
    const history = await api(t.url, '/v1/events?limit=1000', { token: sub });
    expect(new Set(history.body.events.map((e: { store_id: string }) => e.store_id))).toEqual(new Set(['shopA']));
    const state = await api(t.url, '/v1/state/orders', { token: sub });
    expect(state.body.store_orders.every((o: { store_id: string }) => o.store_id === 'shopA')).toBe(true);
    expect(state.body.store_orders.length).toBeGreaterThan(0);
    live.close();
  });

  it('refuses roles their forbidden actions', async () => {
    const pub = await createToken(t.url, 'publisher');
    const sub = await createToken(t.url, 'subscriber');
    expect((await api(t.url, '/v1/stream', { token: pub })).status).toBe(403);
    expect((await publish(t.url, { type: 'x.a', data: {} }, sub)).status).toBe(403);
    expect((await api(t.url, '/v1/tokens', { token: sub })).status).toBe(403);
    expect((await api(t.url, '/v1/stats', { token: pub })).status).toBe(403);
  });

  it('randomized: many scopes and filters, thousands of events, live and replayed, never a leak', async () => {
    const rand = rng(20261123);
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
    const users = ['u1', 'u2', 'u3'];
    const strategies = ['1', '2', '3', '4'];
    const stores = ['s1', 's2', 's3'];
    const subs: { scope: TokenScope; filter: Record<string, string>; sub: Subscriber; token: string }[] = [];
    for (let i = 0; i < 24; i++) {
      const scope: TokenScope = {};
      if (rand() < 0.6) scope.user_id = pick(users);
      if (rand() < 0.5) scope.strategy_ids = strategies.filter(() => rand() < 0.5).slice(0, 3);
      if (!scope.strategy_ids?.length) delete scope.strategy_ids;
      if (rand() < 0.4) scope.store_ids = [pick(stores)];
      const token = await createToken(t.url, 'subscriber', scope);
      const filter: Record<string, string> = {};
      if (scope.strategy_ids && rand() < 0.5) filter.strategy_id = scope.strategy_ids[0]!;
      if (rand() < 0.3) filter.type = pick(['trading.*', 'store.*', 'mail.*', 'x.*']);
      subs.push({ scope, filter, token, sub: new Subscriber(t.url, { ...filter, lastEventId: String(t.hub.log.head) }, token) });
    }
    await Promise.all(subs.map((s) => s.sub.waitFor('connection')));
    const events = [];
    for (let i = 0; i < 3000; i++) {
      const kind = pick(['trading', 'store', 'mail', 'x']);
      const u = rand() < 0.9 ? pick(users) : undefined;
      const s = rand() < 0.9 ? pick(strategies) : undefined;
      const st = rand() < 0.9 ? pick(stores) : undefined;
      if (kind === 'trading' && u && s) events.push({ ...sample.tradingOrder(u, s), ...(st ? { store_id: st } : {}) });
      else if (kind === 'store' && st) events.push({ ...sample.storeOrder(st), ...(u ? { user_id: u } : {}), ...(s ? { strategy_id: s } : {}) });
      else if (kind === 'mail' && u) events.push({ ...sample.mail(u), ...(s ? { strategy_id: s } : {}), ...(st ? { store_id: st } : {}) });
      else events.push({ type: 'x.rand', data: { i }, ...(u ? { user_id: u } : {}), ...(s ? { strategy_id: s } : {}), ...(st ? { store_id: st } : {}) });
    }
    for (let i = 0; i < events.length; i += 250) expect((await publish(t.url, events.slice(i, i + 250))).status).toBe(201);
    const head = t.hub.log.head;
    const all = (await api(t.url, `/v1/events?limit=1000&order=asc&cursor=${head - 3000}`)).body.events;
    expect(all.length).toBe(1000);

    const expected = (s: (typeof subs)[number]) => {
      const visible = t.hub.log.history({}, { limit: 100_000, order: 'asc', after: head - 3000 });
      return visible
        .filter((e) => inScope(s.scope, e))
        .filter((e) => !s.filter.strategy_id || e.strategy_id === s.filter.strategy_id)
        .filter((e) => !s.filter.type || e.type.startsWith(s.filter.type.slice(0, -1)))
        .map((e) => e.seq);
    };
    for (const s of subs) {
      const want = expected(s);
      await until(() => s.sub.events.length >= want.length, `subscriber ${JSON.stringify(s.scope)} to get ${want.length}`, 15_000);
      await sleep(20);
      for (const e of s.sub.events) expect(inScope(s.scope, e), `leak to ${JSON.stringify(s.scope)}: ${JSON.stringify(e)}`).toBe(true);
      expect(s.sub.events.map((e) => e.seq)).toEqual(want);
      s.sub.close();
      // Replayed from the log with Last-Event-ID: the same events, still nothing outside the scope.
      const replay = new Subscriber(t.url, { ...s.filter, lastEventId: String(head - 3000) }, s.token);
      await until(() => replay.events.length >= want.length, 'replay', 15_000);
      expect(replay.events.map((e) => e.seq)).toEqual(want);
      replay.close();
    }
  }, 120_000);
});
