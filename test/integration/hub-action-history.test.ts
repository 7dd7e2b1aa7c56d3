import { describe, expect, it } from 'vitest';
import { api, createToken, publish, startTestHub, type TestHub } from '../helpers/hub.ts';
import type { ActionList } from '../../shared/domains/action.ts';
import { cleanupAfterEach } from '../helpers/cleanup.ts';

const { later } = cleanupAfterEach();

const ask = (h: TestHub, token: string, id: string, store: number, name = 'order.status', status = 'served') =>
  api(h.url, '/v1/actions', { method: 'POST', token, body: { action_id: id, name, target: { type: 'store.order', id: `O-${id}` }, params: { status }, store_id: store } });

describe('action history: GET /v1/actions', () => {
  it('lists who asked what, on what, when and how it ended; filtered, paged and scoped', async () => {
    const h = await startTestHub({ actions: { timeoutMs: 60_000, sweepIntervalMs: 3_600_000 } });
    later(() => h.stop());
    const alice = await createToken(h.url, 'operator', { store_ids: ['12'] }, 'alice (floor)');
    const bob = await createToken(h.url, 'operator', { store_ids: ['13'] }, 'bob (bar)');
    const viewer = await createToken(h.url, 'subscriber', { store_ids: ['12'] });
    const publisher = await createToken(h.url, 'publisher', { store_ids: ['12', '13'] });

    for (const [id, tok, store] of [['a1', alice, 12], ['a2', alice, 12], ['b1', bob, 13], ['a3', alice, 12], ['a4', alice, 12]] as const)
      expect((await ask(h, tok, id, store, id === 'a4' ? 'order.refund' : 'order.status')).status).toBe(202);
    await publish(h.url, [
      { type: 'action.accepted', store_id: 12, data: { action_id: 'a1' } },
      { type: 'action.completed', store_id: 12, data: { action_id: 'a1' } },
      { type: 'action.rejected', store_id: 12, data: { action_id: 'a2', reason: 'order already served' } },
      { type: 'action.failed', store_id: 13, data: { action_id: 'b1', error: 'printer offline' } },
      { type: 'action.accepted', store_id: 12, data: { action_id: 'a4' } },
    ], publisher);
    // a3 gets no answer and is timed out by the hub; a4 was accepted, which is an answer.
    // The sweep as it runs a minute later (called here, so a slow machine cannot time out the others first).
    expect(await h.hub.sweepActions(Date.now() + 61_000)).toBe(1);

    const all = (await api<ActionList>(h.url, '/v1/actions')).body;
    expect(all.actions.map((a) => [a.action_id, a.state])).toEqual([['a4', 'accepted'], ['a3', 'timed_out'], ['b1', 'failed'], ['a2', 'rejected'], ['a1', 'completed']]);
    expect(all.next_cursor).toBeNull();
    const a2 = all.actions.find((a) => a.action_id === 'a2')!;
    expect(a2).toMatchObject({ name: 'order.status', target: { type: 'store.order', id: 'O-a2' }, requested_by_label: 'alice (floor)', store_id: '12', reason: 'order already served' });
    expect(Date.parse(a2.requested_at)).toBeGreaterThan(0);
    expect(all.actions.find((a) => a.action_id === 'b1')).toMatchObject({ error: 'printer offline', requested_by_label: 'bob (bar)' });

    // Filters: state (several), name, who asked, target type.
    const bad = (await api<ActionList>(h.url, '/v1/actions?state=rejected,failed,timed_out')).body.actions.map((a) => a.action_id);
    expect(bad).toEqual(['a3', 'b1', 'a2']);
    expect((await api<ActionList>(h.url, '/v1/actions?name=order.refund')).body.actions.map((a) => a.action_id)).toEqual(['a4']);
    const bobId = all.actions.find((a) => a.action_id === 'b1')!.requested_by;
    expect((await api<ActionList>(h.url, `/v1/actions?requested_by=${bobId}`)).body.actions.map((a) => a.action_id)).toEqual(['b1']);
    expect((await api<ActionList>(h.url, '/v1/actions?target_type=x.deploy')).body.actions).toEqual([]);

    // Paging: newest first, next_cursor until the end.
    const p1 = (await api<ActionList>(h.url, '/v1/actions?limit=2')).body;
    expect(p1.actions.map((a) => a.action_id)).toEqual(['a4', 'a3']);
    const p2 = (await api<ActionList>(h.url, `/v1/actions?limit=2&cursor=${p1.next_cursor}`)).body;
    expect(p2.actions.map((a) => a.action_id)).toEqual(['b1', 'a2']);
    const p3 = (await api<ActionList>(h.url, `/v1/actions?limit=2&cursor=${p2.next_cursor}`)).body;
    expect(p3.actions.map((a) => a.action_id)).toEqual(['a1']);

    // Scope: alice and a viewer of store 12 see store 12's actions only; publishers read none.
    expect((await api<ActionList>(h.url, '/v1/actions', { token: alice })).body.actions.map((a) => a.action_id)).toEqual(['a4', 'a3', 'a2', 'a1']);
    expect((await api<ActionList>(h.url, '/v1/actions', { token: viewer })).body.actions.map((a) => a.action_id)).toEqual(['a4', 'a3', 'a2', 'a1']);
    expect((await api<ActionList>(h.url, '/v1/actions', { token: bob })).body.actions.map((a) => a.action_id)).toEqual(['b1']);
    expect((await api(h.url, '/v1/actions', { token: publisher })).status).toBe(403);

    // Bad queries name the field.
    const q = await api(h.url, '/v1/actions?state=done&limit=0&colour=red');
    expect(q.status).toBe(400);
    expect(q.body.error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['colour', 'limit', 'state.0']);
  });
});
