import { afterEach, describe, expect, it } from 'vitest';
import { HubError } from '../../../electron/hub/errors.ts';
import { SNAPSHOT_CAPS } from '../../../shared/state.ts';
import { ev, openCore, tick, type Core } from './parts.ts';

let core: Core | undefined;
afterEach(() => {
  core?.close();
  core = undefined;
});

/** Every commit's events, one entry per commit handed to delivery. */
function commits(c: Core): number[][] {
  const out: number[][] = [];
  const publish = c.broker.publish.bind(c.broker);
  c.broker.publish = (events) => {
    if (events.length) out.push(events.map((e) => e.event.seq));
    publish(events);
  };
  return out;
}

describe('LocalEngine commit path', () => {
  it('commits every request of one event-loop turn in one transaction and hands them to delivery once, after the commit', async () => {
    const c = (core = openCore());
    const seen = commits(c);
    const [a, b, d] = await Promise.all([c.engine.publish([tick(1), tick(2)]), c.engine.publish([tick(3)]), c.engine.publish([tick(4), tick(5)])]);
    expect([a, b, d].map((r) => r.map((x) => x.seq))).toEqual([[1, 2], [3], [4, 5]]);
    expect(seen).toEqual([[1, 2, 3, 4, 5]]);
    expect(c.log.head).toBe(5);
    // State is written in the same transaction: a committed event's projection exists.
    await c.engine.publish([ev({ type: 'store.order.created', store_id: 's1', data: { order_id: 'o1', items: [{ name: 'Tea', quantity: 1 }], total: 2 } })]);
    expect(c.projections.snapshot(c.log.head, {}, {}, SNAPSHOT_CAPS).store_orders).toHaveLength(1);
  });

  it('a conflicting request fails alone with a 409 naming the event; its neighbours are stored with no gap in the seqs', async () => {
    const c = (core = openCore());
    await c.engine.publish([ev({ id: 'x', type: 'x.test.tick', store_id: 's1', data: { v: 1 } })]);
    const results = await Promise.allSettled([
      c.engine.publish([tick(1)]),
      c.engine.publish([tick(2), ev({ id: 'x', type: 'x.test.tick', store_id: 's1', data: { v: 2 } })]),
      c.engine.publish([tick(3)]),
    ]);
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: [{ seq: 2 }] });
    expect(results[1].status).toBe('rejected');
    const err = (results[1] as PromiseRejectedResult).reason as HubError;
    expect(err).toBeInstanceOf(HubError);
    expect(err).toMatchObject({ status: 409, code: 'id_conflict', fields: [{ path: '1.id' }] });
    // The failed request's seq was taken back: the next request got 3, not 4.
    expect(results[2]).toMatchObject({ status: 'fulfilled', value: [{ seq: 3 }] });
    expect(c.log.head).toBe(3);
    expect(c.log.count()).toBe(3);
  });

  it('refuses a request for an inactive strategy inside the commit turn, and stores the others', async () => {
    const c = (core = openCore());
    c.strategies.set('7', false, 'paused', new Date().toISOString());
    const trading = ev({ type: 'x.test.tick', user_id: 'u1', strategy_id: '7', data: {} });
    const results = await Promise.allSettled([c.engine.publish([trading]), c.engine.publish([tick(1)])]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: { status: 409, code: 'strategy_inactive' } });
    expect(results[1]).toMatchObject({ status: 'fulfilled', value: [{ seq: 1 }] });
  });

  it('answers a repeated id with the first seq and delivers it once', async () => {
    const c = (core = openCore());
    const seen = commits(c);
    const e = ev({ id: 'once', type: 'x.test.tick', store_id: 's1', data: { v: 1 } });
    const [first] = await c.engine.publish([e]);
    const [again] = await c.engine.publish([e]);
    expect(first).toMatchObject({ seq: 1, duplicate: false });
    expect(again).toEqual({ seq: 1, id: 'once', duplicate: true });
    expect(seen).toEqual([[1]]);
  });

  it('when the disk refuses, fails the whole group with 503 and keeps the head where the file is', async () => {
    const c = (core = openCore());
    await c.engine.publish([tick(0)]);
    c.db.pragma('query_only = ON');
    const results = await Promise.allSettled([c.engine.publish([tick(1)]), c.engine.publish([tick(2)])]);
    for (const r of results) expect(r).toMatchObject({ status: 'rejected', reason: { status: 503, code: 'storage_unavailable' } });
    expect(c.log.head).toBe(1);
    c.db.pragma('query_only = OFF');
    expect(await c.engine.publish([tick(3)])).toMatchObject([{ seq: 2 }]);
  });
});
