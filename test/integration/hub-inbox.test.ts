import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestHub, api, publish, createToken, until, type TestHub } from '../helpers/hub.ts';
import { Subscriber } from '../helpers/sse.ts';
import { inboxChangeSchema, inboxPageSchema, type InboxChange, type InboxPage } from '../../shared/inbox.ts';

/**
 * The notification inbox over real HTTP: marks are kept per token (not per window), only events in
 * the token's scope can be listed or marked, and a change reaches every open stream of that token
 * (bearer or login-link session) and no other token's.
 */
let t: TestHub;
let user7: string;
let user8: string;
const seqOf: Record<string, number> = {};

beforeAll(async () => {
  t = await startTestHub();
  user7 = await createToken(t.url, 'subscriber', { user_id: '7' });
  user8 = await createToken(t.url, 'subscriber', { user_id: '8' });
  const evs = [
    { id: 'a', type: 'x.ops.alert', user_id: '7', priority: 'urgent', data: { email_id: 1 } },
    { id: 'b', type: 'x.ops.alert', user_id: '7', priority: 'high', data: { email_id: 2 } },
    { id: 'c', type: 'x.ops.alert', user_id: '7', priority: 'normal', data: { email_id: 3 } },
    { id: 'd', type: 'x.ops.alert', user_id: '8', priority: 'urgent', data: { email_id: 4 } },
    { id: 'e', type: 'x.ops.alert', user_id: '7', priority: 'urgent', data: { email_id: 5 } },
  ];
  const r = await publish(t.url, evs);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  const all = await api<{ events: { id: string; seq: number }[] }>(t.url, '/v1/events?limit=100');
  for (const e of all.body.events) seqOf[e.id] = e.seq;
});
afterAll(async () => {
  await t.stop();
});

const inbox = async (token: string, query = ''): Promise<InboxPage> => {
  const r = await api(t.url, `/v1/inbox${query}`, { token });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return inboxPageSchema.parse(r.body);
};
const mark = (token: string, op: string, body: unknown) => api(t.url, `/v1/inbox/${op}`, { token, body });

async function sessionCookie(token: string): Promise<string> {
  const me = await api(t.url, '/v1/whoami', { token });
  const link = await api(t.url, `/v1/tokens/${me.body.token_id}/login-url`, { method: 'POST' });
  expect(link.status, JSON.stringify(link.body)).toBe(201);
  const res = await fetch(link.body.url as string, { redirect: 'manual' });
  expect(res.status).toBe(303);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

describe('inbox', () => {
  it('lists the notable events of the scope, newest first, with counts', async () => {
    const page = await inbox(user7);
    expect(page.items.map((i) => i.event.id)).toEqual(['e', 'b', 'a']);
    expect(page.items.every((i) => !i.read && !i.dismissed)).toBe(true);
    expect(page).toMatchObject({ unread: 3, unread_urgent: 2, min_priority: 'high' });
    const normal = await inbox(user7, '?min_priority=normal&limit=2');
    expect(normal.items.map((i) => i.event.id)).toEqual(['e', 'c']);
    expect(normal.unread).toBe(4);
    const next = await inbox(user7, `?min_priority=normal&limit=2&cursor=${normal.next_cursor}`);
    expect(next.items.map((i) => i.event.id)).toEqual(['b', 'a']);
    expect((await inbox(user8)).items.map((i) => i.event.id)).toEqual(['d']);
    // Operators (subscribers that may act) have an inbox too; publishers do not read events.
    expect((await inbox(await createToken(t.url, 'operator', { user_id: '8' }))).unread).toBe(1);
    expect((await api(t.url, '/v1/inbox', { token: await createToken(t.url, 'publisher', { user_id: '8' }) })).status).toBe(403);
  });

  it('refuses bad bodies and queries, naming the field', async () => {
    const both = await mark(user7, 'read', { seqs: [seqOf.a], all: true });
    expect(both.status).toBe(400);
    expect(both.body.error.fields[0].path).toBe('seqs');
    const none = await mark(user7, 'read', {});
    expect(none.status).toBe(400);
    const extra = await mark(user7, 'read', { seqs: [1], nope: 1 });
    expect(extra.body.error.fields[0].path).toBe('nope');
    const q = await api(t.url, '/v1/inbox?min_priority=loud', { token: user7 });
    expect(q.status).toBe(400);
    expect(q.body.error.fields[0].path).toBe('min_priority');
  });

  it('refuses marks on events outside the scope alike whether they exist or not, and marks nothing', async () => {
    const other = await mark(user7, 'read', { seqs: [seqOf.a!, seqOf.d!] });
    const missing = await mark(user7, 'read', { seqs: [seqOf.a!, 999_999] });
    for (const r of [other, missing]) {
      expect(r.status).toBe(404);
      expect(r.body.error.fields).toEqual([{ path: 'seqs.1', reason: "no such event in this token's scope" }]);
    }
    expect(other.body.error.message.replace(String(seqOf.d), 'N')).toBe(missing.body.error.message.replace('999999', 'N'));
    expect((await inbox(user7)).unread).toBe(3);
  });

  it('pushes a change to every stream of the same token, bearer or session, and to no other token', async () => {
    const cookie = await sessionCookie(user7);
    const desktop = new Subscriber(t.url, {}, user7);
    const browser = new Subscriber(t.url, {}, null, { cookie });
    const stranger = new Subscriber(t.url, {}, user8);
    try {
      await Promise.all([desktop.waitFor('connection'), browser.waitFor('connection'), stranger.waitFor('connection')]);
      // Marked from the browser session: the desktop's bearer stream hears it.
      const r = await api(t.url, '/v1/inbox/read', { token: null, headers: { cookie }, body: { seqs: [seqOf.a] } });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const change: InboxChange = inboxChangeSchema.parse(r.body);
      expect(change).toMatchObject({ op: 'read', seqs: [seqOf.a], unread: 2, unread_urgent: 1 });
      for (const s of [desktop, browser]) expect(inboxChangeSchema.parse((await s.waitFor('inbox')).data)).toEqual(change);

      const page = await inbox(user7);
      expect(page.items.find((i) => i.event.id === 'a')!.read).toBe(true);
      expect(page).toMatchObject({ unread: 2, unread_urgent: 1 });
      // The other token's marks and counts are its own.
      expect((await inbox(user8)).unread).toBe(1);

      // Unread, then all read, then clear.
      expect((await mark(user7, 'unread', { seqs: [seqOf.a] })).body).toMatchObject({ unread: 3, unread_urgent: 2 });
      const all = await mark(user7, 'read', { all: true });
      expect(all.body).toMatchObject({ op: 'read', seqs: null, unread: 0, unread_urgent: 0, all_min_priority: 'high' });
      expect(all.body.through).toBeGreaterThanOrEqual(seqOf.e!);
      const dismissed = await mark(user7, 'dismiss', { seqs: [seqOf.b] });
      expect(dismissed.status).toBe(200);
      expect((await inbox(user7)).items.map((i) => i.event.id)).toEqual(['e', 'a']);
      expect((await inbox(user7, '?dismissed=1')).items.find((i) => i.event.id === 'b')).toMatchObject({ read: true, dismissed: true });
      await until(() => desktop.named('inbox').length === 4, 'four inbox frames on the desktop stream');
      await until(() => browser.named('inbox').length === 4, 'four inbox frames on the browser stream');
      expect(desktop.named('inbox').map((f) => f.data.op)).toEqual(['read', 'unread', 'read', 'dismiss']);
      // Frames of another token never reach this one (it got its connection and heartbeats only).
      await new Promise((r) => setTimeout(r, 200));
      expect(stranger.named('inbox')).toEqual([]);
      expect((await inbox(user8)).unread).toBe(1);
    } finally {
      desktop.close();
      browser.close();
      stranger.close();
    }
  });

  it('keeps marks across a hub restart (they are in SQLite)', async () => {
    await t.restart();
    const page = await inbox(user7, '?dismissed=1');
    expect(page.items.filter((i) => i.read).length).toBe(3);
  });
});
