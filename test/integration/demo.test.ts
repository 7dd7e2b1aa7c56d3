import { describe, it, expect, afterEach } from 'vitest';
import { startDemo, type Demo } from '../../electron/demo/index.ts';
import { KNOWN_TYPES, validateEvent } from '../../shared/events.ts';
import { startTestHub, api, until, sleep, ADMIN, type TestHub, allEvents } from '../helpers/hub.ts';
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
      return want.every((w) => types.has(w));
    }, `every demo event type (missing: ${want.filter((w) => !new Set(sub!.events.map((e) => e.type)).has(w)).join(', ')})`, 40_000, 100);
    const events = sub.events;

    // Everything re-validates against the shared schemas and carries its domain's keys.
    for (const e of events) {
      expect(KNOWN_TYPES).toContain(e.type);
      const v = validateEvent({ type: e.type, data: e.data, store_id: e.store_id ?? undefined, user_id: e.user_id ?? undefined, strategy_id: e.strategy_id ?? undefined });
      expect(v.ok, `${e.type} ${JSON.stringify(e.data)}`).toBe(true);
    }
    expect(new Set(events.filter((e) => e.type.startsWith('store.')).map((e) => e.store_id))).toEqual(new Set(['12']));
    expect(new Set(events.filter((e) => e.type.startsWith('trading.')).map((e) => `${e.user_id}/${e.strategy_id}`))).toEqual(new Set(['1/1', '1/2']));
    expect(new Set(events.filter((e) => e.type.startsWith('mail.')).map((e) => e.user_id))).toEqual(new Set(['1']));

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
});
