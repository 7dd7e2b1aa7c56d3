import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestHub, publish, createToken, allEvents, type TestHub } from '../helpers/hub.ts';
import type { PublishEnvelope } from '../../shared/events.ts';

/**
 * Idempotency ids are unique per scope namespace (the event's store/user/strategy keys), not across
 * the hub: a publisher can neither learn whether another scope used an id (and its seq) nor take an
 * id another scope is about to use.
 */
let t: TestHub;
let store12: string;
let store13: string;
beforeAll(async () => {
  t = await startTestHub();
  store12 = await createToken(t.url, 'publisher', { store_ids: ['12'] });
  store13 = await createToken(t.url, 'publisher', { store_ids: ['13'] });
});
afterAll(async () => {
  await t.stop();
});

const order = (store: number, id: string, order_id: number): PublishEnvelope => ({
  id,
  type: 'store.order.created',
  store_id: store,
  data: { order_id, items: [{ name: 'Ramen', quantity: 2, price: 9.5 }], total: 19 },
});

describe('idempotency ids are per scope namespace', () => {
  it('a store-13 publisher probing an id store 12 used learns nothing: the answer is that of an unused id', async () => {
    const used = await publish(t.url, order(12, 'pos-1001', 1001), store12);
    expect(used.status).toBe(201);
    const seq12 = used.body.results[0].seq as number;

    const probe = await publish(t.url, order(13, 'pos-1001', 9), store13);
    const fresh = await publish(t.url, order(13, 'pos-never-used', 9), store13);
    expect([probe.status, fresh.status]).toEqual([201, 201]);
    // Same shape as an id nobody used: a new event of its own, no duplicate, no seq of store 12's.
    expect(probe.body.results[0]).toEqual({ seq: expect.any(Number), id: 'pos-1001', duplicate: false });
    expect(probe.body.results[0].seq).not.toBe(seq12);
    expect(Object.keys(probe.body.results[0]).sort()).toEqual(Object.keys(fresh.body.results[0]).sort());

    // A retry is still a duplicate, and a conflict names only the caller's own event.
    const retry = await publish(t.url, order(13, 'pos-1001', 9), store13);
    expect(retry.body.results[0]).toEqual({ seq: probe.body.results[0].seq, id: 'pos-1001', duplicate: true });
    const conflict = await publish(t.url, order(13, 'pos-1001', 10), store13);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.message).toContain(`seq ${probe.body.results[0].seq}`);
    expect(conflict.body.error.message).not.toContain(`seq ${seq12}`);
  });

  it('a store-13 publisher cannot squat an id store 12 will use next', async () => {
    const squat = await publish(t.url, order(13, 'pos-1002', 666), store13);
    expect(squat.status).toBe(201);
    const real = await publish(t.url, order(12, 'pos-1002', 1002), store12);
    expect(real.status).toBe(201);
    expect(real.body.results[0]).toMatchObject({ id: 'pos-1002', duplicate: false });
    expect(real.body.results[0].seq).toBeGreaterThan(squat.body.results[0].seq);
    // Both are stored and delivered as sent, each in its own store.
    const reader12 = await createToken(t.url, 'subscriber', { store_ids: ['12'] });
    const mine = (await allEvents(t.url, reader12)).filter((e) => e.id === 'pos-1002');
    expect(mine.map((e) => [e.seq, e.store_id, e.data.order_id])).toEqual([[real.body.results[0].seq, '12', 1002]]);
    // And store 12's retry stays a duplicate after a restart (the namespace is on disk, not in memory).
    await t.restart();
    const again = await publish(t.url, order(12, 'pos-1002', 1002), store12);
    expect(again.body.results[0]).toEqual({ seq: real.body.results[0].seq, id: 'pos-1002', duplicate: true });
  });

  it('the namespace is all three scope keys: the same id under another user or strategy is another event', async () => {
    const base: PublishEnvelope = { id: 'x-1', type: 'x.note', store_id: 12, data: { n: 1 } };
    const seqs: number[] = [];
    for (const keys of [{}, { user_id: 7 }, { user_id: 7, strategy_id: 1 }, { strategy_id: 1 }]) {
      const r = await publish(t.url, { ...base, ...keys });
      expect(r.body.results[0]).toMatchObject({ id: 'x-1', duplicate: false });
      seqs.push(r.body.results[0].seq);
    }
    expect(new Set(seqs).size).toBe(4);
    // A batch repeating one id under one set of keys is still one event.
    const batch = await publish(t.url, [{ ...base, user_id: 8 }, { ...base, user_id: 8 }]);
    expect(batch.body.results.map((r: { duplicate: boolean }) => r.duplicate)).toEqual([false, true]);
  });
});
