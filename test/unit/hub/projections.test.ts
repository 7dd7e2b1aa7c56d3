import { afterEach, describe, expect, it } from 'vitest';
import { SNAPSHOT_CAPS } from '../../../shared/state.ts';
import { openDatabase } from '../../../electron/hub/db.ts';
import { Projections } from '../../../electron/hub/projections.ts';
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

describe('attached actions on state rows', () => {
  const retry = { id: 'job.retry', label: 'Retry', style: 'primary', confirm: 'Run it again?', params: { from: 'drafting' } };
  const job = (type: string, data: Record<string, unknown>, extra: Record<string, unknown> = {}) => ev({ type, user_id: '7', data: { job_id: 'j-1', ...data }, ...extra });
  const rowOf = (c: Core) => c.projections.read(['job'], {}, {}, { order: 'desc', limit: 10 }).rows.jobs![0]!;

  it('a row carries the buttons of the event that last changed it, stored, until a change without any', async () => {
    const c = (core = openCore());
    await c.engine.publish([job('job.queued', { title: 'Draft' })]);
    expect(rowOf(c)).not.toHaveProperty('actions');

    const [failed] = await c.engine.publish([job('job.failed', { error: 'rate limited', retryable: true }, { id: 'fail-1', actions: [retry], topics: ['https://example.net/jobs/j-1'] })]);
    const expected = { seq: failed!.seq, id: 'fail-1', type: 'job.failed', topics: ['https://example.net/jobs/j-1'], items: [retry] };
    expect(rowOf(c)).toMatchObject({ seq: failed!.seq, data: { state: 'failed' }, actions: expected });
    // The snapshot says the same, and so does the file: a second reader of the database sees it.
    expect(c.projections.snapshot(c.log.head, {}, {}, SNAPSHOT_CAPS).jobs[0]!.actions).toEqual(expected);
    const again = openDatabase(c.dbFile);
    try {
      expect(new Projections(again).read(['job'], {}, {}, { order: 'desc', limit: 10 }).rows.jobs![0]!.actions).toEqual(expected);
    } finally {
      again.close();
    }

    // The job runs again: the Retry belonged to the failure, so the row loses it.
    await c.engine.publish([job('job.queued', { attempt: 2 })]);
    expect(rowOf(c)).not.toHaveProperty('actions');
    // An empty list attaches nothing; a later event with buttons brings its own, never merged with older ones.
    await c.engine.publish([job('job.failed', { error: 'again', retryable: false }, { actions: [] })]);
    expect(rowOf(c)).not.toHaveProperty('actions');
    const [second] = await c.engine.publish([job('job.failed', { error: 'again', retryable: false }, { id: 'fail-2', actions: [{ id: 'job.discard', label: 'Discard' }] })]);
    expect(rowOf(c).actions).toEqual({ seq: second!.seq, id: 'fail-2', type: 'job.failed', items: [{ id: 'job.discard', label: 'Discard' }] });
    // A delete takes the buttons with the row.
    await c.engine.publish([ev({ type: 'store.order.created', store_id: '12', data: { order_id: 'o1', items: [{ name: 'Ramen', quantity: 1 }], total: 9 }, actions: [{ id: 'order.refund', label: 'Refund' }] })]);
    expect(c.projections.snapshot(c.log.head, {}, {}, SNAPSHOT_CAPS).store_orders[0]!.actions?.items).toEqual([{ id: 'order.refund', label: 'Refund' }]);
    await c.engine.publish([ev({ type: 'store.order.deleted', store_id: '12', data: { order_id: 'o1' } })]);
    expect(c.projections.snapshot(c.log.head, {}, {}, SNAPSHOT_CAPS).store_orders).toEqual([]);
  });
});
