import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { connect } from 'node:net';
import { startTestHub, api, publish, createToken, allPages, until, ADMIN, type TestHub } from '../helpers/hub.ts';
import { Subscriber } from '../helpers/sse.ts';
import { sample } from '../helpers/events.ts';
import type { PublishEnvelope } from '../../shared/events.ts';

/**
 * What one reader may cost everyone else: reads use the scope's index, stop at a scan budget, are
 * charged against the reader's rate limit, and snapshot builds are queued, shared and dropped for
 * clients that left.
 */

async function pub(url: string, events: PublishEnvelope[]) {
  for (let i = 0; i < events.length; i += 200) {
    const r = await publish(url, events.slice(i, i + 200));
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }
}

const ticks = (store: string, n: number, data: (i: number) => Record<string, unknown> = (i) => ({ i })): PublishEnvelope[] =>
  Array.from({ length: n }, (_, i) => ({ type: 'x.test.tick', store_id: store, data: data(i) }));

/** A store's open orders, each with `items` lines of ~200 bytes, so its snapshot takes a while to build. */
const bigOrders = (store: string, n: number, items: number) =>
  Array.from({ length: n }, (_, i) =>
    sample.storeOrder(store, { data: { order_id: `${store}-${i}`, items: Array.from({ length: items }, (_, j) => ({ name: `${j}`.padEnd(180, 'x'), quantity: 1 })), total: 1 } }),
  );

async function snapshotCounts(url: string): Promise<{ built: number; shared: number; skipped: number }> {
  const text = (await api<string>(url, '/metrics')).body;
  const out = { built: 0, shared: 0, skipped: 0 };
  for (const m of text.matchAll(/^relaydesk_snapshots_total\{outcome="(built|shared|skipped)"\} (\d+)/gm)) out[m[1] as keyof typeof out] = Number(m[2]);
  return out;
}

describe('scoped reads use the scope indexes', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('history, state, replay and snapshots of a store, user, strategy or tenant search its index instead of scanning', async () => {
    await pub(t.url, [...ticks('busy', 400), ...ticks('sparse', 3)]);
    await pub(t.url, [sample.storeOrder('sparse'), sample.tradingOrder('u7', 's1'), sample.position('u7', 's1')]);
    await pub(t.url, [{ ...ticks('sparse', 1)[0]!, tenant_id: 'acme' }]);
    const trader = await createToken(t.url, 'subscriber', { user_id: 'u7', strategy_ids: ['s1'] });
    const tenant = await createToken(t.url, 'subscriber', { tenant_id: 'acme' });

    // Every statement the hub prepares while serving these requests, with its parameters.
    const seen: { sql: string; params: unknown[] }[] = [];
    const db = t.hub.db;
    const prepare = db.prepare.bind(db);
    db.prepare = ((sql: string) => {
      const st = prepare(sql);
      for (const m of ['all', 'get', 'iterate'] as const) {
        const orig = st[m].bind(st) as (...a: unknown[]) => unknown;
        (st as unknown as Record<string, unknown>)[m] = (...params: unknown[]) => {
          seen.push({ sql, params });
          return orig(...params);
        };
      }
      return st;
    }) as typeof db.prepare;
    try {
      expect((await api(t.url, '/v1/events?store_id=sparse&limit=10')).status).toBe(200);
      expect((await api(t.url, '/v1/events?limit=10', { token: trader })).status).toBe(200);
      expect((await api(t.url, '/v1/events?limit=10', { token: tenant })).status).toBe(200);
      expect((await api(t.url, '/v1/state/orders?store_id=sparse')).status).toBe(200);
      expect((await api(t.url, '/v1/state/positions', { token: trader })).status).toBe(200);
      const sub = new Subscriber(t.url, { store_id: 'sparse', snapshot: '1', lastEventId: '0' });
      await sub.waitForEvents(4);
      sub.close();
    } finally {
      db.prepare = prepare;
    }

    const scoped = seen.filter((s) => /\b(store_id|user_id|strategy_id|tenant_id) IN \(/.test(s.sql) && /FROM (events|projections)\b/.test(s.sql));
    // History, replay, state pages, counts and snapshots all went through a scoped statement.
    expect(scoped.some((s) => /FROM events WHERE[^]*seq > \?/.test(s.sql) && s.params.includes('sparse')), 'replay reads the scope in SQL').toBe(true);
    expect(scoped.filter((s) => s.sql.includes('FROM events')).length).toBeGreaterThanOrEqual(2);
    // The key indexes leave out rows without the key (a write less per publish); a read by the key still searches them.
    expect(scoped.some((s) => /FROM events WHERE[^]*tenant_id IN \(/.test(s.sql) && s.params.includes('acme')), 'a tenant read names its key').toBe(true);
    expect(scoped.filter((s) => s.sql.includes('FROM projections')).length).toBeGreaterThanOrEqual(2);
    for (const s of scoped) {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${s.sql}`).all(...(s.params as unknown[])) as { detail: string }[]).map((r) => r.detail);
      const table = /FROM (events|projections)\b/.exec(s.sql)![1]!;
      const reads = plan.filter((d) => new RegExp(`^(SCAN|SEARCH) ${table}\\b`).test(d));
      expect(reads.length, `${s.sql}\n${plan.join('\n')}`).toBeGreaterThan(0);
      for (const d of reads) expect(d, `${s.sql}\n${plan.join('\n')}`).toMatch(new RegExp(`^SEARCH ${table} USING (COVERING )?INDEX ${table}_((store|user|strategy|tenant)_seq|user_strategy) \\(`));
      // Single-valued scopes walk the index in seq order: no sort of everything the scope holds.
      expect(plan.join('\n'), s.sql).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
    }
  });
});

describe('a read stops at its scan budget and says where to continue', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ scanBudgetRows: 50 });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('a rare text in a dense scope: short pages marked partial, cursors that find every match exactly once', async () => {
    const needles = new Set([7, 151, 289]);
    await pub(t.url, ticks('dense', 300, (i) => ({ i, note: needles.has(i) ? 'needle' : 'hay' })));
    const first = await api(t.url, '/v1/events?store_id=dense&q=needle&limit=10');
    expect(first.status).toBe(200);
    // Only the newest 50 rows were examined: one match, not three, and a cursor to go on from.
    expect(first.body.partial).toBe(true);
    expect(first.body.events.map((e: { data: { i: number } }) => e.data.i)).toEqual([289]);
    expect(first.body.next_cursor).not.toBeNull();
    for (const order of ['asc', 'desc'] as const) {
      const pages = await allPages<{ events: { data: { i: number } }[]; next_cursor: string | null; partial?: boolean }>(t.url, '/v1/events?store_id=dense&q=needle&limit=10', ADMIN, { order });
      expect(pages.flatMap((p) => p.events.map((e) => e.data.i))).toEqual(order === 'asc' ? [7, 151, 289] : [289, 151, 7]);
      expect(pages.length).toBe(6); // 300 rows, 50 examined per page
      expect(pages.slice(0, -1).every((p) => p.partial === true)).toBe(true);
      expect(pages.at(-1)!.partial).toBeUndefined();
    }
  });

  it('a state page is cut at the budget too, and the walk still returns every row once', async () => {
    await pub(t.url, Array.from({ length: 120 }, (_, i) => sample.storeOrder('st', { data: { order_id: `st-${i}`, items: [{ name: 'Ramen', quantity: 1 }], total: 9 } })));
    const first = await api(t.url, '/v1/state/orders?store_id=st&limit=100');
    expect(first.status).toBe(200);
    // The view reads two kinds; each may examine half the budget.
    expect(first.body.store_orders.length).toBe(25);
    expect(first.body.partial).toBe(true);
    expect(first.body.counts.store_orders).toEqual({ total: 120, returned: 25 });
    for (const order of ['asc', 'desc'] as const) {
      const pages = await allPages<{ store_orders: { key: string }[]; next_cursor: string | null }>(t.url, '/v1/state/orders?store_id=st&limit=100', ADMIN, { order });
      const keys = pages.flatMap((p) => p.store_orders.map((r) => r.key));
      expect(keys.length).toBe(120);
      expect(new Set(keys).size).toBe(120);
    }
  });
});

describe('a read is charged against the reader rate limit', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('rows examined and bytes sent use up a token units: a heavy reader waits, a publisher does not', async () => {
    await pub(t.url, ticks('cost', 3000, (i) => ({ i, pad: 'p'.repeat(200) })));
    // 10 requests/s with a burst of 20: twenty cheap reads in a row would all pass.
    const reader = (await api(t.url, '/v1/tokens', { body: { role: 'subscriber', scope: { store_ids: ['cost'] }, rate_limit: 10 } })).body.token as string;
    const publisher = (await api(t.url, '/v1/tokens', { body: { role: 'publisher', scope: { store_ids: ['cost'] }, rate_limit: 10 } })).body.token as string;

    // One page of 1,000 events: 1,000 rows examined (10 units) and ~300 KB sent (~18 units).
    const heavy = await api(t.url, '/v1/events?limit=1000', { token: reader });
    expect(heavy.status).toBe(200);
    expect(heavy.body.events.length).toBe(1000);
    const next = await api(t.url, '/v1/events?limit=1', { token: reader });
    expect(next.status, JSON.stringify(next.body)).toBe(429);
    expect(Number(next.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(next.body.error.message).toMatch(/rows examined/);
    // The bucket is the reader's own: a publisher with the same rate is not held back.
    expect((await publish(t.url, ticks('cost', 1), publisher)).status).toBe(201);

    // A stream's replay is charged the same way: a replay of the 3,000 events uses up the units.
    const idle = await createToken(t.url, 'subscriber', { store_ids: ['cost'] });
    expect((await api(t.url, '/v1/events?limit=1', { token: idle })).status).toBe(200);
    const limited = (await api(t.url, '/v1/tokens', { body: { role: 'subscriber', scope: { store_ids: ['cost'] }, rate_limit: 10 } })).body.token as string;
    const sub = new Subscriber(t.url, { lastEventId: '0' }, limited);
    await sub.waitForEvents(3001);
    sub.close();
    expect((await api(t.url, '/v1/events?limit=1', { token: limited })).status).toBe(429);
  });
});

describe('snapshot builds are queued, shared, and skipped for clients that left', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
    // Two stores whose snapshots take a while to build: while they wait in the queue, the
    // requests behind them are queued too.
    await pub(t.url, bigOrders('heavy1', 1500, 8));
    await pub(t.url, bigOrders('heavy2', 1500, 8));
    await pub(t.url, bigOrders('shared', 30, 1));
  });
  afterAll(async () => {
    await t.stop();
  });

  /** A snapshot=1 request whose client hangs up right after sending it. */
  function hangUp(query: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const u = new URL(t.url);
      const s = connect(Number(u.port), u.hostname, () => {
        s.end(`GET /v1/stream?${query} HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${ADMIN}\r\n\r\n`);
        s.destroy();
        resolve();
      });
      s.on('error', reject);
    });
  }

  it('a client that hangs up before its turn costs no build', async () => {
    const before = await snapshotCounts(t.url);
    const heavy = [new Subscriber(t.url, { store_id: 'heavy1', snapshot: '1' }), new Subscriber(t.url, { store_id: 'heavy2', snapshot: '1' })];
    await Promise.all(Array.from({ length: 20 }, (_, i) => hangUp(`store_id=gone${i}&snapshot=1`)));
    for (const h of heavy) await h.waitFor('initial', 30_000);
    const after = await until(async () => {
      const c = await snapshotCounts(t.url);
      return c.built + c.skipped - before.built - before.skipped >= 22 ? c : null;
    }, 'every request to reach its turn', 30_000);
    for (const h of heavy) h.close();
    expect(after).not.toBeNull();
    expect(after!.skipped - before.skipped).toBeGreaterThan(0);
    expect(after!.built - before.built).toBeLessThan(22);
    expect(t.hub.snapshots.pending).toBe(0);
  });

  it('identical requests waiting at once share one build, and each gets the same exact snapshot', async () => {
    const before = await snapshotCounts(t.url);
    const heavy = new Subscriber(t.url, { store_id: 'heavy1', snapshot: '1' });
    const subs = Array.from({ length: 10 }, () => new Subscriber(t.url, { store_id: 'shared', snapshot: '1' }));
    const initials = await Promise.all(subs.map((s) => s.waitFor('initial', 30_000)));
    await heavy.waitFor('initial', 30_000);
    for (const s of [heavy, ...subs]) s.close();
    const after = await snapshotCounts(t.url);
    expect(initials.every((i) => i.lastEventId === initials[0]!.lastEventId)).toBe(true);
    expect(initials.every((i) => JSON.stringify(i.data) === JSON.stringify(initials[0]!.data))).toBe(true);
    expect(initials[0]!.data.store_orders.length).toBe(30);
    const built = after.built - before.built;
    expect(after.shared - before.shared).toBeGreaterThan(0);
    expect(built + after.shared - before.shared).toBe(11);
    expect(built).toBeLessThan(11);
  });
});
