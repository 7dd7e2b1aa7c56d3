import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, exportSPKI } from 'jose';
import { api, startTestHub, type TestHub } from '../helpers/hub.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { redisEngineFactory } from '../../electron/hub/bus/redis.ts';
import { HUB_PATH, MERCURE_KEY, MercureSubscriber, mercureJwt, mercurePublish } from '../helpers/mercure.ts';
import type { MercureOptions } from '../../electron/hub/mercure/auth.ts';

const mercure = (o: Partial<MercureOptions> = {}): MercureOptions => ({ publisherKey: MERCURE_KEY, alg: 'HS256', anonymous: false, subscriptions: false, ...o });
const hubOpts = { heartbeatMs: 250, retryMs: 200 };

const subs: MercureSubscriber[] = [];
const subscribe = (...args: ConstructorParameters<typeof MercureSubscriber>) => {
  const s = new MercureSubscriber(...args);
  subs.push(s);
  return s;
};
afterEach(() => {
  for (const s of subs.splice(0)) s.close();
});

let publisher: string;
beforeAll(async () => {
  publisher = await mercureJwt({ publish: ['*'] });
});

describe('Mercure publish and subscribe', () => {
  let h: TestHub;
  beforeAll(async () => {
    h = await startTestHub({ ...hubOpts, mercure: mercure({ anonymous: true }) });
  });
  afterAll(async () => h?.stop());

  it('delivers data over as many data: lines as it has, so EventSource rebuilds it exactly', async () => {
    const s = await subscribe(h.url, ['https://example.com/books/{id}'], { types: ['book.updated'] }).open();
    const data = 'first line\n\n  indented third\nfourth: with colon\n\n';
    const r = await mercurePublish(h.url, { topic: 'https://example.com/books/1', data, id: 'urn:example:rev-1', type: 'book.updated', retry: '1500' }, publisher);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(r.text).toBe('urn:example:rev-1');
    const [m] = await s.waitFor(1);
    expect(m).toEqual({ type: 'book.updated', data, lastEventId: 'urn:example:rev-1' });
  });

  it('generates a urn:uuid id when the publisher gives none, and sends it as the SSE id', async () => {
    const s = await subscribe(h.url, ['plain-topic']).open();
    const r = await mercurePublish(h.url, { topic: 'plain-topic', data: '{"a":1}' }, publisher);
    expect(r.text).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    const [m] = await s.waitFor(1);
    expect(m).toEqual({ type: 'message', data: '{"a":1}', lastEventId: r.text });
  });

  it('keeps ids outside the log id alphabet exactly (quotes, brackets, spaces)', async () => {
    const s = await subscribe(h.url, ['odd-ids']).open();
    const id = 'id-["odd ids"] #1';
    const r = await mercurePublish(h.url, { topic: 'odd-ids', data: 'x', id }, publisher);
    expect(r.text).toBe(id);
    expect((await s.waitFor(1))[0]!.lastEventId).toBe(id);
  });

  it('matches alternate topics and URI templates, and only what the selectors name', async () => {
    const s = await subscribe(h.url, ['https://example.com/authors/{id}', 'exact']).open();
    await mercurePublish(h.url, { topic: ['https://example.com/books/9', 'https://example.com/authors/3'], data: 'alt' }, publisher);
    await mercurePublish(h.url, { topic: 'https://example.com/books/10', data: 'not selected' }, publisher);
    await mercurePublish(h.url, { topic: 'exact', data: 'exact' }, publisher);
    await s.waitFor(2);
    expect(s.received.map((m) => m.data)).toEqual(['alt', 'exact']);
  });

  it('is in the log as a mercure.update event with its topics, in GET /v1/events filtered by topic', async () => {
    const r = await mercurePublish(h.url, { topic: ['https://example.com/logged/1', 'https://example.com/alt/1'], data: 'logged', id: 'urn:example:logged' }, publisher);
    expect(r.status).toBe(200);
    await mercurePublish(h.url, { topic: 'https://example.com/elsewhere', data: 'elsewhere' }, publisher);
    const page = await api(h.url, `/v1/events?type=mercure.update&topic=${encodeURIComponent('https://example.com/logged/{n}')}`);
    expect(page.status).toBe(200);
    expect(page.body.events).toHaveLength(1);
    expect(page.body.events[0]).toMatchObject({
      type: 'mercure.update',
      topics: ['https://example.com/logged/1', 'https://example.com/alt/1'],
      data: { id: 'urn:example:logged', data: 'logged', private: false },
      store_id: null,
      user_id: null,
      strategy_id: null,
    });
    // Only the hub writes them: the JSON API refuses the type, so nobody bypasses the JWT claims.
    const forged = await api(h.url, '/v1/events', { body: { type: 'mercure.update', topics: ['x'], data: { id: 'x', data: 'x', private: false } } });
    expect(forged.status).toBe(422);
    expect(forged.body.error.fields[0].path).toBe('type');
  });

  it('refuses bad publishes with the field named', async () => {
    const cases: [Record<string, string | string[]>, number, string][] = [
      [{ data: 'no topic' }, 400, 'topic'],
      [{ topic: 'a', id: 'x\ny' }, 400, 'id'],
      [{ topic: 'a', id: '#1' }, 400, 'id'],
      [{ topic: 'a', retry: 'soon' }, 400, 'retry'],
      [{ topic: 'a', bogus: '1' }, 400, 'bogus'],
      [{ topic: ['a', '/.well-known/mercure/subscriptions/x/y'] }, 403, 'topic.1'],
      [{ topic: 'https://evil.example/.well-known/mercure' }, 403, 'topic.0'],
    ];
    for (const [fields, status, path] of cases) {
      const r = await mercurePublish(h.url, fields, publisher);
      expect(r.status, JSON.stringify(fields)).toBe(status);
      expect(JSON.parse(r.text).error.fields.map((f: { path: string }) => f.path)).toContain(path);
    }
  });
});

describe('Mercure authorization', () => {
  let h: TestHub;
  beforeAll(async () => {
    h = await startTestHub({ ...hubOpts, mercure: mercure({ anonymous: true }) });
  });
  afterAll(async () => h?.stop());

  it('sends private updates only to subscribers whose claims match a topic, canonical or alternate', async () => {
    const alice = await subscribe(h.url, ['https://example.com/books/{id}'], { token: await mercureJwt({ subscribe: ['https://example.com/users/alice/{?topic}'] }) }).open();
    const all = await subscribe(h.url, ['https://example.com/books/{id}'], { token: await mercureJwt({ subscribe: ['*'] }) }).open();
    const anon = await subscribe(h.url, ['https://example.com/books/{id}']).open();
    const bob = await subscribe(h.url, ['https://example.com/books/{id}'], { token: await mercureJwt({ subscribe: ['https://example.com/users/bob/{?topic}'] }) }).open();

    const book1 = 'https://example.com/books/1';
    await mercurePublish(h.url, { topic: [book1, `https://example.com/users/alice/?topic=${encodeURIComponent(book1)}`], data: 'for alice', private: 'on' }, publisher);
    await mercurePublish(h.url, { topic: 'https://example.com/books/2', data: 'private, nobody named', private: 'on' }, publisher);
    // Public and last: once it arrives, everything published before it has been decided.
    await mercurePublish(h.url, { topic: 'https://example.com/books/3', data: 'public' }, publisher);

    await Promise.all([alice.waitFor(2), all.waitFor(3), anon.waitFor(1), bob.waitFor(1)]);
    expect(alice.received.map((m) => m.data)).toEqual(['for alice', 'public']);
    expect(all.received.map((m) => m.data)).toEqual(['for alice', 'private, nobody named', 'public']);
    expect(anon.received.map((m) => m.data)).toEqual(['public']);
    expect(bob.received.map((m) => m.data)).toEqual(['public']);
  });

  it('answers 401 to a wrong, expired or malformed token, and 403 outside the claims', async () => {
    const wrongKey = await mercureJwt({ publish: ['*'] }, { key: 'another-secret-that-is-long-enough!' });
    const expired = await mercureJwt({ publish: ['*'], subscribe: ['*'] }, { exp: Math.floor(Date.now() / 1000) - 60 });
    const narrow = await mercureJwt({ publish: ['https://example.com/books/{id}'] });
    const noPublish = await mercureJwt({ subscribe: ['*'] });

    expect((await mercurePublish(h.url, { topic: 'a' }, null)).status).toBe(401);
    expect((await mercurePublish(h.url, { topic: 'a' }, wrongKey)).status).toBe(401);
    expect((await mercurePublish(h.url, { topic: 'a' }, expired)).status).toBe(401);
    expect((await mercurePublish(h.url, { topic: 'a' }, 'not.a.jwt')).status).toBe(401);
    expect((await mercurePublish(h.url, { topic: 'a' }, noPublish)).status).toBe(403);
    const outside = await mercurePublish(h.url, { topic: ['https://example.com/books/1', 'https://example.com/authors/1'] }, narrow);
    expect(outside.status).toBe(403);
    expect(JSON.parse(outside.text).error.fields[0].path).toBe('topic.1');
    expect((await mercurePublish(h.url, { topic: 'https://example.com/books/1' }, narrow)).status).toBe(200);

    const bad = await subscribe(h.url, ['a'], { token: expired }).open();
    expect(bad.status).toBe(401);
    const badQuery = await subscribe(h.url, ['a'], { query: { authorization: wrongKey } }).open();
    expect(badQuery.status).toBe(401);
  });

  it('takes the token from the authorization query parameter and the mercureAuthorization cookie', async () => {
    const token = await mercureJwt({ subscribe: ['*'] });
    const byQuery = await subscribe(h.url, ['q'], { query: { authorization: token } }).open();
    const byCookie = await subscribe(h.url, ['q'], { headers: { cookie: `mercureAuthorization=${token}` } }).open();
    await mercurePublish(h.url, { topic: 'q', data: 'private q', private: 'on' }, publisher);
    await Promise.all([byQuery.waitFor(1), byCookie.waitFor(1)]);
    expect(byQuery.received[0]!.data).toBe('private q');
    expect(byCookie.received[0]!.data).toBe('private q');
    // A cookie-authorized publish must say where it comes from.
    const r = await fetch(h.url + HUB_PATH, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `mercureAuthorization=${publisher}` }, body: 'topic=q' });
    expect(r.status).toBe(401);
  });

  it('closes a subscriber\'s stream when its token expires', async () => {
    const token = await mercureJwt({ subscribe: ['*'] }, { exp: Math.floor(Date.now() / 1000) + 2 });
    const res = await fetch(`${h.url}${HUB_PATH}?topic=x`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    // The body ends (the hub closes it) instead of staying open.
    const text = await res.text().catch(() => 'closed');
    expect(typeof text).toBe('string');
  });

  it('refuses anonymous subscribers unless enabled', async () => {
    const closed = await startTestHub({ ...hubOpts, mercure: mercure({ anonymous: false }) });
    try {
      const anon = await subscribe(closed.url, ['a']).open();
      expect(anon.status).toBe(401);
      const withToken = await subscribe(closed.url, ['a'], { token: await mercureJwt({ subscribe: [] }) }).open();
      expect(withToken.status).toBe(200);
    } finally {
      await closed.stop();
    }
  });

  it('verifies RS256 tokens with a public key', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const pem = await exportSPKI(publicKey);
    const rs = await startTestHub({ ...hubOpts, mercure: mercure({ alg: 'RS256', publisherKey: pem, anonymous: true }) });
    try {
      const good = await mercureJwt({ publish: ['*'] }, { key: privateKey, alg: 'RS256' });
      expect((await mercurePublish(rs.url, { topic: 'rs' }, good)).status).toBe(200);
      // An HS256 token signed with the PEM text as a secret (the classic algorithm confusion) is refused.
      const confused = await mercureJwt({ publish: ['*'] }, { key: pem });
      expect((await mercurePublish(rs.url, { topic: 'rs' }, confused)).status).toBe(401);
    } finally {
      await rs.stop();
    }
  });
});

describe('Mercure resume from the durable log', () => {
  it('resumes after Last-Event-ID and from earliest, also after a restart; says earliest for an unknown id', async () => {
    const h = await startTestHub({ ...hubOpts, mercure: mercure({ anonymous: true }) });
    try {
      const ids: string[] = [];
      for (let i = 1; i <= 3; i++) ids.push((await mercurePublish(h.url, { topic: 'https://example.com/r', data: `v${i}` }, publisher)).text);
      await mercurePublish(h.url, { topic: 'https://example.com/other', data: 'other' }, publisher);
      await h.restart();

      const after1 = await subscribe(h.url, ['https://example.com/r'], { headers: { 'last-event-id': ids[0]! } }).open();
      await after1.waitFor(2);
      expect(after1.received.map((m) => [m.data, m.lastEventId])).toEqual([['v2', ids[1]], ['v3', ids[2]]]);
      expect(after1.responseLastEventId).toBe(ids[0]);

      const earliest = await subscribe(h.url, ['https://example.com/r'], { query: { lastEventID: 'earliest' } }).open();
      await earliest.waitFor(3);
      expect(earliest.received.map((m) => m.data)).toEqual(['v1', 'v2', 'v3']);
      expect(earliest.responseLastEventId).toBe('earliest');

      // The header wins over the query parameter.
      const both = await subscribe(h.url, ['https://example.com/r'], { headers: { 'last-event-id': ids[1]! }, query: { lastEventID: 'earliest' } }).open();
      await both.waitFor(1);
      expect(both.responseLastEventId).toBe(ids[1]);

      const unknown = await subscribe(h.url, ['https://example.com/r'], { query: { lastEventID: 'urn:uuid:never-published' } }).open();
      expect(unknown.responseLastEventId).toBe('earliest');
      await mercurePublish(h.url, { topic: 'https://example.com/r', data: 'v4' }, publisher);
      await Promise.all([unknown.waitFor(1), both.waitFor(2), after1.waitFor(3)]);
      expect(unknown.received.map((m) => m.data)).toEqual(['v4']);
      expect(both.received.map((m) => m.data)).toEqual(['v3', 'v4']);
    } finally {
      await h.stop();
    }
  });
});

describe('Mercure ids are the publisher\'s, not idempotency keys', () => {
  it('delivers an id used twice both times, and resumes after its newest use', async () => {
    const h = await startTestHub({ ...hubOpts, mercure: mercure({ anonymous: true }) });
    try {
      const live = await subscribe(h.url, ['dup']).open();
      for (const data of ['first', 'second']) expect((await mercurePublish(h.url, { topic: 'dup', data, id: 'urn:example:same' }, publisher)).status).toBe(200);
      await mercurePublish(h.url, { topic: 'dup', data: 'third' }, publisher);
      await live.waitFor(3);
      expect(live.received.map((m) => m.data)).toEqual(['first', 'second', 'third']);
      const resumed = await subscribe(h.url, ['dup'], { headers: { 'last-event-id': 'urn:example:same' } }).open();
      await resumed.waitFor(1);
      expect(resumed.received.map((m) => m.data)).toEqual(['third']);
      const plan = h.hub.db.prepare(`EXPLAIN QUERY PLAN SELECT seq FROM events WHERE type = 'mercure.update' AND json_extract(data, '$.id') = ? ORDER BY seq DESC LIMIT 1`).all('x') as { detail: string }[];
      expect(plan.map((r) => r.detail).join(' ')).toContain('events_mercure_id');
    } finally {
      await h.stop();
    }
  });
});

describe('Mercure across two hubs on Redis', () => {
  let redis: TestRedis;
  const hubs: TestHub[] = [];
  beforeAll(async () => {
    redis = await startRedis({ aof: false });
  });
  afterAll(async () => {
    for (const h of hubs) await h.stop().catch(() => {});
    await redis?.stop();
  });

  it('delivers an update published on one hub to subscribers of the other, and resumes there by id', async () => {
    const factory = redisEngineFactory(redis.url, { commitTimeoutMs: 3000 });
    for (let i = 0; i < 2; i++) hubs.push(await startTestHub({ ...hubOpts, mercure: mercure({ anonymous: true }) }, factory));
    const [A, B] = hubs as [TestHub, TestHub];
    const onB = await subscribe(B.url, ['https://example.com/bus/{n}']).open();
    const first = (await mercurePublish(A.url, { topic: 'https://example.com/bus/1', data: 'one\ntwo' }, publisher)).text;
    const second = (await mercurePublish(A.url, { topic: 'https://example.com/bus/2', data: 'three' }, publisher)).text;
    await onB.waitFor(2);
    expect(onB.received.map((m) => [m.data, m.lastEventId])).toEqual([['one\ntwo', first], ['three', second]]);
    const resumed = await subscribe(B.url, ['https://example.com/bus/{n}'], { headers: { 'last-event-id': first } }).open();
    await resumed.waitFor(1);
    expect(resumed.received.map((m) => m.data)).toEqual(['three']);
    expect(resumed.responseLastEventId).toBe(first);
  });
});

describe('Mercure subscriptions API and events', () => {
  let h: TestHub;
  beforeAll(async () => {
    h = await startTestHub({ ...hubOpts, mercure: mercure({ anonymous: true, subscriptions: true }) });
  });
  afterAll(async () => h?.stop());

  it('publishes subscription events and lists active subscriptions', async () => {
    const watcher = await subscribe(h.url, ['/.well-known/mercure/subscriptions{/topic}{/subscriber}'], { token: await mercureJwt({ subscribe: ['/.well-known/mercure/subscriptions{/topic}{/subscriber}'] }) }).open();
    const token = await mercureJwt({ subscribe: ['https://example.com/s/{id}'], payload: { user: 'alice' } });
    const s = await subscribe(h.url, ['https://example.com/s/{id}'], { token }).open();
    const [, event] = await watcher.waitFor(2);
    const doc = JSON.parse(event!.data);
    expect(doc).toMatchObject({ '@context': 'https://mercure.rocks/', type: 'Subscription', topic: 'https://example.com/s/{id}', active: true, payload: { user: 'alice' } });
    expect(doc.subscriber).toMatch(/^urn:uuid:/);
    expect(doc.id).toBe(`/.well-known/mercure/subscriptions/${encodeURIComponent('https://example.com/s/{id}')}/${encodeURIComponent(doc.subscriber)}`);

    const apiToken = await mercureJwt({ subscribe: ['/.well-known/mercure/subscriptions{/topic}{/subscriber}'] });
    const get = (path: string, t: string | null = apiToken) => fetch(h.url + path, { headers: t ? { authorization: `Bearer ${t}` } : {} });
    const list = await get('/.well-known/mercure/subscriptions');
    expect(list.status).toBe(200);
    expect(list.headers.get('content-type')).toMatch(/^application\/ld\+json/);
    const body = await list.json();
    expect(body).toMatchObject({ type: 'Subscriptions', id: '/.well-known/mercure/subscriptions' });
    expect(body.subscriptions.map((x: { subscriber: string }) => x.subscriber)).toContain(doc.subscriber);
    expect(typeof body.lastEventID).toBe('string');

    const one = await get(doc.id);
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ id: doc.id, subscriber: doc.subscriber, active: true });
    const byTopic = await (await get(`/.well-known/mercure/subscriptions/${encodeURIComponent('https://example.com/s/{id}')}`)).json();
    expect(byTopic.subscriptions).toHaveLength(1);

    expect((await get('/.well-known/mercure/subscriptions', null)).status).toBe(401);
    expect((await get('/.well-known/mercure/subscriptions', await mercureJwt({ subscribe: ['https://example.com/{x}'] }))).status).toBe(403);

    s.close();
    const [, , gone] = await watcher.waitFor(3);
    expect(JSON.parse(gone!.data)).toMatchObject({ subscriber: doc.subscriber, active: false });
    expect((await get(doc.id)).status).toBe(404);
  });
});

describe('Mercure and the CORS allow-list', () => {
  it('ignores the cookie on requests admitted only by --cors-origin *, and keeps query tokens out of the log', async () => {
    const lines: string[] = [];
    const { Writable } = await import('node:stream');
    const logDestination = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
    const h = await startTestHub({ ...hubOpts, corsOrigins: ['*'], logLevel: 'debug', logDestination, mercure: mercure({ anonymous: true }) });
    try {
      const token = await mercureJwt({ subscribe: ['*'] });
      const foreign = { origin: 'http://elsewhere.example', cookie: `mercureAuthorization=${token}` };
      const viaCookie = await subscribe(h.url, ['c'], { headers: foreign }).open();
      const viaHeader = await subscribe(h.url, ['c'], { headers: { origin: 'http://elsewhere.example' }, token }).open();
      await mercurePublish(h.url, { topic: 'c', data: 'private', private: 'on' }, publisher);
      await mercurePublish(h.url, { topic: 'c', data: 'public' }, publisher);
      await Promise.all([viaCookie.waitFor(1), viaHeader.waitFor(2)]);
      // The cookie counted for nothing (an anonymous subscriber); a header token still works.
      expect(viaCookie.received.map((m) => m.data)).toEqual(['public']);
      expect(viaHeader.received.map((m) => m.data)).toEqual(['private', 'public']);

      const refused = await fetch(`${h.url}${HUB_PATH}?topic=x&authorization=${await mercureJwt({ subscribe: ['*'] }, { key: 'wrong-wrong-wrong-wrong-wrong-wrong' })}`);
      expect(refused.status).toBe(401);
      expect(lines.some((l) => l.includes('authorization=[redacted]'))).toBe(true);
      expect(lines.some((l) => /authorization=eyJ/.test(l))).toBe(false);
    } finally {
      await h.stop();
    }
  });
});

describe('Mercure heartbeats', () => {
  it('are comments only, as Mercure hubs send them', async () => {
    const h = await startTestHub({ ...hubOpts, heartbeatMs: 100, mercure: mercure({ anonymous: true }) });
    try {
      const res = await fetch(`${h.url}${HUB_PATH}?topic=hb`);
      const reader = res.body!.getReader();
      let text = '';
      while ((text.match(/:\n\n/g) ?? []).length < 3) text += new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();
      expect(text).not.toContain('event:');
      expect(text.replace(/:\n\n/g, '')).toBe('');
    } finally {
      await h.stop();
    }
  });
});
