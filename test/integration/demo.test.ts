import { describe, it, expect, afterEach } from 'vitest';
import { startDemo, type Demo } from '../../electron/demo/index.ts';
import { KNOWN_TYPES, validateEvent } from '../../shared/events.ts';
import { Webhook } from 'standardwebhooks';
import { startTestHub, api, until, sleep, ADMIN, type TestHub, allEvents, createToken } from '../helpers/hub.ts';
import type { HubEvent } from '../../shared/events.ts';
import { Subscriber } from '../helpers/sse.ts';

let t: TestHub | undefined;
let demo: Demo | undefined;
let sub: Subscriber | undefined;
afterEach(async () => {
  sub?.close();
  await demo?.stop();
  await t?.stop();
  t = demo = sub = undefined;
});

describe('demo publishers', () => {
  it('publish realistic, valid events of every domain over the HTTP API, with lifecycles, batches and priorities', async () => {
    t = await startTestHub();
    sub = new Subscriber(t.url);
    await sub.waitFor('connection');
    demo = await startDemo({ url: t.url, adminToken: ADMIN, rate: 40, seed: 7 });
    const want = [
      'store.order.created',
      'store.order.updated',
      'store.session.ended',
      'trading.order.created',
      'trading.order.updated',
      'trading.order.filled',
      'trading.order.batch',
      'trading.position.created',
      'trading.position.updated',
      'mail.email.new',
      'mail.email.classified',
      'mail.sync.started',
      'mail.sync.completed',
      'mail.sync.error',
    ];
    await until(() => {
      const types = new Set(sub!.events.map((e) => e.type));
      // Urgent events are rare (a long wait, a drawdown): wait for one as for a type.
      return want.every((w) => types.has(w)) && sub!.events.some((e) => e.priority === 'urgent');
    }, `every demo event type (missing: ${want.filter((w) => !new Set(sub!.events.map((e) => e.type)).has(w)).join(', ')})`, 40_000, 100);
    const events = sub.events;

    // Everything re-validates against the shared schemas and carries its domain's keys.
    for (const e of events) {
      expect(KNOWN_TYPES).toContain(e.type);
      const v = validateEvent({ type: e.type, data: e.data, store_id: e.store_id ?? undefined, user_id: e.user_id ?? undefined, strategy_id: e.strategy_id ?? undefined, tenant_id: e.tenant_id, topics: e.topics });
      expect(v.ok, `${e.type} ${JSON.stringify(e.data)}`).toBe(true);
    }
    expect(new Set(events.filter((e) => e.type.startsWith('store.')).map((e) => e.store_id))).toEqual(new Set(['12']));
    expect(new Set(events.filter((e) => e.type.startsWith('trading.')).map((e) => `${e.user_id}/${e.strategy_id}`))).toEqual(new Set(['1/1', '1/2']));
    expect(new Set(events.filter((e) => e.type.startsWith('mail.')).map((e) => e.user_id))).toEqual(new Set(['1']));
    // The hospital's events all belong to its tenant.
    expect(new Set(events.filter((e) => e.type.startsWith('schedule.')).map((e) => e.tenant_id))).toEqual(new Set(['st-marys']));

    // A store order moves through its lifecycle in order.
    const served = events.find((e) => e.type === 'store.order.updated' && e.data.status === 'served');
    if (served) {
      const id = served.data.order_id;
      const steps = events.filter((e) => e.data.order_id === id).map((e) => (e.type === 'store.order.created' ? 'created' : e.data.status));
      expect(steps).toEqual(['created', 'accepted', 'preparing', 'ready', 'served']);
    }

    // A batch: 100 orders flagged suppress_toast, then one summary with suppress_toasts.
    const batch = events.find((e) => e.type === 'trading.order.batch')!;
    const bid = batch.data.batch_id as string;
    const members = events.filter((e) => e.type === 'trading.order.created' && String(e.data.order_id).startsWith(`${bid}-`));
    expect(members).toHaveLength(100);
    expect(members.every((m) => m.data.suppress_toast === true && m.seq < batch.seq && m.strategy_id === batch.strategy_id)).toBe(true);
    expect(batch.data).toMatchObject({ suppress_toasts: true, summaries: [{ order_type: 'LIMIT', created: 100 }] });

    // New mail is classified seconds later (scaled by the rate), after it arrived.
    const classified = events.find((e) => e.type === 'mail.email.classified')!;
    const arrived = events.find((e) => e.type === 'mail.email.new' && e.data.email_id === classified.data.email_id)!;
    expect(arrived.seq).toBeLessThan(classified.seq);

    // The notification centre has content.
    expect(events.some((e) => e.priority === 'high')).toBe(true);
    expect(events.some((e) => e.priority === 'urgent')).toBe(true);
    expect(events.find((e) => e.type === 'mail.sync.error')!.priority).toBe('high');

    // Through the public API as a publisher token of its own.
    const tokens = (await api(t.url, '/v1/tokens')).body.tokens;
    expect(tokens.find((x: any) => x.id === demo!.tokenId)).toMatchObject({ role: 'publisher', label: 'demo publishers', revoked_at: null });
    expect(demo.stats().failed).toBe(0);
  });

  it('runs at a modest rate by default, and stop() drains, stops publishing and revokes its token', async () => {
    t = await startTestHub();
    demo = await startDemo({ url: t.url, adminToken: ADMIN });
    await sleep(4_000);
    // A few events per second (a loaded machine may take longer to show them); a 100-order batch is
    // not due in the first 15 s.
    const head = (await until(async () => {
      const h = (await api(t!.url, '/v1/stats')).body.head_seq as number;
      return h > 2 && h;
    }, 'the demo to publish')) as number;
    expect(head).toBeLessThan(60);
    await demo.stop();
    expect(demo.stats().bufferedEvents).toBe(0);
    const after = (await api(t.url, '/v1/stats')).body.head_seq as number;
    await sleep(1_500);
    expect((await api(t.url, '/v1/stats')).body.head_seq).toBe(after);
    const tok = (await api(t.url, '/v1/tokens')).body.tokens.find((x: any) => x.id === demo!.tokenId);
    expect(tok.revoked_at).not.toBeNull();
  });

  it('keeps publishing across a hub restart without duplicates', async () => {
    t = await startTestHub();
    demo = await startDemo({ url: t.url, adminToken: ADMIN, rate: 20, seed: 3 });
    await until(async () => (await api(t!.url, '/v1/stats')).body.head_seq > 20, 'demo events');
    await t.restart();
    const at = (await api(t.url, '/v1/stats')).body.head_seq as number;
    await until(async () => (await api(t!.url, '/v1/stats')).body.head_seq > at + 20, 'demo continues after restart', 20_000, 100);
    await demo.stop();
    const ids = (await allEvents(t.url)).map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(demo.stats().failed).toBe(0);
  });

  it('the store backend answers order.status actions by webhook: accepted, the update, completed; or rejected with the reason', async () => {
    t = await startTestHub();
    demo = await startDemo({ url: t.url, adminToken: ADMIN, rate: 1, seed: 7, domains: ['store'] });
    expect(demo.receiver).toBeDefined();
    const hooks = (await api(t.url, '/v1/webhooks')).body.webhooks;
    expect(hooks).toMatchObject([{ id: demo.receiver!.endpointId, types: ['action.requested'], scope: { store_ids: ['12'] } }]);
    const operator = await createToken(t.url, 'operator', { store_ids: ['12'] }, 'kitchen');

    const created = (await until(async () => (await allEvents(t!.url)).find((e) => e.type === 'store.order.created'), 'a demo order', 20_000, 50)) as HubEvent;
    const orderId = String(created.data.order_id);
    const act = async (params: Record<string, unknown>, name = 'order.status') => {
      const r = await api(t!.url, '/v1/actions', { token: operator, body: { name, target: { type: 'store.order', id: orderId }, params, store_id: '12' } });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      const id = r.body.action_id as string;
      const status = await until(async () => {
        const s = (await api(t!.url, `/v1/actions/${id}`, { token: operator })).body;
        return ['completed', 'rejected', 'failed'].includes(s.state) && s;
      }, `action ${id} to finish`, 15_000, 50);
      return { id, status };
    };
    const forOrder = async () => (await allEvents(t!.url)).filter((e) => e.data.order_id === orderId || e.type.startsWith('action.'));

    // Accept it before the simulated kitchen does (2 to 5 s at rate 1).
    const bump = await act({ status: 'accepted' });
    expect(bump.status).toMatchObject({ state: 'completed', delivered_to: [demo.receiver!.endpointId] });
    let evs = await forOrder();
    const seqOf = (type: string, id: string) => evs.find((e) => e.type === type && e.data.action_id === id)?.seq ?? -1;
    const update = evs.find((e) => e.type === 'store.order.updated' && e.data.status === 'accepted')!;
    expect(update).toMatchObject({ store_id: '12', data: { order_id: orderId, status: 'accepted' } });
    expect(seqOf('action.requested', bump.id)).toBeLessThan(seqOf('action.accepted', bump.id));
    expect(seqOf('action.accepted', bump.id)).toBeLessThan(update.seq);
    expect(update.seq).toBeLessThan(seqOf('action.completed', bump.id));
    expect(evs.find((e) => e.type === 'action.completed')!.store_id).toBe('12');

    // Not a step the kitchen allows from there: rejected, naming the current status; nothing changes.
    const skip = await act({ status: 'served' });
    expect(skip.status.state).toBe('rejected');
    expect(skip.status.reason).toMatch(new RegExp(`order ${orderId} is accepted; it cannot go to served`));
    const other = await act({}, 'order.refund');
    expect(other.status.reason).toBe('the store backend does not handle order.refund');

    // The simulation carries on from the operator's status instead of repeating it.
    await until(async () => (await forOrder()).some((e) => (e.type === 'store.order.updated' && e.data.status !== 'accepted') || e.type === 'store.order.deleted'), 'the kitchen to move the order on', 20_000, 100);
    evs = await forOrder();
    const steps = evs.filter((e) => e.type.startsWith('store.order.')).map((e) => (e.type === 'store.order.updated' ? e.data.status : e.type));
    expect(steps).toEqual(['store.order.created', 'accepted', 'preparing']);

    // Cancelling needs a reason, and the reason travels as the update's note.
    expect((await act({ status: 'cancelled' })).status.reason).toMatch(/needs a reason/);
    const cancel = await act({ status: 'cancelled', reason: 'guest left' });
    expect(cancel.status.state).toBe('completed');
    evs = await forOrder();
    expect(evs.find((e) => e.type === 'store.order.updated' && e.data.status === 'cancelled')!.data).toMatchObject({ order_id: orderId, note: 'guest left' });
    expect((await act({ status: 'preparing' })).status.reason).toMatch(new RegExp(`order ${orderId} is cancelled`));

    // A forged delivery (signed with another secret, or not at all) is refused and changes nothing.
    const head = (await api(t.url, '/v1/stats')).body.head_seq as number;
    const body = JSON.stringify({
      type: 'action.requested',
      timestamp: new Date().toISOString(),
      data: { ...created, type: 'action.requested', data: { action_id: 'forged-1', name: 'order.status', target: { type: 'store.order', id: orderId }, params: { status: 'accepted' }, requested_by: 'x' } },
    });
    const now = new Date();
    const forged = new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).sign('msg_forged_1', now, body);
    const headers = { 'content-type': 'application/json', 'webhook-id': 'msg_forged_1', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': forged };
    expect((await fetch(demo.receiver!.url, { method: 'POST', headers, body })).status).toBe(401);
    expect((await fetch(demo.receiver!.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(401);
    await sleep(300);
    const after = await allEvents(t.url);
    expect(after.filter((e) => e.seq > head && String(e.data.action_id ?? '') === 'forged-1')).toEqual([]);

    // Stopping removes the endpoint and closes the receiver.
    const url = demo.receiver!.url;
    await demo.stop();
    expect((await api(t.url, '/v1/webhooks')).body.webhooks).toEqual([]);
    await expect(fetch(url, { method: 'POST', body: '{}' })).rejects.toThrow();
  });

  it('the trading backend cancels an open order for trading.order.cancel, and rejects a closed one', async () => {
    t = await startTestHub();
    // A slow rate keeps the first order open (not yet filled) for seconds after it is placed.
    demo = await startDemo({ url: t.url, adminToken: ADMIN, rate: 0.25, seed: 5, domains: ['trading'] });
    expect((await api(t.url, '/v1/webhooks')).body.webhooks).toMatchObject([{ id: demo.tradingReceiver!.endpointId, scope: { user_id: '1' } }]);
    const operator = await createToken(t.url, 'operator', { user_id: '1' }, 'desk');
    const placed = (await until(
      async () => (await allEvents(t!.url)).find((e) => e.type === 'trading.order.created' && e.data.status === 'NEW'),
      'an open demo order',
      30_000,
      50,
    )) as HubEvent;
    const orderId = String(placed.data.order_id);
    const act = async (name: string) => {
      const r = await api(t!.url, '/v1/actions', { token: operator, body: { name, target: { type: 'trading.order', id: orderId }, user_id: '1', strategy_id: placed.strategy_id } });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      return until(async () => {
        const s = (await api(t!.url, `/v1/actions/${r.body.action_id}`, { token: operator })).body;
        return ['completed', 'rejected', 'failed'].includes(s.state) && s;
      }, `action ${r.body.action_id} to finish`, 15_000, 50);
    };
    const cancel = await act('trading.order.cancel');
    expect(cancel.state).toBe('completed');
    const evs = (await allEvents(t.url)).filter((e) => e.data.order_id === orderId);
    expect(evs.find((e) => e.type === 'trading.order.cancelled')).toMatchObject({ user_id: '1', strategy_id: placed.strategy_id, data: { status: 'CANCELLED' } });
    expect((await act('trading.order.cancel')).reason).toBe(`order ${orderId} is CANCELLED; only an open order can be cancelled`);
    expect((await act('trading.order.close')).reason).toBe('the trading backend does not handle trading.order.close');
    // The bot does not fill what the operator cancelled.
    const later = (await allEvents(t.url)).filter((e) => e.data.order_id === orderId);
    expect(later.filter((e) => e.type === 'trading.order.filled')).toEqual([]);
    await demo.stop();
    expect((await api(t.url, '/v1/webhooks')).body.webhooks).toEqual([]);
  });
  it('the mail backend marks read and stars its mails for mail.mark_read and mail.star, and rejects an unknown mail', async () => {
    t = await startTestHub();
    // With the trading bot, which shares the mail user: each action is answered by one backend only.
    demo = await startDemo({ url: t.url, adminToken: ADMIN, rate: 1, seed: 11, domains: ['trading', 'mail'] });
    expect(demo.mailReceiver).toBeDefined();
    const hooks = (await api(t.url, '/v1/webhooks')).body.webhooks;
    expect(hooks.find((h: any) => h.id === demo!.mailReceiver!.endpointId)).toMatchObject({ types: ['action.requested'], scope: { user_id: '1' } });
    const operator = await createToken(t.url, 'operator', { user_id: '1' }, 'inbox');
    const arrived = (await until(async () => (await allEvents(t!.url)).find((e) => e.type === 'mail.email.new'), 'a demo mail', 20_000, 50)) as HubEvent;
    const emailId = String(arrived.data.email_id);
    const act = async (name: string, id: string, params: Record<string, unknown>) => {
      const r = await api(t!.url, '/v1/actions', { token: operator, body: { name, target: { type: 'mail.email', id }, params, user_id: '1' } });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      const actionId = r.body.action_id as string;
      const status = await until(async () => {
        const s = (await api(t!.url, `/v1/actions/${actionId}`, { token: operator })).body;
        return ['completed', 'rejected', 'failed'].includes(s.state) && s;
      }, `action ${actionId} to finish`, 15_000, 50);
      return { id: actionId, status };
    };

    for (const [name, params] of [
      ['mail.mark_read', { read: true }],
      ['mail.star', { starred: true }],
    ] as const) {
      const a = await act(name, emailId, params);
      expect(a.status.state, JSON.stringify(a.status)).toBe('completed');
      // Accepted and completed by the mailbox only: the trading bot's receiver got it too, and kept quiet.
      expect(a.status.outcomes.map((o: any) => o.type)).toEqual(['action.accepted', 'action.completed']);
      const evs = await allEvents(t.url);
      const seqOf = (type: string) => evs.find((e) => e.type === type && e.data.action_id === a.id)?.seq ?? -1;
      const update = evs.find((e) => e.id === `${a.id}~email`)!;
      expect(update).toMatchObject({ type: 'mail.email.updated', user_id: '1', data: { email_id: emailId, ...params } });
      expect(seqOf('action.requested')).toBeLessThan(seqOf('action.accepted'));
      expect(seqOf('action.accepted')).toBeLessThan(update.seq);
      expect(update.seq).toBeLessThan(seqOf('action.completed'));
    }

    const unknown = await act('mail.star', 'no-such-mail', { starred: true });
    expect(unknown.status).toMatchObject({ state: 'rejected', reason: 'email no-such-mail is not a mail of user 1 that this backend knows' });
    const bad = await act('mail.mark_read', emailId, { read: 'yes' });
    expect(bad.status).toMatchObject({ state: 'rejected', reason: 'params.read must be true or false' });
    expect(bad.status.outcomes).toHaveLength(1);

    await demo.stop();
    expect((await api(t.url, '/v1/webhooks')).body.webhooks).toEqual([]);
  });

  it('the script worker attaches Retry to a retryable failure and runs the job again at once when asked; the next attempt clears the button', async () => {
    t = await startTestHub();
    // With the mailbox, which shares the user: only the worker answers a retry. At 4x a failed job
    // waits 1.5 to 3 s for its automatic retry, long enough for an operator's to come first.
    demo = await startDemo({ url: t.url, adminToken: ADMIN, rate: 4, seed: 3, domains: ['jobs', 'mail'] });
    expect(demo.jobsReceiver).toBeDefined();
    const operator = await createToken(t.url, 'operator', { user_id: '1' }, 'writers desk');
    const failed = (await until(
      async () => (await allEvents(t!.url)).find((e) => e.type === 'job.failed' && e.data.retryable === true && e.actions?.length),
      'a retryable demo failure with its button',
      60_000,
      25,
    )) as HubEvent;
    const jobId = String(failed.data.job_id);
    expect(failed.actions).toEqual([{ id: 'job.retry', label: expect.stringMatching(/^Retry/), style: 'primary', params: { job_id: jobId } }]);
    // What a click on the job's card sends: the failure is the target, the button's params the params.
    const click = async () => {
      const r = await api(t!.url, '/v1/actions', {
        token: operator,
        body: { name: 'job.retry', target: { type: failed.type, id: failed.id, seq: failed.seq }, params: failed.actions![0]!.params, user_id: '1', topics: failed.topics },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      return until(async () => {
        const s = (await api(t!.url, `/v1/actions/${r.body.action_id}`, { token: operator })).body;
        return ['completed', 'rejected', 'failed'].includes(s.state) && s;
      }, `action ${r.body.action_id} to finish`, 15_000, 25);
    };
    const first = await click();
    expect(first.state, JSON.stringify(first)).toBe('completed');
    expect(first.outcomes.map((o: { type: string }) => o.type)).toEqual(['action.accepted', 'action.completed']);
    const queued = (await allEvents(t.url)).filter((e) => e.type === 'job.queued' && e.data.job_id === jobId);
    const before = queued.filter((e) => e.seq < failed.seq).pop()!;
    const requeued = queued.find((e) => e.seq > failed.seq)!;
    expect(requeued.data.attempt).toBe(Number(before.data.attempt) + 1);
    expect(requeued.actions).toBeUndefined();
    // The failure's button was taken: a second click on it is refused, and the job's row has no button now.
    const again = await click();
    expect(again).toMatchObject({ state: 'rejected', reason: expect.stringContaining(jobId) });
    const row = ((await api(t.url, '/v1/state/jobs', { token: operator })).body.jobs as { data: { job_id: string }; seq: number; actions?: { id: string } }[]).find((r) => r.data.job_id === jobId)!;
    expect(row.seq).toBeGreaterThan(failed.seq);
    if (row.actions) expect(row.actions.id, 'only a later failure of the job can have put buttons back').not.toBe(failed.id);
    await demo.stop();
    expect((await api(t.url, '/v1/webhooks')).body.webhooks).toEqual([]);
  });
});
