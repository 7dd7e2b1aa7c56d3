import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestHub, api, publish, createToken, allEvents, type TestHub } from '../helpers/hub.ts';
import { Subscriber } from '../helpers/sse.ts';
import { snapshotSchema, statePageSchema, stateFields, stateKinds, stateViews, type ProjectionRow, type StateView } from '../../shared/state.ts';
import type { PublishEnvelope } from '../../shared/events.ts';
import { applyEvent, emptyTables, parseData, type Change } from '../../renderer/stream/projections.ts';

/**
 * A scoped publisher writes current state only under its own scope keys: whatever domain ids it
 * uses, it cannot replace, patch, delete or session-end rows that other scopes wrote. The log is
 * the same either way; what is at stake is GET /v1/state and the `initial` snapshot.
 */
let t: TestHub;
let store12user7: string;
let user7strategy1: string;
let seesUser8: string;
let seesUser7: string;
beforeAll(async () => {
  t = await startTestHub();
  store12user7 = await createToken(t.url, 'publisher', { store_ids: ['12'], user_id: '7' });
  user7strategy1 = await createToken(t.url, 'publisher', { user_id: '7', strategy_ids: ['1'] });
  seesUser8 = await createToken(t.url, 'subscriber', { user_id: '8' });
  seesUser7 = await createToken(t.url, 'subscriber', { user_id: '7' });
});
afterAll(async () => {
  await t.stop();
});

async function pub(events: PublishEnvelope | PublishEnvelope[], token?: string): Promise<void> {
  const r = await publish(t.url, events, token);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
}

const order = (user: string, order_id: number, extra: Record<string, unknown> = {}): PublishEnvelope => ({
  type: 'store.order.created',
  store_id: 12,
  user_id: user,
  data: { order_id, table_id: 'T4', items: [{ name: 'Ramen', quantity: 1, price: 9 }], total: 9, ...extra },
});

async function rows(view: StateView, token?: string, query = ''): Promise<ProjectionRow[]> {
  const r = await api(t.url, `/v1/state/${view}?limit=5000${query}`, { token });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  const page = statePageSchema.parse(r.body);
  return stateViews[view].flatMap((k) => page[stateFields[k]] ?? []);
}

async function snapshotRows(token: string): Promise<ProjectionRow[]> {
  const sub = new Subscriber(t.url, { snapshot: '1' }, token);
  try {
    const snap = snapshotSchema.parse((await sub.waitFor('initial')).data);
    return stateKinds.flatMap((k) => snap[stateFields[k]]);
  } finally {
    sub.close();
  }
}

const orderOf = (rs: ProjectionRow[], id: number) => rs.filter((r) => r.data.order_id === String(id));

describe('state changes stay inside the writer’s scope', () => {
  it('a user-7 publisher creating “its” order 1002 does not replace user 8’s order 1002', async () => {
    await pub(order('8', 1002, { note: 'for user 8' }));
    await pub(order('7', 1002, { note: 'user 7 was here', total: 1 }), store12user7);

    const eight = orderOf(await rows('orders', seesUser8), 1002);
    expect(eight).toHaveLength(1);
    expect(eight[0]).toMatchObject({ key: '12/8//1002', user_id: '8', data: { note: 'for user 8', total: 9 } });
    expect(orderOf(await snapshotRows(seesUser8), 1002)).toEqual(eight);
    // User 7 sees its own row and nothing of user 8's.
    const seven = orderOf(await rows('orders', seesUser7), 1002);
    expect(seven.map((r) => [r.key, r.data.note])).toEqual([['12/7//1002', 'user 7 was here']]);
    // A patch by the same publisher lands on its own row too.
    await pub({ type: 'store.order.updated', store_id: 12, user_id: 7, data: { order_id: 1002, status: 'cancelled' } }, store12user7);
    expect(orderOf(await rows('orders', seesUser8), 1002)[0]!.data.status).toBe('pending');
    // An admin (the whole store) sees both, each under its own key; a key lookup answers in scope.
    expect(orderOf(await rows('orders'), 1002).map((r) => r.key).sort()).toEqual(['12/7//1002', '12/8//1002']);
    expect((await rows('orders', seesUser7, '&key=12/8//1002&key=12/7//1002')).map((r) => r.key)).toEqual(['12/7//1002']);
  });

  it('a user-7 publisher deleting order 2002 does not delete user 8’s (admin-written) order 2002', async () => {
    await pub(order('8', 2002));
    await pub({ type: 'store.order.deleted', store_id: 12, user_id: 7, data: { order_id: 2002 } }, store12user7);
    expect(orderOf(await rows('orders', seesUser8), 2002)).toHaveLength(1);
    expect(orderOf(await snapshotRows(seesUser8), 2002)).toHaveLength(1);
    // Whoever wrote it under user 8 deletes it by repeating user 8's keys.
    await pub({ type: 'store.order.deleted', store_id: 12, user_id: 8, data: { order_id: 2002 } });
    expect(orderOf(await rows('orders', seesUser8), 2002)).toHaveLength(0);
  });

  it('a user-7 session end clears user 7’s orders at the table, not user 8’s; a store-wide one clears both', async () => {
    await pub([order('8', 3003, { table_id: 'T9' }), order('8', 3005, { table_id: 'T1' })]);
    await pub(order('7', 3004, { table_id: 'T9' }), store12user7);
    await pub({ type: 'store.session.ended', store_id: 12, user_id: 7, data: { table_id: 'T9' } }, store12user7);
    expect(orderOf(await rows('orders', seesUser7), 3004)).toHaveLength(0);
    expect(orderOf(await rows('orders', seesUser8), 3003)).toHaveLength(1);
    expect(orderOf(await snapshotRows(seesUser8), 3003)).toHaveLength(1);
    // A session end that carries only the store reaches every user's orders at that table, and only there.
    await pub(order('7', 3006, { table_id: 'T9' }), store12user7);
    await pub({ type: 'store.session.ended', store_id: 12, data: { table_id: 'T9' } });
    const left = await rows('orders', undefined, '&store_id=12');
    expect([3003, 3004, 3006].flatMap((id) => orderOf(left, id))).toEqual([]);
    expect(orderOf(left, 3005)).toHaveLength(1);
  });

  it('a user-7/strategy-1 publisher cannot delete or replace mail written under strategy 2', async () => {
    const mail = (strategy: number, subject: string): PublishEnvelope => ({
      type: 'mail.email.new',
      user_id: 7,
      strategy_id: strategy,
      data: { email_id: 'e-1', from: 'desk@example.com', subject },
    });
    await pub(mail(2, 'strategy 2 report'));
    await pub({ type: 'mail.email.updated', user_id: 7, strategy_id: 1, data: { email_id: 'e-1', deleted: true } }, user7strategy1);
    await pub(mail(1, 'strategy 1 forgery'), user7strategy1);
    const s2 = (await rows('mail', undefined, '&strategy_id=2')).filter((r) => r.data.email_id === 'e-1');
    expect(s2.map((r) => [r.key, r.data.subject])).toEqual([['/7/2/e-1', 'strategy 2 report']]);
    const s2snap = (await snapshotRows(await createToken(t.url, 'subscriber', { user_id: '7', strategy_ids: ['2'] }))).filter((r) => r.data.email_id === 'e-1');
    expect(s2snap.map((r) => r.data.subject)).toEqual(['strategy 2 report']);
    // Classifying under strategy 1 does not touch it either.
    await pub({ type: 'mail.email.classified', user_id: 7, strategy_id: 1, data: { email_id: 'e-1', category: 'spam', priority: 'low' } }, user7strategy1);
    expect((await rows('mail', undefined, '&strategy_id=2')).find((r) => r.data.email_id === 'e-1')!.data.classification).toBeUndefined();
  });

  it('a strategy-1 publisher cannot close a strategy-2 position; the console’s reducer, fed the whole log, ends with exactly the hub’s state', async () => {
    const account = { account_id: 1, name: 'Main', exchange: 'BYBIT' };
    const position = (strategy: number, quantity: number): PublishEnvelope => ({
      type: 'trading.position.updated',
      user_id: 7,
      strategy_id: strategy,
      data: { position_id: 'p-1', symbol: 'ETH/USDT', quantity, entry_price: 3100, account },
    });
    await pub([position(2, 3), { type: 'mail.sync.completed', user_id: 7, strategy_id: 2, data: { account: 'desk', new_count: 1 } }]);
    await pub([position(1, 1), { ...position(1, 0), type: 'trading.position.closed' }], user7strategy1);
    await pub({ type: 'mail.sync.error', user_id: 7, strategy_id: 1, data: { account: 'desk', error: 'boom' } }, user7strategy1);
    const positions = await rows('positions');
    expect(positions.map((r) => [r.key, r.data.quantity])).toEqual([['/7/2/p-1', 3]]);
    expect((await rows('mail')).filter((r) => r.data.account === 'desk').map((r) => [r.key, r.data.state]).sort()).toEqual([
      ['/7/1/desk', 'error'],
      ['/7/2/desk', 'completed'],
    ]);

    const tables = emptyTables();
    const out: Change[] = [];
    for (const ev of await allEvents(t.url)) {
      const d = parseData(ev);
      if (d) applyEvent(tables, ev, d, out);
    }
    const hub = new Map<string, ProjectionRow>();
    for (const view of Object.keys(stateViews) as StateView[]) {
      const r = statePageSchema.parse((await api(t.url, `/v1/state/${view}?limit=5000`)).body);
      for (const kind of stateViews[view]) for (const row of r[stateFields[kind]] ?? []) hub.set(`${kind} ${row.key}`, row);
    }
    const mine = new Map(stateKinds.flatMap((kind) => [...tables[kind].values()].map((row) => [`${kind} ${row.key}`, row] as const)));
    expect(hub.size).toBeGreaterThanOrEqual(8);
    expect(new Map([...mine].sort())).toEqual(new Map([...hub].sort()));
  });
});
