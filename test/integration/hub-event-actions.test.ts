import { describe, expect, it } from 'vitest';
import { api, allEvents, createToken, publish, until } from '../helpers/hub.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { Subscriber } from '../helpers/sse.ts';
import { startRedis } from '../helpers/redis.ts';
import { redisEngineFactory } from '../../electron/hub/bus/redis.ts';
import { cleanupAfterEach } from '../helpers/cleanup.ts';

const { later, hubWith } = cleanupAfterEach();


// Keys deliberately out of schema order: "as sent" means the publisher's order comes back.
const ROLLBACK = { label: 'Roll back', id: 'deploy.rollback', style: 'danger', confirm: 'Roll web-7 back to v41?', params: { to: 'v41', host: 'web-7' } };
const RETRY = { id: 'deploy.retry', label: 'Retry' };

const failedDeploy = (id = 'deploy-42-failed', actions: unknown = [ROLLBACK, RETRY]) => ({
  id,
  type: 'x.deploy.failed',
  store_id: 12,
  priority: 'urgent',
  data: { service: 'web', version: 'v42', host: 'web-7' },
  // null: no actions key at all.
  ...(actions === null ? {} : { actions }),
});

describe('actions attached by publishers', () => {
  it('are stored, delivered as sent on history, stream and webhook, and survive a restart', async () => {
    const h = await hubWith();
    const rx = new WebhookReceiver('whsec_' + Buffer.alloc(32, 2).toString('base64'));
    later(() => rx.close());
    await rx.listen();
    const ep = await api(h.url, '/v1/webhooks', { method: 'POST', body: { url: rx.url, types: ['x.*'] } });
    rx.setSecret(ep.body.secret);
    const sub = new Subscriber(h.url, { store_id: '12' });
    later(() => sub.close());
    await sub.waitFor('connection');

    const r = await publish(h.url, failedDeploy());
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const sentJson = JSON.stringify([ROLLBACK, RETRY]);

    const [live] = await sub.waitForEvents(1);
    expect(JSON.stringify(live!.actions)).toBe(sentJson);
    const hist = await fetch(`${h.url}/v1/events?type=x.*`, { headers: { authorization: 'Bearer test-admin-token' } }).then((res) => res.text());
    expect(hist).toContain(`"actions":${sentJson}`);
    // The notification inbox lists it (urgent) with its buttons.
    const inbox = await api(h.url, '/v1/inbox?min_priority=high');
    expect(JSON.stringify(inbox.body.items[0].event.actions)).toBe(sentJson);
    await until(() => rx.applied.length === 1, 'the webhook');
    expect(JSON.stringify(rx.applied[0]!.data.actions)).toBe(sentJson);

    // An event without actions carries no `actions` key at all (its bytes are as before).
    await publish(h.url, { type: 'x.deploy.started', store_id: 12, data: { service: 'web' } });
    const [, plain] = await sub.waitForEvents(2);
    expect(plain).not.toHaveProperty('actions');

    await h.restart();
    const after = (await allEvents(h.url)).filter((e) => e.type.startsWith('x.'));
    expect(JSON.stringify(after[0]!.actions)).toBe(sentJson);
    expect(after[1]).not.toHaveProperty('actions');
  });

  it('are part of the idempotency content: a retry repeats them, other actions are a conflict', async () => {
    const h = await hubWith();
    const first = await publish(h.url, failedDeploy());
    const seq = first.body.results[0].seq;
    // Key order inside an action is not content.
    const reordered = await publish(h.url, failedDeploy('deploy-42-failed', [{ ...RETRY }, ROLLBACK].reverse().map((a) => Object.fromEntries(Object.entries(a).reverse()))));
    expect(reordered.status).toBe(201);
    expect(reordered.body.results[0]).toEqual({ seq, id: 'deploy-42-failed', duplicate: true });
    const other = await publish(h.url, failedDeploy('deploy-42-failed', [RETRY]));
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('id_conflict');
    const none = await publish(h.url, failedDeploy('deploy-42-failed', null));
    expect(none.status).toBe(409);
    // And an event first sent without actions cannot gain them on a "retry".
    await publish(h.url, failedDeploy('deploy-43-failed', null));
    expect((await publish(h.url, failedDeploy('deploy-43-failed'))).status).toBe(409);
    expect((await allEvents(h.url)).filter((e) => e.type === 'x.deploy.failed')).toHaveLength(2);
  });

  it('refuses bad actions with the field and the reason, and stores nothing of the batch', async () => {
    const h = await hubWith();
    const bad = async (actions: unknown) => {
      const r = await publish(h.url, [{ type: 'x.ok', data: {} }, failedDeploy('d', actions)]);
      expect(r.status, JSON.stringify(r.body)).toBe(422);
      return r.body.error.fields as { path: string; reason: string }[];
    };
    const six = Array.from({ length: 6 }, (_, i) => ({ id: `a.b${i}`, label: `A${i}` }));
    expect(await bad(six)).toEqual([{ path: '1.actions', reason: 'at most 5 actions per event' }]);
    expect(await bad([RETRY, { ...RETRY, label: 'Again' }])).toEqual([{ path: '1.actions.1.id', reason: 'duplicate action id "deploy.retry"; each action of an event needs its own id' }]);
    expect((await bad([{ ...RETRY, style: 'loud' }]))[0]!.path).toBe('1.actions.0.style');
    expect((await bad([{ ...RETRY, label: 'x'.repeat(41) }]))[0]).toEqual({ path: '1.actions.0.label', reason: 'must be at most 40 characters (it is a button)' });
    expect((await bad([{ ...RETRY, onclick: 'alert(1)' }]))[0]!.path).toBe('1.actions.0.onclick');
    expect((await bad([{ ...RETRY, id: 'Retry Now' }]))[0]!.path).toBe('1.actions.0.id');
    expect((await bad([{ ...RETRY, params: { blob: 'x'.repeat(5000) } }]))[0]).toEqual({ path: '1.actions.0.params', reason: 'must be at most 4096 bytes of JSON' });
    expect((await bad({ id: 'a.b', label: 'A' }))[0]!.path).toBe('1.actions');
    expect(await allEvents(h.url)).toEqual([]);
  });

  it('a click is an action request about the event: the publisher backend gets it and answers', async () => {
    const h = await hubWith();
    const publisher = await createToken(h.url, 'publisher', { store_ids: ['12'] }, 'deploy bot');
    const operator = await createToken(h.url, 'operator', { store_ids: ['12'] }, 'on-call');
    const subscriber = await createToken(h.url, 'subscriber', { store_ids: ['12'] });
    const rx = new WebhookReceiver('whsec_' + Buffer.alloc(32, 3).toString('base64'));
    later(() => rx.close());
    await rx.listen();
    const ep = await api(h.url, '/v1/webhooks', { method: 'POST', body: { url: rx.url, types: ['action.requested'], scope: { store_ids: ['12'] } } });
    rx.setSecret(ep.body.secret);

    const ev = (await publish(h.url, failedDeploy(), publisher)).body.results[0];
    // What the console sends for the "Roll back" button: target = the event, name = the action's id.
    const click = { action_id: 'click-1', name: ROLLBACK.id, target: { type: 'x.deploy.failed', id: ev.id, seq: ev.seq }, params: ROLLBACK.params, store_id: '12' };
    const asked = await api(h.url, '/v1/actions', { method: 'POST', token: operator, body: click });
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    expect((await api(h.url, '/v1/actions', { method: 'POST', token: subscriber, body: { ...click, action_id: 'click-2' } })).status).toBe(403);

    await until(() => rx.applied.length === 1, 'the request at the backend');
    expect(rx.applied[0]!.verified).toBe(true);
    expect(rx.applied[0]!.data.data).toMatchObject({ action_id: 'click-1', name: 'deploy.rollback', target: { type: 'x.deploy.failed', id: 'deploy-42-failed', seq: ev.seq }, params: { to: 'v41', host: 'web-7' }, requested_by_label: 'on-call' });
    await publish(h.url, { type: 'action.completed', store_id: 12, data: { action_id: 'click-1', result: { rolled_back_to: 'v41' } } }, publisher);
    expect((await api(h.url, '/v1/actions/click-1', { token: operator })).body).toMatchObject({ state: 'completed', name: 'deploy.rollback' });
  });

  it('travel through the Redis engine to every hub as sent', async () => {
    const redis = await startRedis({ aof: false });
    later(() => redis.stop());
    const factory = redisEngineFactory(redis.url, { commitTimeoutMs: 3000 });
    const a = await hubWith({}, factory);
    const b = await hubWith({}, factory);
    const sub = new Subscriber(b.url, { store_id: '12' });
    later(() => sub.close());
    await sub.waitFor('connection');
    const r = await publish(a.url, failedDeploy());
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const [got] = await sub.waitForEvents(1);
    expect(JSON.stringify(got!.actions)).toBe(JSON.stringify([ROLLBACK, RETRY]));
    // The bus checks content across hubs: a retry on the other hub with other actions is a conflict.
    const dup = await publish(b.url, failedDeploy());
    expect(dup.body.results?.[0]?.duplicate).toBe(true);
    expect((await publish(b.url, failedDeploy('deploy-42-failed', [RETRY]))).status).toBe(409);
    await until(async () => (await allEvents(b.url)).some((e) => e.actions), 'the event in hub B history');
    expect(JSON.stringify((await allEvents(b.url))[0]!.actions)).toBe(JSON.stringify([ROLLBACK, RETRY]));
  });
});
