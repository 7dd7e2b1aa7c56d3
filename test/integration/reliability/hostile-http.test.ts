import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { connect } from 'node:net';
import { startTestHub, api, publish, createToken, until, sleep, ADMIN, type TestHub } from '../../helpers/hub.ts';
import { openRawSse, rawRequest } from '../../helpers/reliability.ts';
import { sample } from '../../helpers/events.ts';

/**
 * Hostile HTTP: a wildcard CORS origin must not become a credentialed one, Host headers that are not
 * exactly host[:port] are refused, HEAD /v1/stream holds nothing open, and no scoped token learns the
 * global head (how busy the other scopes are) from any reply.
 */
let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ corsOrigins: ['*'], heartbeatMs: 150 });
});
afterAll(async () => {
  await t?.stop();
});

const raw = (method: string, path: string, headers: Record<string, string>, body?: string) => rawRequest(t.url, method, path, headers, body);

const auth = { authorization: `Bearer ${ADMIN}` };

describe('CORS with --cors-origin *', () => {
  it('answers any origin with "*" and never allows credentials', async () => {
    for (const origin of ['https://evil.example', 'http://localhost:1234']) {
      const r = await raw('GET', '/v1/whoami', { ...auth, origin });
      expect(r.status).toBe(200);
      expect(r.headers['access-control-allow-origin']).toBe('*');
      expect(r.headers['access-control-allow-credentials']).toBeUndefined();
      const pre = await raw('OPTIONS', '/v1/events', { origin, 'access-control-request-method': 'POST' });
      expect(pre.status).toBe(204);
      expect(pre.headers['access-control-allow-origin']).toBe('*');
      expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
    }
    // The hub's own origin (the console in a browser) keeps its credentialed CORS.
    const own = await raw('GET', '/v1/whoami', { ...auth, origin: t.url });
    expect(own.headers['access-control-allow-origin']).toBe(t.url);
    expect(own.headers['access-control-allow-credentials']).toBe('true');
  });

  it('ignores the console session cookie on cross-origin requests', async () => {
    const code = new URL(t.hub.loginUrl()).searchParams.get('code')!;
    const ex = await raw('GET', `/auth/exchange?code=${encodeURIComponent(code)}`, {});
    expect(ex.status).toBe(303);
    const cookie = String((ex.headers['set-cookie'] as string[])[0]).split(';')[0]!;
    expect((await raw('GET', '/v1/whoami', { cookie })).status).toBe(200);
    expect((await raw('GET', '/v1/whoami', { cookie, origin: t.url })).status).toBe(200);
    const cross = await raw('GET', '/v1/whoami', { cookie, origin: 'https://evil.example' });
    expect(cross.status).toBe(401);
    expect(cross.body.error.fields).toEqual([{ path: 'cookie', reason: 'not accepted cross-origin' }]);
    const post = await raw('GET', '/v1/tokens', { cookie, origin: 'https://evil.example' });
    expect(post.status).toBe(401);
  });
});

describe('Host header', () => {
  it('accepts exactly host[:port] and refuses anything after it', async () => {
    const port = new URL(t.url).port;
    for (const host of ['localhost', `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, '[::1]', 'LOCALHOST'])
      expect((await raw('GET', '/v1/whoami', { ...auth, host })).status, host).toBe(200);
    for (const host of [
      'localhost:1@evil.example',
      `localhost:${port}@evil.example`,
      '[::1]evil.com',
      '[::1]:80evil.com',
      `[::1]:${port}.evil.com`,
      'localhost:99999',
      'localhost:80:80',
      'localhost:',
      'localhost/evil',
      'localhost evil',
      '127.0.0.1:80#evil',
      '[127.0.0.1]',
      '[::1',
    ]) {
      const r = await raw('GET', '/v1/whoami', { ...auth, host });
      expect(r.status, host).toBe(403);
      expect(r.body.error.code).toBe('host_not_allowed');
    }
  });
});

describe('HEAD /v1/stream', () => {
  it('answers with headers only and registers no subscriber', async () => {
    const { port } = new URL(t.url);
    const sock = connect(Number(port), '127.0.0.1');
    let got = '';
    sock.setEncoding('utf8').on('data', (c: string) => (got += c));
    sock.write(`HEAD /v1/stream HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${ADMIN}\r\n\r\n`);
    await until(() => got.includes('\r\n\r\n'), 'the HEAD response');
    expect(got).toMatch(/^HTTP\/1\.1 200 /);
    expect(got.toLowerCase()).toContain('content-type: text/event-stream');
    // While the socket is still open, nothing is subscribed and nothing follows the headers.
    expect((await api(t.url, '/v1/connections')).body.connections).toEqual([]);
    await sleep(400); // longer than two heartbeats: a registered subscriber would have been sent one
    expect(got.slice(got.indexOf('\r\n\r\n') + 4)).toBe('');
    expect(t.hub.broker.size).toBe(0);
    sock.destroy();
    // Refused the same way as GET.
    expect((await raw('HEAD', '/v1/stream', {})).status).toBe(401);
  });
});

describe('a scoped token sees its own head, never the global one', () => {
  it('in whoami, state, the connection frame, the snapshot, heartbeats, reset and /healthz', async () => {
    const store12 = await createToken(t.url, 'subscriber', { store_ids: [12] });
    const r12 = await publish(t.url, [sample.storeOrder(12), sample.storeOrder(12)]);
    const mine = r12.body.results[1].seq as number;
    await publish(t.url, Array.from({ length: 10 }, () => sample.storeOrder(13)));
    const global = t.hub.log.head;
    expect(global).toBeGreaterThan(mine);

    expect((await api(t.url, '/v1/whoami', { token: store12 })).body.head_seq).toBe(mine);
    expect((await api(t.url, '/v1/whoami')).body.head_seq).toBe(global);
    expect((await api(t.url, '/v1/state/orders', { token: store12 })).body.seq).toBe(mine);
    const health = await api(t.url, '/healthz', { token: null });
    expect(health.status).toBe(200);
    // Numbers only: the random hub id is a string and may contain the head's digits by chance.
    expect(JSON.stringify(health.body, (_k, v: unknown) => (typeof v === 'string' ? undefined : v))).not.toContain(String(global));
    expect(health.body).not.toHaveProperty('head_seq');

    const s = openRawSse(t.url, '/v1/stream?snapshot=1', { token: store12 });
    await until(() => s.parse().frames.filter((f) => f.event === 'heartbeat').length >= 1, 'a heartbeat');
    const frames = s.parse().frames;
    s.destroy();
    const conn = frames.find((f) => f.event === 'connection')!.data as { head_seq: number };
    expect(conn.head_seq).toBe(mine);
    const initial = frames.find((f) => f.event === 'initial')!;
    expect([initial.id, (initial.data as { seq: number }).seq]).toEqual([mine, mine]);
    for (const hb of frames.filter((f) => f.event === 'heartbeat')) expect((hb.data as { head_seq: number }).head_seq).toBe(mine);

    // An id past its scope's head (here: the global head) is a reset naming the scope's head; the
    // global head cannot be found by trying ids.
    const ahead = openRawSse(t.url, `/v1/stream?lastEventId=${global}`, { token: store12 });
    await until(() => ahead.parse().frames.some((f) => f.event === 'initial'), 'reset and snapshot');
    const reset = ahead.parse().frames.find((f) => f.event === 'reset')!.data as { head_seq: number; message: string };
    ahead.destroy();
    expect(reset.head_seq).toBe(mine);
    expect(reset.message).toContain(`(head ${mine})`);

    // After a new event of its own, its heartbeats follow it.
    const live = openRawSse(t.url, `/v1/stream?lastEventId=${mine}`, { token: store12 });
    await until(() => live.parse().frames.some((f) => f.event === 'connection'), 'connected');
    expect(live.parse().frames.some((f) => f.event === 'reset')).toBe(false);
    const next = (await publish(t.url, sample.storeOrder(12))).body.results[0].seq as number;
    await publish(t.url, sample.storeOrder(13));
    await until(() => live.parse().frames.some((f) => f.event === 'heartbeat' && (f.data as { head_seq: number }).head_seq === next), 'heartbeat at the new head');
    live.destroy();
    expect(live.parse().frames.filter((f) => f.event === 'heartbeat').every((f) => (f.data as { head_seq: number }).head_seq <= next)).toBe(true);
  });
});
