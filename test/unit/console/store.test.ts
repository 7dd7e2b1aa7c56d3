import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleStore, FRESH_MS, LIVE_CAP, TOMBSTONE_MS, type Notice } from '../../../renderer/stream/store.ts';
import type { HubEvent, Priority } from '../../../shared/events.ts';
import { inboxChangeSchema, inboxPageSchema } from '../../../shared/inbox.ts';
import type { Snapshot } from '../../../shared/state.ts';
import { stateRowKey } from '../../../shared/state-keys.ts';
import { publish, startTestHub, until, type TestHub } from '../../helpers/hub.ts';
import { consoleSession } from './console-session.ts';

/** The console's store: what the window holds, outside React. Events are shaped as the hub sends them. */
let seq = 0;
const at = '2026-12-02T12:00:00.000Z';
function ev(type: string, data: Record<string, unknown>, keys: Partial<HubEvent> = {}): HubEvent {
  seq++;
  return { seq, id: `e${seq}`, type, data, store_id: null, user_id: null, strategy_id: null, priority: 'normal', time: at, received_at: at, ...keys } as HubEvent;
}
const created = (store: string, id: string, extra: Partial<HubEvent> = {}) =>
  ev('store.order.created', { order_id: id, table_id: 'T1', items: [{ name: 'Soba', quantity: 1 }], total: 9 }, { store_id: store, ...extra });
const deleted = (store: string, id: string) => ev('store.order.deleted', { order_id: id }, { store_id: store });
const emptySnapshot = (s: number): Snapshot =>
  ({
    seq: s,
    truncated: null,
    counts: { store_orders: { total: 0, returned: 0 }, trading_orders: { total: 0, returned: 0 }, positions: { total: 0, returned: 0 }, mail: { total: 0, returned: 0 }, mail_sync: { total: 0, returned: 0 } },
    store_orders: [],
    trading_orders: [],
    positions: [],
    mail: [],
    mail_sync: [],
  }) as unknown as Snapshot;

describe('ConsoleStore', () => {
  it('live events fill the tables and the live buffer; only the slices that moved are bumped', () => {
    const s = new ConsoleStore();
    const a = created('12', 'A');
    const b = created('12', 'B');
    const before = { live: s.version('live'), tables: s.version('tables'), link: s.version('link') };
    s.addEvents([a, b]);
    expect(s.events.map((e) => e.seq)).toEqual([a.seq, b.seq]);
    expect([...s.tables.store_order.keys()]).toEqual([stateRowKey({ store_id: '12' }, 'A'), stateRowKey({ store_id: '12' }, 'B')]);
    expect(s.received).toBe(2);
    expect(s.version('live')).toBe(before.live + 1);
    expect(s.version('tables')).toBe(before.tables + 1);
    expect(s.version('link')).toBe(before.link);
  });

  it('history and the stream can overlap at start: each seq is in the live buffer once, in order', () => {
    const s = new ConsoleStore();
    const [e1, e2, e3] = [created('1', 'x'), created('1', 'y'), created('1', 'z')];
    s.addEvents([e2, e3]);
    s.addHistory([e1, e2]);
    expect(s.events.map((e) => e.seq)).toEqual([e1.seq, e2.seq, e3.seq]);
    // History is older than the state the window holds: it never touches the tables.
    expect(s.tables.store_order.has(stateRowKey({ store_id: '1' }, 'x'))).toBe(false);
  });

  it(`keeps at most ${LIVE_CAP} live rows and counts the ones it dropped`, () => {
    const s = new ConsoleStore();
    const evs = Array.from({ length: LIVE_CAP + 120 }, (_, i) => ev('x.demo.tick', { i }));
    s.addEvents(evs.slice(0, 3000));
    s.addEvents(evs.slice(3000));
    expect(s.events).toHaveLength(LIVE_CAP);
    expect(s.dropped).toBe(120);
    expect(s.events[0]!.seq).toBe(evs[120]!.seq);
  });

  it('events the snapshot already covers do not change its rows', () => {
    const s = new ConsoleStore();
    const early = created('5', 'old');
    s.applySnapshot(emptySnapshot(early.seq));
    s.addEvents([early]);
    expect(s.tables.store_order.size).toBe(0);
    expect(s.events.map((e) => e.seq)).toEqual([early.seq]);
    const later = created('5', 'new');
    s.addEvents([later]);
    expect(s.tables.store_order.size).toBe(1);
  });

  it('a reset for a different log drops the live rows; a retention reset keeps them', () => {
    const s = new ConsoleStore();
    s.addEvents([created('1', 'a'), created('1', 'b')]);
    s.applyReset({ reason: 'retention', requested_seq: 1, oldest_seq: 5, head_seq: 9, message: 'pruned' } as never);
    expect(s.events).toHaveLength(2);
    s.applyReset({ reason: 'epoch_changed', requested_seq: 1, oldest_seq: 1, head_seq: 1, message: 'another log' } as never);
    expect(s.events).toHaveLength(0);
    expect(s.dropped).toBe(2);
    expect(s.lastReset?.reason).toBe('epoch_changed');
  });

  it('a new order is highlighted, a deleted one struck through; both expire', () => {
    const s = new ConsoleStore();
    let chimes = 0;
    s.onNewOrder = () => chimes++;
    s.addEvents([created('3', 'A')]);
    const key = stateRowKey({ store_id: '3' }, 'A');
    expect(s.freshOrders.has(key)).toBe(true);
    expect(chimes).toBe(1);
    s.addEvents([deleted('3', 'A')]);
    expect(s.tables.store_order.has(key)).toBe(false);
    expect(s.tombstones.get(key)?.row.data.order_id).toBe('A');
    const freshSince = s.freshOrders.get(key)!;
    s.expire(s.tombstones.get(key)!.at + TOMBSTONE_MS + 1);
    expect(s.tombstones.size).toBe(0);
    expect(s.freshOrders.has(key)).toBe(true);
    s.expire(freshSince + FRESH_MS + 1);
    expect(s.freshOrders.size).toBe(0);
  });

  it('raises at most three desktop notifications per batch, only at the desktop threshold, none when muted', () => {
    const s = new ConsoleStore();
    const raised: Notice[] = [];
    s.desktopNotify = (n) => void raised.push(n);
    const alert = (p: Priority) => ev('x.ops.alert', { text: p }, { priority: p });
    s.addEvents([alert('urgent'), alert('high'), alert('urgent'), alert('urgent'), alert('urgent'), alert('urgent')]);
    expect(raised).toHaveLength(3);
    expect(raised.every((n) => n.priority === 'urgent')).toBe(true);
    expect(s.notices).toHaveLength(6);
    expect(s.unreadUrgent).toBe(5);
    s.setSettings({ ...s.settings, muted: true });
    s.addEvents([alert('urgent')]);
    expect(raised).toHaveLength(3);
  });

  it('a frame whose data does not match its type is counted, not shown as a row', () => {
    const s = new ConsoleStore();
    s.addEvents([ev('store.order.created', { order_id: 42, items: 'none' }, { store_id: '1' })]);
    expect(s.invalid).toBe(1);
    expect(s.tables.store_order.size).toBe(0);
  });
});

describe('ConsoleStore inbox against a real hub (cookie session)', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(async () => {
    await hub?.stop();
  });

  /** The inbox API as App.tsx wires it, over HTTP with the window's cookie. */
  const inboxOver = (cookie: string) => ({
    list: async (min: Priority, limit: number) => inboxPageSchema.parse(await (await fetch(`${hub.url}/v1/inbox?min_priority=${min}&limit=${limit}`, { headers: { cookie } })).json()),
    mark: async (op: string, body: unknown) => {
      const res = await fetch(`${hub.url}/v1/inbox/${op}`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const json = await res.json();
      if (!res.ok) throw new Error(json.error.message);
      return inboxChangeSchema.parse(json);
    },
  });

  it('read marks go to the hub and a second window of the same token loads them; Clear all empties both', async () => {
    const session = await consoleSession(hub.url, 'operator');
    const r = await publish(hub.url, [
      { type: 'x.ops.alert', priority: 'urgent', data: { text: 'fryer on fire' } },
      { type: 'x.ops.alert', priority: 'high', data: { text: 'slow kitchen' } },
      { type: 'x.ops.alert', priority: 'low', data: { text: 'fyi' } },
    ]);
    const [urgent] = r.body.results.map((x: { seq: number }) => x.seq);
    const one = new ConsoleStore();
    one.connectInbox(inboxOver(session.cookie));
    await one.loadInbox();
    expect(one.notices.map((n) => n.priority)).toEqual(['high', 'urgent']);
    expect(one.unreadUrgent).toBe(1);
    one.markRead(urgent);
    expect(one.unreadUrgent).toBe(0); // at once, before the hub answers

    const two = new ConsoleStore();
    two.connectInbox(inboxOver(session.cookie));
    await until(async () => {
      await two.loadInbox();
      return two.notices.find((n) => n.seq === urgent)?.read;
    }, 'the read mark at the hub');
    one.dismiss('all');
    await until(async () => {
      await two.loadInbox();
      return two.notices.length === 0;
    }, 'cleared at the hub');
    expect(one.notices).toEqual([]);
  });
});
