import { afterEach, describe, expect, it } from 'vitest';
import { SNAPSHOT_CAPS } from '../../../shared/state.ts';
import { ev, openCore, type Core } from './parts.ts';

let core: Core | undefined;
afterEach(() => {
  core?.close();
  core = undefined;
});

const order = (store: string, id: string, extra: Record<string, unknown> = {}) =>
  ev({ type: 'store.order.created', store_id: store, data: { order_id: id, items: [{ name: 'Ramen', quantity: 2, price: 9.5 }], total: 19, ...extra } });

describe('Projections', () => {
  it('holds the current orders as the log says, per store, in the same commit as the log', async () => {
    const c = (core = openCore());
    await c.engine.publish([order('12', '1001'), order('12', '1002'), order('13', '2001')]);
    await c.engine.publish([ev({ type: 'store.order.updated', store_id: '12', data: { order_id: '1001', status: 'preparing' } })]);
    await c.engine.publish([ev({ type: 'store.order.deleted', store_id: '12', data: { order_id: '1002' } })]);

    const snap = c.projections.snapshot(c.log.head, { store_ids: ['12'] }, {}, SNAPSHOT_CAPS);
    expect(snap.store_orders.map((r) => [r.data.order_id, r.data.status])).toEqual([['1001', 'preparing']]);
    expect(snap.counts.store_orders).toEqual({ total: 1, returned: 1 });
    expect(snap.seq).toBe(c.log.head);
    const other = c.projections.snapshot(c.log.head, { store_ids: ['13'] }, {}, SNAPSHOT_CAPS);
    expect(other.store_orders.map((r) => r.data.order_id)).toEqual(['2001']);
    // Numeric ids are read as strings: the same order however a publisher spelled its id.
    await c.engine.publish([ev({ type: 'store.order.updated', store_id: '13', data: { order_id: 2001, status: 'ready' } })]);
    expect(c.projections.snapshot(c.log.head, { store_ids: ['13'] }, {}, SNAPSHOT_CAPS).store_orders.map((r) => r.data.status)).toEqual(['ready']);
  });

  it('a refused request leaves no state behind', async () => {
    const c = (core = openCore());
    await c.engine.publish([ev({ id: 'dup', type: 'store.order.created', store_id: '12', data: { order_id: 'a', items: [{ name: 'x', quantity: 1 }], total: 1 } })]);
    // The batch's second event conflicts: the first one's order must not appear either.
    await expect(
      c.engine.publish([order('12', 'b'), ev({ id: 'dup', type: 'store.order.created', store_id: '12', data: { order_id: 'a', items: [{ name: 'y', quantity: 1 }], total: 1 } })]),
    ).rejects.toMatchObject({ status: 409 });
    const snap = c.projections.snapshot(c.log.head, {}, {}, SNAPSHOT_CAPS);
    expect(snap.store_orders.map((r) => r.data.order_id)).toEqual(['a']);
  });

  it('bounds each kind by bytes and says so', async () => {
    const c = (core = openCore());
    await c.engine.publish(Array.from({ length: 20 }, (_, i) => order('12', `o${i}`, { note: 'n'.repeat(900) })));
    const snap = c.projections.snapshot(c.log.head, {}, {}, SNAPSHOT_CAPS, 5_000);
    expect(snap.truncated).toBe('bytes');
    expect(snap.counts.store_orders).toMatchObject({ total: 20, truncated: 'bytes' });
    expect(snap.store_orders.length).toBeGreaterThanOrEqual(1);
    expect(snap.store_orders.length).toBeLessThan(20);
  });
});
