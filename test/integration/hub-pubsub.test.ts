import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestHub, api, publish, until, type TestHub } from '../helpers/hub.ts';
import { Subscriber, rawStream } from '../helpers/sse.ts';
import { sample } from '../helpers/events.ts';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(async () => {
  await t.stop();
});

describe('publish and subscribe', () => {
  it('delivers each domain to the subscriber filtered for it, with the hub-assigned sequence as SSE id', async () => {
    const stores = new Subscriber(t.url, { store_id: 's1' });
    const trading = new Subscriber(t.url, { type: 'trading.*', strategy_id: '2' });
    const mail = new Subscriber(t.url, { type: 'mail.*', user_id: 'u9' });
    await Promise.all([stores, trading, mail].map((s) => s.waitFor('connection')));

    const r = await publish(t.url, [sample.storeOrder('s1'), sample.tradingOrder('u1', 2), sample.position('u1', 2), sample.mail('u9'), sample.storeOrder('s2')]);
    expect(r.status).toBe(201);
    const seqs = r.body.results.map((x: { seq: number }) => x.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    expect((await stores.waitForEvents(1)).map((e) => e.seq)).toEqual([seqs[0]]);
    expect((await trading.waitForEvents(2)).map((e) => e.type)).toEqual(['trading.order.created', 'trading.position.updated']);
    expect((await mail.waitForEvents(1))[0]!.data).toMatchObject({ subject: 'Invoice', folder: 'INBOX' });
    expect(stores.all.find((x) => x.name === 'message')!.lastEventId).toBe(`${seqs[0]}@${t.hub.log.epochs.current}`);
    for (const s of [stores, trading, mail]) s.close();
  });

  it('names domain events by type by default, as curl -N and seed clients expect', async () => {
    const raw = rawStream(t.url, '/v1/stream?type=x.*');
    await raw.ready;
    await until(() => raw.text.includes('event: connection'), 'connection');
    const r = await publish(t.url, { type: 'x.shift.published', data: { note: 'line1\nline2' } });
    await until(() => raw.text.includes('event: x.shift.published'), 'named frame');
    const frame = raw.text.slice(raw.text.indexOf(`id: ${r.body.results[0].seq}@${t.hub.log.epochs.current}\n`)).split('\n\n')[0]!;
    expect(frame.split('\n')).toHaveLength(3);
    expect(frame).toContain('"note":"line1\\nline2"');
    raw.destroy();
  });

  it('commits a batch all or nothing', async () => {
    const before = await api(t.url, '/v1/events?type=x.batch.*&limit=1000');
    const bad = await publish(t.url, [{ type: 'x.batch.a', data: {} }, { type: 'x.batch.b', data: 'nope' }]);
    expect(bad.status).toBe(422);
    expect(bad.body.error.fields[0].path).toBe('1.data');
    const after = await api(t.url, '/v1/events?type=x.batch.*&limit=1000');
    expect(after.body.events.length).toBe(before.body.events.length);

    // A batch whose second event reuses an id with different content fails as a whole, too.
    await publish(t.url, { id: 'batch-fixed', type: 'x.batch.a', data: { v: 1 } });
    const conflict = await publish(t.url, [{ id: 'batch-new', type: 'x.batch.a', data: {} }, { id: 'batch-fixed', type: 'x.batch.a', data: { v: 2 } }]);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.fields).toEqual([{ path: '1.id', reason: 'id already used for a different event' }]);
    const ids = (await api(t.url, '/v1/events?type=x.batch.*&limit=1000')).body.events.map((e: { id: string }) => e.id);
    expect(ids).not.toContain('batch-new');
  });

  it('stores and delivers an idempotency key once, and refuses it for different content', async () => {
    const sub = new Subscriber(t.url, { type: 'x.idem.*' });
    await sub.waitFor('connection');
    const ev = { id: 'order-42-created', type: 'x.idem.test', data: { n: 1 } };
    const [a, b] = await Promise.all([publish(t.url, ev), publish(t.url, ev)]);
    const c = await publish(t.url, [ev, ev]);
    expect([a.status, b.status, c.status]).toEqual([201, 201, 201]);
    const seqs = new Set([a, b, c].flatMap((r) => r.body.results.map((x: { seq: number }) => x.seq)));
    expect(seqs.size).toBe(1);
    expect([a, b].map((r) => r.body.results[0].duplicate).sort()).toEqual([false, true]);

    const other = await publish(t.url, { ...ev, data: { n: 2 } });
    expect(other.status).toBe(409);
    expect(other.body.error.fields[0].path).toBe('id');
    // Priority is part of "the same event" too.
    expect((await publish(t.url, { ...ev, priority: 'urgent' })).status).toBe(409);
    // Scope keys are the id's namespace: under other keys the same id is another event
    // (hub-id-namespace.test.ts), stored once there as well.
    const elsewhere = await publish(t.url, [{ ...ev, store_id: 's9' }, { ...ev, store_id: 's9' }]);
    expect(elsewhere.status).toBe(201);
    expect(elsewhere.body.results.map((x: { seq: number }) => x.seq)).toEqual(Array(2).fill(elsewhere.body.results[0].seq));
    expect(seqs.has(elsewhere.body.results[0].seq)).toBe(false);

    await publish(t.url, { type: 'x.idem.test', data: { marker: true } });
    await sub.waitForEvents(3);
    expect(sub.events.filter((e) => e.id === ev.id).map((e) => e.store_id)).toEqual([null, 's9']);
    sub.close();
  });

  it('gives id-less events ids no publisher can choose, so publisher ids never block them', async () => {
    const taken = await publish(t.url, { id: `ev-${t.hub.log.head + 1}`, type: 'x.gen.a', data: {} });
    expect(taken.status).toBe(201);
    const r = await publish(t.url, [{ type: 'x.gen.b', data: {} }, { type: 'x.gen.c', data: {} }]);
    expect(r.status).toBe(201);
    expect(r.body.results.map((x: { id: string; seq: number }) => x.id)).toEqual(r.body.results.map((x: { seq: number }) => `#${x.seq}`));
    const forged = await publish(t.url, { id: '#1', type: 'x.gen.d', data: {} });
    expect([forged.status, forged.body.error.fields[0].path]).toEqual([422, 'id']);
  });

  it('starts a snapshot subscriber with the current state, then live changes', async () => {
    const created = sample.storeOrder('snap', { data: { order_id: 'A1', table_id: 'T7', items: [{ name: 'Tea', quantity: 2 }], total: 6 } });
    await publish(t.url, [created, { type: 'store.order.updated', store_id: 'snap', data: { order_id: 'A1', status: 'preparing' } }]);
    const sub = new Subscriber(t.url, { store_id: 'snap', snapshot: '1' });
    const initial = await sub.waitFor('initial');
    expect(initial.data.store_orders).toHaveLength(1);
    expect(initial.data.store_orders[0].data).toMatchObject({ order_id: 'A1', status: 'preparing', table_id: 'T7' });
    expect(initial.lastEventId).toBe(`${initial.data.seq}@${t.hub.log.epochs.current}`);

    await publish(t.url, { type: 'store.session.ended', store_id: 'snap', data: { table_id: 'T7' } });
    await sub.waitForEvents(1);
    const state = await api(t.url, '/v1/state/orders?store_id=snap');
    expect(state.body.store_orders).toEqual([]);
    sub.close();
  });

  it('keeps projections of trading orders, positions and mail in step with the log', async () => {
    const order = sample.tradingOrder('pu', 'ps');
    const pos = sample.position('pu', 'ps');
    const mail = sample.mail('pu');
    const d = order.data as Record<string, unknown>;
    await publish(t.url, [
      order,
      { ...order, id: undefined, type: 'trading.order.filled', data: { ...d, status: 'FILLED', filled_quantity: 0.01 } },
      pos,
      mail,
      { type: 'mail.email.classified', user_id: 'pu', data: { email_id: (mail.data as { email_id: string }).email_id, category: 'billing', priority: 'high', summary: 'Invoice due' } },
    ]);
    const orders = await api(t.url, '/v1/state/orders?user_id=pu');
    expect(orders.body.trading_orders[0].data).toMatchObject({ status: 'FILLED', filled_quantity: 0.01 });
    const positions = await api(t.url, '/v1/state/positions?strategy_id=ps');
    expect(positions.body.positions[0].data).toMatchObject({ quantity: 1.5, entry_price: 3100 });
    const inbox = await api(t.url, '/v1/state/mail?user_id=pu');
    expect(inbox.body.mail[0].data.classification).toEqual({ category: 'billing', priority: 'high', summary: 'Invoice due' });
    await publish(t.url, { ...pos, type: 'trading.position.closed' });
    expect((await api(t.url, '/v1/state/positions?strategy_id=ps')).body.positions).toEqual([]);
  });

  it('answers history queries by scope, type, text and cursor', async () => {
    const batch = Array.from({ length: 25 }, (_, i) => ({ type: 'x.hist.item', store_id: 'h1', data: { i, word: i % 5 === 0 ? 'needle' : 'hay' } }));
    await publish(t.url, batch);
    const page1 = await api(t.url, '/v1/events?type=x.hist.*&limit=10&order=asc');
    expect(page1.body.events.map((e: { data: { i: number } }) => e.data.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const page2 = await api(t.url, `/v1/events?type=x.hist.*&limit=10&order=asc&cursor=${page1.body.next_cursor}`);
    expect(page2.body.events[0].data.i).toBe(10);
    const found = await api(t.url, '/v1/events?type=x.hist.item&q=needle&store_id=h1');
    expect(found.body.events.map((e: { data: { i: number } }) => e.data.i).sort((a: number, b: number) => a - b)).toEqual([0, 5, 10, 15, 20]);
    const since = page1.body.events[0].time;
    const timed = await api(t.url, `/v1/events?type=x.hist.*&since=${encodeURIComponent(since)}&limit=1000`);
    expect(timed.body.events.length).toBe(25);
  });

  it('reports stats and Prometheus metrics', async () => {
    const stats = await api(t.url, '/v1/stats');
    expect(stats.status).toBe(200);
    expect(stats.body.head_seq).toBeGreaterThan(0);
    expect(stats.body.log.events).toBeGreaterThan(0);
    expect(stats.body.bus.engine).toBe('local');
    const metrics = await api(t.url, '/metrics');
    expect(metrics.body).toContain('relaydesk_events_published_total');
    expect(metrics.body).toContain('relaydesk_log_head_seq');
  });
});
