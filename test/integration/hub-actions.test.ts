import { describe, expect, it } from 'vitest';
import { api, allEvents, createToken, publish, until, ADMIN, type TestHub } from '../helpers/hub.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { Subscriber } from '../helpers/sse.ts';
import { cleanupAfterEach } from '../helpers/cleanup.ts';

const { later, hubWith } = cleanupAfterEach();


/** A store backend: an endpoint for store 12's action requests, verified with the Standard Webhooks library. */
async function storeBackend(h: TestHub): Promise<{ rx: WebhookReceiver; endpointId: string }> {
  const rx = new WebhookReceiver('whsec_' + Buffer.alloc(32, 1).toString('base64'));
  later(() => rx.close());
  await rx.listen();
  const ep = await api(h.url, '/v1/webhooks', { method: 'POST', body: { url: rx.url, types: ['action.*'], scope: { store_ids: ['12'] } } });
  expect(ep.status, JSON.stringify(ep.body)).toBe(201);
  rx.setSecret(ep.body.secret);
  return { rx, endpointId: ep.body.id };
}

const bump = (actionId: string, store = 12) => ({
  action_id: actionId,
  name: 'order.status',
  target: { type: 'store.order', id: 'A-1', seq: 1 },
  params: { status: 'served' },
  store_id: store,
});

describe('actions', () => {
  it('an operator requests an action, the backend gets it signed once, answers, and the state follows', async () => {
    const h = await hubWith();
    const { rx, endpointId } = await storeBackend(h);
    const operator = await createToken(h.url, 'operator', { store_ids: ['12'] }, 'floor manager');
    const backend = await createToken(h.url, 'publisher', { store_ids: ['12'] }, 'kitchen backend');

    const first = await api(h.url, '/v1/actions', { method: 'POST', token: operator, body: bump('bump-1') });
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    expect(first.body).toMatchObject({ action_id: 'bump-1', duplicate: false });
    // The console retries (a lost answer): the same action id is a duplicate, nothing is requested twice.
    const retry = await api(h.url, '/v1/actions', { method: 'POST', token: operator, body: bump('bump-1') });
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual({ action_id: 'bump-1', seq: first.body.seq, duplicate: true });

    await until(() => rx.applied.length === 1, 'the signed action.requested');
    const got = rx.applied[0]!;
    expect(got.verified).toBe(true);
    expect(got.type).toBe('action.requested');
    expect(got.data).toMatchObject({
      seq: first.body.seq,
      id: 'bump-1',
      store_id: '12',
      data: { action_id: 'bump-1', name: 'order.status', target: { type: 'store.order', id: 'A-1', seq: 1 }, params: { status: 'served' }, requested_by_label: 'floor manager' },
    });
    await until(async () => (await api(h.url, '/v1/actions/bump-1', { token: operator })).body.state === 'delivered', 'state delivered');
    const delivered = await api(h.url, '/v1/actions/bump-1', { token: operator });
    expect(delivered.body.delivered_to).toEqual([endpointId]);

    // The test plays the backend: it accepts, does the work, publishes the order's new status and completes.
    const acc = await publish(h.url, { type: 'action.accepted', store_id: 12, data: { action_id: 'bump-1' } }, backend);
    expect(acc.status, JSON.stringify(acc.body)).toBe(201);
    expect((await api(h.url, '/v1/actions/bump-1', { token: operator })).body.state).toBe('accepted');
    await publish(h.url, [
      { type: 'store.order.updated', store_id: 12, data: { order_id: 'A-1', status: 'served' } },
      { type: 'action.completed', store_id: 12, data: { action_id: 'bump-1' } },
    ], backend);
    const done = await api(h.url, '/v1/actions/bump-1', { token: operator });
    expect(done.body).toMatchObject({ state: 'completed', name: 'order.status', store_id: '12', requested_seq: first.body.seq });
    expect(done.body.outcomes.map((o: { type: string }) => o.type)).toEqual(['action.accepted', 'action.completed']);

    // The history holds it once, with who asked; the receiver applied it once.
    const requested = (await allEvents(h.url)).filter((e) => e.type === 'action.requested');
    expect(requested).toHaveLength(1);
    expect(requested[0]!.data.requested_by).toMatch(/\S/);
    await new Promise((r) => setTimeout(r, 100));
    expect(rx.applied.filter((a) => a.type === 'action.requested')).toHaveLength(1);

    // A backend that refuses says why.
    await api(h.url, '/v1/actions', { method: 'POST', token: operator, body: bump('bump-2') });
    await publish(h.url, { type: 'action.rejected', store_id: 12, data: { action_id: 'bump-2', reason: 'order already served' } }, backend);
    expect((await api(h.url, '/v1/actions/bump-2', { token: operator })).body).toMatchObject({ state: 'rejected', reason: 'order already served' });
  });

  it('a backend without inbound HTTP follows its action stream and answers through the API', async () => {
    const h = await hubWith();
    const operator = await createToken(h.url, 'operator', { store_ids: ['12'] });
    const follower = await createToken(h.url, 'subscriber', { store_ids: ['12'] }, 'kitchen backend stream');
    const backend = await createToken(h.url, 'publisher', { store_ids: ['12'] });
    const sub = new Subscriber(h.url, { type: 'action.*' }, follower);
    later(() => sub.close());
    await api(h.url, '/v1/events', { body: { type: 'store.order.created', store_id: 12, data: { order_id: 'A-1', items: [], total: 1 } } });
    await api(h.url, '/v1/actions', { method: 'POST', token: operator, body: bump('stream-1') });
    const [ev] = await sub.waitForEvents(1);
    expect(ev).toMatchObject({ type: 'action.requested', id: 'stream-1', store_id: '12', data: { action_id: 'stream-1', params: { status: 'served' } } });
    await publish(h.url, { type: 'action.failed', store_id: 12, data: { action_id: 'stream-1', error: 'printer offline' } }, backend);
    expect((await api(h.url, '/v1/actions/stream-1', { token: operator })).body).toMatchObject({ state: 'failed', error: 'printer offline', delivered_to: [] });
    // The stream carries the outcome too, so every console sees the action close.
    const events = await sub.waitForEvents(2);
    expect(events.map((e) => e.type)).toEqual(['action.requested', 'action.failed']);
  });

  it('the same action id with other content is a conflict naming action_id', async () => {
    const h = await hubWith();
    const operator = await createToken(h.url, 'operator', { store_ids: ['12'] });
    expect((await api(h.url, '/v1/actions', { method: 'POST', token: operator, body: bump('x-1') })).status).toBe(202);
    const r = await api(h.url, '/v1/actions', { method: 'POST', token: operator, body: { ...bump('x-1'), params: { status: 'cancelled' } } });
    expect(r.status).toBe(409);
    expect(r.body.error.fields).toEqual([{ path: 'action_id', reason: 'already used for a different action' }]);
    // Another store's backend cannot answer store 12's action: an outcome counts under the request's keys only.
    const other = await createToken(h.url, 'publisher', { store_ids: ['13'] });
    expect((await publish(h.url, { type: 'action.completed', store_id: 13, data: { action_id: 'x-1' } }, other)).status).toBe(201);
    expect((await api(h.url, '/v1/actions/x-1', { token: operator })).body).toMatchObject({ state: 'requested', outcomes: [] });
  });

  it('refuses targets outside the operator scope, subscribers, publishers of hub-written types and bad bodies', async () => {
    const h = await hubWith();
    const operator = await createToken(h.url, 'operator', { store_ids: ['12'] });
    const subscriber = await createToken(h.url, 'subscriber', { store_ids: ['12'] });
    const publisher = await createToken(h.url, 'publisher', { store_ids: ['12'] });

    const outside = await api(h.url, '/v1/actions', { method: 'POST', token: operator, body: bump('o-1', 13) });
    expect(outside.status).toBe(403);
    expect(outside.body.error.fields).toEqual([{ path: 'store_id', reason: "outside this token's scope (13)" }]);
    const missing = await api(h.url, '/v1/actions', { method: 'POST', token: operator, body: { ...bump('o-2'), store_id: undefined } });
    expect(missing.status).toBe(403);
    expect(missing.body.error.fields[0].path).toBe('store_id');

    const sub = await api(h.url, '/v1/actions', { method: 'POST', token: subscriber, body: bump('s-1') });
    expect(sub.status).toBe(403);
    expect(sub.body.error.message).toMatch(/needs an operator or admin token/);

    const forged = await publish(h.url, { type: 'action.requested', store_id: 12, data: { action_id: 'f', name: 'order.status', target: { type: 'store.order', id: 'A' }, requested_by: 'me' } }, publisher);
    expect(forged.status).toBe(422);
    expect(forged.body.error.fields[0]).toMatchObject({ path: 'type' });

    const bad = await api(h.url, '/v1/actions', { method: 'POST', token: operator, body: { name: 'Not A Name', target: { type: 'store.order' }, store_id: 12 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['name', 'target.id']);

    // Nothing was requested; an action of another scope does not exist for this operator.
    expect((await allEvents(h.url)).filter((e) => e.type.startsWith('action.'))).toEqual([]);
    await api(h.url, '/v1/actions', { method: 'POST', body: bump('admin-13', 13) });
    expect((await api(h.url, '/v1/actions/admin-13', { token: ADMIN })).status).toBe(200);
    expect((await api(h.url, '/v1/actions/admin-13', { token: operator })).status).toBe(404);
  });

  it('an action nobody answers is timed out by the hub, once, and a late answer does not undo it', async () => {
    const h = await hubWith({ actions: { timeoutMs: 200, sweepIntervalMs: 50 } });
    const operator = await createToken(h.url, 'operator', { store_ids: ['12'] });
    const r = await api(h.url, '/v1/actions', { method: 'POST', token: operator, body: bump('late-1') });
    expect(r.status).toBe(202);
    const st = await until(async () => {
      const s = await api(h.url, '/v1/actions/late-1', { token: operator });
      return s.body.state === 'timed_out' && s.body;
    }, 'timed_out');
    expect(st.outcomes).toEqual([expect.objectContaining({ type: 'action.timed_out', data: { action_id: 'late-1', timeout_ms: 200 } })]);
    // A repeated sweep (another hub, a restart) stores nothing more.
    expect(await h.hub.sweepActions(Date.now() + 10_000)).toBe(0);
    await publish(h.url, { type: 'action.completed', store_id: 12, data: { action_id: 'late-1' } });
    expect((await api(h.url, '/v1/actions/late-1', { token: operator })).body.state).toBe('timed_out');
    expect((await allEvents(h.url)).filter((e) => e.type === 'action.timed_out')).toHaveLength(1);
  });
});
