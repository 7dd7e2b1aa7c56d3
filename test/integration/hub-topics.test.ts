import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestHub, api, publish, createToken, allEvents, sleep, type TestHub } from '../helpers/hub.ts';
import { Subscriber } from '../helpers/sse.ts';
import { sample } from '../helpers/events.ts';
import type { HubEvent } from '../../shared/events.ts';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(async () => {
  await t.stop();
});

const WARD = (n: number | string) => `https://example.net/wards/${n}`;
const note = (extra: Record<string, unknown>) => ({ type: 'x.ward.note', data: { text: 'hello' }, ...extra });
const ids = (events: HubEvent[]) => events.map((e) => e.id);

describe('topics and tenants on events', () => {
  it('stores and delivers topics and tenant_id as sent, and events without them as before', async () => {
    const r = await publish(t.url, [note({ id: 'tt-1', tenant_id: 'acme', topics: [WARD(1), 'plain name'] }), note({ id: 'tt-2' })]);
    expect(r.status).toBe(201);
    const got = (await allEvents(t.url)).filter((e) => e.id === 'tt-1' || e.id === 'tt-2');
    expect(got[0]).toMatchObject({ id: 'tt-1', tenant_id: 'acme', topics: [WARD(1), 'plain name'] });
    expect(Object.keys(got[0]!)).toEqual(['seq', 'id', 'type', 'data', 'store_id', 'user_id', 'strategy_id', 'tenant_id', 'topics', 'priority', 'time', 'received_at']);
    expect('topics' in got[1]! || 'tenant_id' in got[1]!).toBe(false);
  });

  it('refuses bad topics, naming each', async () => {
    const cases: [unknown, string][] = [
      [[], 'topics'],
      [Array.from({ length: 21 }, (_, i) => `t${i}`), 'topics'],
      [['ok', 'bad\nline'], 'topics.1'],
      [['x'.repeat(1025)], 'topics.0'],
      [['', 'a'], 'topics.0'],
      [['a', 'a'], 'topics.1'],
      ['a-string', 'topics'],
    ];
    for (const [topics, path] of cases) {
      const r = await publish(t.url, note({ topics }));
      expect(r.status, JSON.stringify(topics).slice(0, 40)).toBe(422);
      expect(r.body.error.fields.map((f: { path: string }) => f.path)).toContain(path);
    }
    expect((await publish(t.url, note({ tenant_id: 'has space' }))).status).toBe(422);
  });

  it('makes topics and tenant part of the idempotency content and the tenant part of the namespace', async () => {
    expect((await publish(t.url, note({ id: 'idem-1', topics: ['a'] }))).body.results[0].duplicate).toBe(false);
    expect((await publish(t.url, note({ id: 'idem-1', topics: ['a'] }))).body.results[0].duplicate).toBe(true);
    expect((await publish(t.url, note({ id: 'idem-1', topics: ['b'] }))).status).toBe(409);
    // The same id under another tenant is another event in another namespace.
    const other = await publish(t.url, note({ id: 'idem-1', topics: ['a'], tenant_id: 'acme' }));
    expect(other.status).toBe(201);
    expect(other.body.results[0].duplicate).toBe(false);
  });
});

describe('publish selectors', () => {
  it('lets a publisher publish only topics its selectors match, naming the topic otherwise', async () => {
    const pub = await createToken(t.url, 'publisher', { publish_topics: [`${WARD('{id}')}`, 'announcements'] });
    expect((await publish(t.url, note({ topics: [WARD(3), 'announcements'] }), pub)).status).toBe(201);
    const bad = await publish(t.url, [note({ topics: [WARD(3)] }), note({ topics: [WARD(3), 'https://example.net/beds/1'] })], pub);
    expect(bad.status).toBe(403);
    expect(bad.body.error.fields).toEqual([{ path: '1.topics.1', reason: "not matched by this token's publish_topics (https://example.net/beds/1)" }]);
    const none = await publish(t.url, note({}), pub);
    expect(none.status).toBe(403);
    expect(none.body.error.fields[0].path).toBe('topics');
    // A template variable does not cross a path segment.
    expect((await publish(t.url, note({ topics: [`${WARD(3)}/beds/1`] }), pub)).status).toBe(403);
  });

  it('lets a tenant publisher publish only under its tenant', async () => {
    const pub = await createToken(t.url, 'publisher', { tenant_id: 'acme' });
    expect((await publish(t.url, note({ tenant_id: 'acme' }), pub)).status).toBe(201);
    const other = await publish(t.url, note({ tenant_id: 'globex' }), pub);
    expect(other.status).toBe(403);
    expect(other.body.error.fields).toEqual([{ path: 'tenant_id', reason: "outside this token's scope (globex)" }]);
    expect((await publish(t.url, note({}), pub)).body.error.fields[0].path).toBe('tenant_id');
  });
});

describe('subscribe selectors and topic filters', () => {
  it('shows a topic-scoped subscriber only events with a matching topic, live and in history', async () => {
    const sub = await createToken(t.url, 'subscriber', { subscribe_topics: [WARD('{id}')] });
    const live = new Subscriber(t.url, {}, sub);
    await live.waitFor('connection');
    await publish(t.url, [
      note({ id: 'sub-1', topics: [WARD(7)] }),
      note({ id: 'sub-2', topics: ['https://example.net/beds/7'] }),
      note({ id: 'sub-3' }),
      note({ id: 'sub-4', topics: ['other', WARD(8)] }),
      note({ id: 'sub-5', topics: [`${WARD(8)}/beds/2`] }),
    ]);
    await live.waitForEvents(2);
    await sleep(100);
    expect(ids(live.events)).toEqual(['sub-1', 'sub-4']);
    expect(ids((await allEvents(t.url, sub)).filter((e) => e.id.startsWith('sub-')))).toEqual(['sub-1', 'sub-4']);
    // State rows carry no topics: a topic-scoped token sees none of them.
    await publish(t.url, sample.storeOrder('shop-topics'));
    const state = await api(t.url, '/v1/state/orders', { token: sub });
    expect(state.body.store_orders).toEqual([]);
    expect(state.body.counts.store_orders.total).toBe(0);
    live.close();
  });

  it('narrows a stream and history by topic= (repeatable; exact, template or *)', async () => {
    const live = new Subscriber(t.url, { topic: ['q/{id}', 'exact one'] });
    await live.waitFor('connection');
    await publish(t.url, [
      note({ id: 'f-1', topics: ['q/1'] }),
      note({ id: 'f-2', topics: ['exact one'] }),
      note({ id: 'f-3', topics: ['q/1/x'] }),
      note({ id: 'f-4' }),
    ]);
    await live.waitForEvents(2);
    await sleep(100);
    expect(ids(live.events)).toEqual(['f-1', 'f-2']);
    const h = await api(t.url, `/v1/events?limit=1000&order=asc&topic=${encodeURIComponent('q/{id}')}&topic=${encodeURIComponent('exact one')}`);
    expect(ids(h.body.events).filter((i: string) => i.startsWith('f-'))).toEqual(['f-1', 'f-2']);
    const star = await api(t.url, '/v1/events?limit=1000&order=asc&topic=*');
    expect(ids(star.body.events).filter((i: string) => i.startsWith('f-'))).toEqual(['f-1', 'f-2', 'f-3']);
    const bad = await api(t.url, `/v1/events?topic=${encodeURIComponent('q/{id')}`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields[0].path).toBe('topic.0');
    live.close();
  });

  it('refuses an exact topic filter outside the token\'s subscribe selectors', async () => {
    const sub = await createToken(t.url, 'subscriber', { subscribe_topics: [WARD('{id}')] });
    const r = await api(t.url, `/v1/events?topic=${encodeURIComponent('https://example.net/beds/1')}`, { token: sub });
    expect(r.status).toBe(403);
    expect(r.body.error.fields[0].path).toBe('topic');
    expect((await api(t.url, `/v1/events?topic=${encodeURIComponent(WARD(1))}`, { token: sub })).status).toBe(200);
  });

  it('shows a tenant-scoped subscriber only its tenant, in stream, history and state', async () => {
    const sub = await createToken(t.url, 'subscriber', { tenant_id: 'acme' });
    const live = new Subscriber(t.url, { snapshot: '1' }, sub);
    await live.waitFor('initial');
    await publish(t.url, [
      { ...sample.storeOrder('shop-t'), id: 'ten-1', tenant_id: 'acme' },
      { ...sample.storeOrder('shop-t'), id: 'ten-2', tenant_id: 'globex' },
      { ...sample.storeOrder('shop-t'), id: 'ten-3' },
    ]);
    await live.waitForEvents(1);
    await sleep(100);
    expect(ids(live.events)).toEqual(['ten-1']);
    expect((await allEvents(t.url, sub)).every((e) => e.tenant_id === 'acme')).toBe(true);
    const state = await api(t.url, '/v1/state/orders', { token: sub });
    expect(state.body.store_orders.length).toBeGreaterThan(0);
    expect(state.body.store_orders.every((o: { tenant_id?: string }) => o.tenant_id === 'acme')).toBe(true);
    expect((await api(t.url, '/v1/events?tenant_id=globex', { token: sub })).status).toBe(403);
    live.close();
  });
});

describe('scoped admins and tenants/topics', () => {
  it('cannot create tokens wider than their tenant or topic selectors', async () => {
    const adm = await createToken(t.url, 'admin', { tenant_id: 'acme', subscribe_topics: [WARD('{id}')], publish_topics: ['a', 'b'] });
    const create = (scope: Record<string, unknown>) => api(t.url, '/v1/tokens', { token: adm, body: { role: 'subscriber', scope } });
    const paths = async (scope: Record<string, unknown>) => ((await create(scope)).body.error?.fields ?? []).map((f: { path: string }) => f.path);
    expect(await paths({ subscribe_topics: [WARD('{id}')], publish_topics: ['a'] })).toEqual(['scope.tenant_id']);
    expect(await paths({ tenant_id: 'globex', subscribe_topics: [WARD('{id}')], publish_topics: ['a'] })).toEqual(['scope.tenant_id']);
    expect(await paths({ tenant_id: 'acme', publish_topics: ['a'] })).toEqual(['scope.subscribe_topics']);
    expect(await paths({ tenant_id: 'acme', subscribe_topics: ['*'], publish_topics: ['a'] })).toEqual(['scope.subscribe_topics']);
    expect(await paths({ tenant_id: 'acme', subscribe_topics: [WARD('{id}')], publish_topics: ['c'] })).toEqual(['scope.publish_topics']);
    // Narrower: an exact ward inside the template, a subset of the publish topics.
    expect((await create({ tenant_id: 'acme', subscribe_topics: [WARD(4)], publish_topics: ['b'] })).status).toBe(201);
    const list = await api(t.url, '/v1/tokens', { token: adm });
    expect(list.body.tokens.every((tk: { scope: { tenant_id?: string } }) => tk.scope.tenant_id === 'acme')).toBe(true);
  });

  it('refuses malformed selectors in a token scope, naming them', async () => {
    const r = await api(t.url, '/v1/tokens', { body: { role: 'subscriber', scope: { subscribe_topics: ['ok', 'wards/{id'] } } });
    expect(r.status).toBe(400);
    expect(r.body.error.fields[0].path).toBe('scope.subscribe_topics.1');
  });
});

describe('actions under a tenant and topics', () => {
  it('lets a tenant- and topic-scoped operator act on what it sees, in its tenant and topics only', async () => {
    const op = await createToken(t.url, 'operator', { tenant_id: 'acme', subscribe_topics: [WARD('{id}')] });
    const ask = (extra: Record<string, unknown>) =>
      api(t.url, '/v1/actions', { token: op, body: { name: 'ward.check', target: { type: 'x.ward.note', id: 'n-1' }, params: {}, ...extra } });
    const ok = await ask({ action_id: 'act-ward-1', tenant_id: 'acme', topics: [WARD(5)] });
    expect(ok.status, JSON.stringify(ok.body)).toBe(202);
    const req = (await allEvents(t.url, op)).find((e) => e.id === 'act-ward-1');
    expect(req).toMatchObject({ type: 'action.requested', tenant_id: 'acme', topics: [WARD(5)] });
    expect((await api(t.url, '/v1/actions/act-ward-1', { token: op })).status).toBe(200);
    const otherTenant = await ask({ tenant_id: 'globex', topics: [WARD(5)] });
    expect(otherTenant.status).toBe(403);
    expect(otherTenant.body.error.fields[0].path).toBe('tenant_id');
    const noTopic = await ask({ tenant_id: 'acme' });
    expect(noTopic.status).toBe(403);
    expect(noTopic.body.error.fields[0].path).toBe('topics');
    // Another tenant's operator does not see the action at all.
    const other = await createToken(t.url, 'operator', { tenant_id: 'globex' });
    expect((await api(t.url, '/v1/actions/act-ward-1', { token: other })).status).toBe(404);
  });
});
