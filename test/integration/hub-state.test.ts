import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestHub, api, publish, createToken, allPages, type TestHub } from '../helpers/hub.ts';
import { Subscriber } from '../helpers/sse.ts';
import { sample } from '../helpers/events.ts';
import { SNAPSHOT_CAPS, snapshotSchema, statePageSchema, truncatedFields, type ProjectionRow, type Snapshot, type StatePage } from '../../shared/state.ts';
import type { PublishEnvelope } from '../../shared/events.ts';

/** Small caps, so a dozen rows exceed them the way 5,001 open orders would exceed the real ones. */
const CAPS = { ...SNAPSHOT_CAPS, store_order: 5, trading_order: 5, position: 5, mail: 3 };

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ snapshotCaps: CAPS });
});
afterAll(async () => {
  await t.stop();
});

async function pub(events: PublishEnvelope[]): Promise<number[]> {
  const r = await publish(t.url, events);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.results.map((x: { seq: number }) => x.seq);
}

async function snapshot(query: Record<string, string>, token?: string): Promise<Snapshot> {
  const sub = new Subscriber(t.url, { ...query, snapshot: '1' }, token);
  try {
    return snapshotSchema.parse((await sub.waitFor('initial')).data);
  } finally {
    sub.close();
  }
}

const orders = (store: string, n: number) => Array.from({ length: n }, (_, i) => sample.storeOrder(store, { data: { order_id: `${store}-${i}`, items: [{ name: 'Ramen', quantity: 1 }], total: 9 } }));
const walk = async (path: string, token?: string, order: 'asc' | 'desc' = 'asc') => (await allPages<StatePage>(t.url, path, token, { order })).map((p) => statePageSchema.parse(p));
const rowsOf = (pages: StatePage[], field: 'store_orders' | 'trading_orders' | 'positions' | 'mail' | 'mail_sync') => pages.flatMap((p) => p[field] ?? []);
const keys = (rows: ProjectionRow[]) => rows.map((r) => r.key);

describe('current state is bounded, and says so when it is cut', () => {
  it('the initial snapshot counts every kind in scope and holds the newest rows up to the cap', async () => {
    const seqs = await pub(orders('cap', 12));
    const snap = await snapshot({ store_id: 'cap' });
    expect(snap.counts.store_orders).toEqual({ total: 12, returned: 5 });
    expect(snap.store_orders.map((r) => r.seq)).toEqual(seqs.slice(-5).reverse());
    expect(snap.counts.trading_orders).toEqual({ total: 0, returned: 0 });
    expect(truncatedFields(snap.counts)).toEqual(['store_orders']);

    // Under the cap nothing is cut and the counts agree with the lists.
    await pub([sample.tradingOrder('cu', 'cs'), sample.tradingOrder('cu', 'cs')]);
    const trader = await snapshot({ user_id: 'cu' });
    expect(trader.counts.trading_orders).toEqual({ total: 2, returned: 2 });
    expect(truncatedFields(trader.counts)).toEqual([]);

    // Totals follow the state: deleted orders leave the count.
    await pub(['cap-0', 'cap-1', 'cap-11'].map((order_id) => ({ type: 'store.order.deleted', store_id: 'cap', data: { order_id } })));
    const after = await snapshot({ store_id: 'cap' });
    expect(after.counts.store_orders).toEqual({ total: 9, returned: 5 });
    expect(keys(after.store_orders)).not.toContain('cap///cap-11');
  });

  it('GET /v1/state pages through every row exactly once, across the kinds of a view, in either order', async () => {
    await pub([
      ...Array.from({ length: 8 }, (_, i) => sample.mail('pm', { data: { email_id: `pm-${i}`, from: 'a@example.com', subject: `s${i}`, folder: 'INBOX' } })),
      ...['a', 'b', 'c'].map((account) => ({ type: 'mail.sync.completed', user_id: 'pm', data: { account, new_count: 1, duration_ms: 5 } })),
    ]);
    for (const order of ['asc', 'desc'] as const) {
      const pages = await walk('/v1/state/mail?user_id=pm&limit=4', undefined, order);
      expect(pages.map((p) => (p.mail?.length ?? 0) + (p.mail_sync?.length ?? 0))).toEqual([4, 4, 3]);
      const mail = keys(rowsOf(pages, 'mail'));
      expect(new Set(mail).size).toBe(mail.length);
      expect(mail.sort()).toEqual(Array.from({ length: 8 }, (_, i) => `/pm//pm-${i}`).sort());
      expect(rowsOf(pages, 'mail_sync')).toHaveLength(3);
      for (const p of pages) expect(p.counts).toEqual({ mail: { total: 8, returned: p.mail!.length }, mail_sync: { total: 3, returned: p.mail_sync!.length } });
      // Pages follow each other in seq order: every row of a page is past the previous page's cursor.
      const spans = pages.map((p) => [...p.mail!, ...p.mail_sync!].map((r) => r.seq));
      for (let i = 1; i < spans.length; i++)
        if (order === 'asc') expect(Math.min(...spans[i]!)).toBeGreaterThan(Math.max(...spans[i - 1]!));
        else expect(Math.max(...spans[i]!)).toBeLessThan(Math.min(...spans[i - 1]!));
    }

    // The whole orders view, bigger than the snapshot caps: every row of both kinds once, and the
    // totals each page reports are what the walk finds.
    await pub([...orders('big', 11), ...Array.from({ length: 7 }, () => sample.tradingOrder('bu', 'bs'))]);
    const pages = await walk('/v1/state/orders?limit=5');
    for (const field of ['store_orders', 'trading_orders'] as const) {
      const rows = keys(rowsOf(pages, field));
      expect(new Set(rows).size).toBe(rows.length);
      expect(rows.length).toBe(pages[0]!.counts[field]!.total);
      expect(pages.every((p) => p.counts[field]!.total === rows.length)).toBe(true);
    }
    expect(keys(rowsOf(pages, 'store_orders'))).toEqual(expect.arrayContaining(Array.from({ length: 11 }, (_, i) => `big///big-${i}`)));
    expect(rowsOf(pages, 'trading_orders').filter((r) => r.user_id === 'bu')).toHaveLength(7);
  });

  it('an ascending walk never skips a row that changes while it pages; a changed row comes again with its new data', async () => {
    await pub(orders('walk', 6));
    const first = statePageSchema.parse((await api(t.url, '/v1/state/orders?store_id=walk&order=asc&limit=3')).body);
    expect(keys(first.store_orders!)).toEqual(['walk///walk-0', 'walk///walk-1', 'walk///walk-2']);
    // One row already returned and one not yet returned change between pages.
    await pub(['walk-1', 'walk-4'].map((order_id) => ({ type: 'store.order.updated', store_id: 'walk', data: { order_id, status: 'ready' } })));
    const rest = await allPages<StatePage>(t.url, '/v1/state/orders?store_id=walk&limit=3', undefined, { order: 'asc', from: first.next_cursor });
    const seen = [...first.store_orders!, ...rest.flatMap((p) => p.store_orders ?? [])];
    const latest = new Map(seen.map((r) => [r.key, r]));
    expect([...latest.keys()].sort()).toEqual(Array.from({ length: 6 }, (_, i) => `walk///walk-${i}`));
    expect(latest.get('walk///walk-1')!.data.status).toBe('ready');
    expect(latest.get('walk///walk-4')!.data.status).toBe('ready');
  });

  it("a scoped token's counts, snapshot and pages cover only its scope", async () => {
    await pub([...orders('sa', 7), ...orders('sb', 9), sample.tradingOrder('su', 'ss')]);
    const storeToken = await createToken(t.url, 'subscriber', { store_ids: ['sa'] });

    const state = statePageSchema.parse((await api(t.url, '/v1/state/orders', { token: storeToken })).body);
    expect(state.counts).toEqual({ store_orders: { total: 7, returned: 7 }, trading_orders: { total: 0, returned: 0 } });
    const snap = await snapshot({}, storeToken);
    expect(snap.counts.store_orders).toEqual({ total: 7, returned: 5 });
    for (const f of ['trading_orders', 'positions', 'mail', 'mail_sync'] as const) expect(snap.counts[f]).toEqual({ total: 0, returned: 0 });
    const pages = await walk('/v1/state/orders?limit=3', storeToken);
    expect(keys(rowsOf(pages, 'store_orders')).sort()).toEqual(Array.from({ length: 7 }, (_, i) => `sa///sa-${i}`).sort());
    expect(pages.every((p) => p.counts.store_orders!.total === 7 && p.counts.trading_orders!.total === 0)).toBe(true);

    // A trader bound to one strategy counts only that strategy's positions, not its other one's or another user's.
    const pos = (user: string, strategy: string, n: number) => Array.from({ length: n }, () => sample.position(user, strategy));
    await pub([...pos('tu', '1', 6), ...pos('tu', '2', 4), ...pos('tv', '1', 3)]);
    const trader = await createToken(t.url, 'subscriber', { user_id: 'tu', strategy_ids: ['1'] });
    const positions = statePageSchema.parse((await api(t.url, '/v1/state/positions', { token: trader })).body);
    expect(positions.counts).toEqual({ positions: { total: 6, returned: 6 } });
    expect(positions.positions!.every((r) => r.user_id === 'tu' && r.strategy_id === '1')).toBe(true);
    expect((await snapshot({}, trader)).counts.positions).toEqual({ total: 6, returned: 5 });
    // Filters narrow the count the same way they narrow the rows.
    expect((await api(t.url, '/v1/state/positions?user_id=tu')).body.counts.positions.total).toBe(10);
    expect((await api(t.url, '/v1/state/positions?user_id=tu&strategy_id=2&limit=1')).body.counts.positions).toEqual({ total: 4, returned: 1 });
  });

  it('looks rows up by key (what a console missing a row asks for), inside the scope only', async () => {
    await pub([...orders('ka', 3), ...orders('kb', 2)]);
    const both = statePageSchema.parse((await api(t.url, '/v1/state/orders?key=ka///ka-0&key=kb///kb-1&key=ka///none')).body);
    expect(keys(both.store_orders!).sort()).toEqual(['ka///ka-0', 'kb///kb-1']);
    expect(both.store_orders!.find((r) => r.key === 'ka///ka-0')!.data).toMatchObject({ order_id: 'ka-0', items: [{ name: 'Ramen', quantity: 1 }], total: 9 });
    expect(both.counts.store_orders).toEqual({ total: 2, returned: 2 });
    // A token scoped to store ka asking for kb's key gets nothing, and learns nothing from the count.
    const kaToken = await createToken(t.url, 'subscriber', { store_ids: ['ka'] });
    const scoped = statePageSchema.parse((await api(t.url, '/v1/state/orders?key=ka///ka-0&key=kb///kb-1', { token: kaToken })).body);
    expect(keys(scoped.store_orders!)).toEqual(['ka///ka-0']);
    expect(scoped.counts.store_orders).toEqual({ total: 1, returned: 1 });
    // Keys are taken whole: a comma is part of a key, not a separator.
    expect((await api(t.url, `/v1/state/orders?key=${encodeURIComponent('ka///ka-0,kb///kb-1')}`)).body.store_orders).toEqual([]);
  });

  it('refuses a bad limit, cursor or order with a 400 naming the field', async () => {
    const refused = async (query: string) => {
      const r = await api(t.url, `/v1/state/orders?${query}`);
      expect(r.status, query).toBe(400);
      return r.body.error.fields as { path: string; reason: string }[];
    };
    expect(await refused('limit=0')).toEqual([{ path: 'limit', reason: 'must be at least 1' }]);
    expect(await refused('limit=5001')).toEqual([{ path: 'limit', reason: 'must be at most 5000' }]);
    expect(await refused('limit=ten')).toEqual([{ path: 'limit', reason: 'must be an integer' }]);
    expect((await refused('cursor=-1')).map((f) => f.path)).toEqual(['cursor']);
    expect((await refused('cursor=abc')).map((f) => f.path)).toEqual(['cursor']);
    expect((await refused('order=newest')).map((f) => f.path)).toEqual(['order']);
    expect((await refused('page=2')).map((f) => f.path)).toEqual(['page']);
    expect(await refused('key=')).toEqual([{ path: 'key.0', reason: 'must not be empty' }]);
    expect(await refused(`key=${'k'.repeat(1025)}`)).toEqual([{ path: 'key.0', reason: 'must be at most 1024 characters' }]);
    expect(await refused(Array.from({ length: 101 }, (_, i) => `key=k${i}`).join('&'))).toEqual([{ path: 'key', reason: 'at most 100 values' }]);
    // History pages with the same parameters, with its own bound.
    expect((await api(t.url, '/v1/events?limit=0')).body.error.fields).toEqual([{ path: 'limit', reason: 'must be at least 1' }]);
  });
});
