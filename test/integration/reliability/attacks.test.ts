import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Writable } from 'node:stream';
import { startTestHub, api, createToken, until, ADMIN, type TestHub } from '../../helpers/hub.ts';
import { openRawSse, rawRequest } from '../../helpers/reliability.ts';
import { sample } from '../../helpers/events.ts';

/**
 * Local-server attacks: DNS rebinding (foreign Host), cross-origin pages (incl. "simple" text/plain
 * POSTs that skip the preflight), missing/revoked tokens, and secrets in the hub's own logs.
 */
let t: TestHub;
const logLines: string[] = [];
beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(String(chunk));
      cb();
    },
  });
  t = await startTestHub({ logLevel: 'trace', logDestination: sink });
});
afterAll(async () => {
  await t?.stop();
});


const raw = (method: string, path: string, headers: Record<string, string>, body?: string) => rawRequest(t.url, method, path, headers, body);

const auth = { authorization: `Bearer ${ADMIN}` };
const event = JSON.stringify({ type: 'x.attack.probe', data: { n: 1 } });

describe('local-server attacks', () => {
  it('refuses a foreign Host header (DNS rebinding) on every route', async () => {
    const port = new URL(t.url).port;
    for (const host of ['evil.example', `evil.example:${port}`, 'localhost.evil.example', '127.0.0.1.nip.io', `attacker.test:${port}`, 'LOCALHOST.evil']) {
      for (const [method, path, body] of [
        ['GET', '/v1/stream', undefined],
        ['POST', '/v1/events', event],
        ['GET', '/v1/events', undefined],
        ['GET', '/healthz', undefined],
        ['GET', '/', undefined],
        ['GET', '/auth/exchange?code=x', undefined],
      ] as const) {
        const r = await raw(method, path, { ...auth, host, 'content-type': 'application/json' }, body);
        expect(r.status, `${method} ${path} Host ${host}`).toBe(403);
        expect(r.body.error.code).toBe('host_not_allowed');
        expect(r.body.error.fields[0].path).toBe('headers.host');
      }
    }
    // Loopback names and literals are fine.
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) expect((await raw('GET', '/healthz', { host })).status).toBe(200);
    expect((await api(t.url, '/v1/events?type=x.attack.*')).body.events).toEqual([]);
  });

  it('refuses cross-origin pages that try to publish or subscribe, including simple text/plain POSTs', async () => {
    const before = t.hub.log.count();
    for (const origin of ['https://evil.example', 'http://localhost.evil.example', 'null', 'http://127.0.0.1:1']) {
      const simple = await raw('POST', '/v1/events', { origin, 'content-type': 'text/plain' }, event);
      expect(simple.status, `simple POST from ${origin}`).toBe(403);
      expect(simple.body.error.fields[0].path).toBe('headers.origin');
      const form = await raw('POST', '/v1/events', { origin, 'content-type': 'application/x-www-form-urlencoded' }, 'a=1');
      expect(form.status).toBe(403);
      const json = await raw('POST', '/v1/events', { ...auth, origin, 'content-type': 'application/json' }, event);
      expect(json.status).toBe(403);
      const preflight = await raw('OPTIONS', '/v1/events', { origin, 'access-control-request-method': 'POST' });
      expect(preflight.status).toBe(403);
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      const sub = await raw('GET', '/v1/stream', { ...auth, origin });
      expect(sub.status).toBe(403);
      const subQ = await raw('GET', `/v1/stream?access_token=${ADMIN}`, { origin });
      expect(subQ.status).toBe(403);
      const hist = await raw('GET', '/v1/events', { ...auth, origin });
      expect(hist.status).toBe(403);
    }
    // Without an Origin (a backend), a text/plain body is still not JSON: 415, never parsed.
    const plain = await raw('POST', '/v1/events', { ...auth, 'content-type': 'text/plain' }, event);
    expect(plain.status).toBe(415);
    expect(t.hub.log.count()).toBe(before);
    // The hub's own page (same origin) is allowed.
    const same = await raw('POST', '/v1/events', { ...auth, origin: t.url, 'content-type': 'application/json' }, event);
    expect(same.status).toBe(201);
  });

  it('refuses missing, malformed, wrong-role and revoked tokens, and cuts live streams of a revoked token', async () => {
    expect((await api(t.url, '/v1/events', { token: null })).status).toBe(401);
    expect((await api(t.url, '/v1/events', { token: null, body: sample.mail('u1') })).status).toBe(401);
    expect((await raw('GET', '/v1/stream', {})).status).toBe(401);
    expect((await raw('GET', '/v1/stream', { authorization: 'Basic YTpi' })).status).toBe(401);
    expect((await raw('GET', '/v1/stream?access_token=nope', {})).status).toBe(401);
    // access_token is only for EventSource: not accepted on publish or history.
    const q = await api(t.url, `/v1/events?access_token=${ADMIN}`, { token: null });
    expect(q.status).toBe(400);
    expect(q.body.error.fields[0].path).toBe('access_token');

    const sub = await createToken(t.url, 'subscriber', { user_id: 'u1' });
    const pub = await createToken(t.url, 'publisher', { user_id: 'u1' });
    expect((await api(t.url, '/v1/events', { token: sub, body: sample.mail('u1') })).status).toBe(403);
    expect((await raw('GET', '/v1/stream', { authorization: `Bearer ${pub}` })).status).toBe(403);
    expect((await api(t.url, '/v1/tokens', { token: sub, body: { role: 'admin', scope: {} } })).status).toBe(403);

    const live = openRawSse(t.url, '/v1/stream?events=message', { token: sub });
    const liveQ = openRawSse(t.url, `/v1/stream?events=message&access_token=${sub}`, { token: null });
    await Promise.all([live.ready, liveQ.ready]);
    expect([live.status, liveQ.status]).toEqual([200, 200]);
    const id = (await api(t.url, '/v1/tokens')).body.tokens.find((x: { scope: { user_id?: string }; role: string }) => x.role === 'subscriber' && x.scope.user_id === 'u1').id;
    const pubId = (await api(t.url, '/v1/tokens')).body.tokens.find((x: { scope: { user_id?: string }; role: string }) => x.role === 'publisher' && x.scope.user_id === 'u1').id;
    expect((await api(t.url, `/v1/tokens/${id}`, { method: 'DELETE' })).body.disconnected).toBe(2);
    expect((await api(t.url, `/v1/tokens/${pubId}`, { method: 'DELETE' })).status).toBe(200);
    await until(() => live.ended && liveQ.ended, 'revoked streams to end');
    expect(live.text).toContain('"reason":"token_revoked"');
    expect((await raw('GET', '/v1/stream', { authorization: `Bearer ${sub}` })).status).toBe(401);
    expect((await raw('GET', `/v1/stream?access_token=${sub}`, {})).status).toBe(401);
    expect((await api(t.url, '/v1/events', { token: pub, body: sample.mail('u1') })).status).toBe(401);
    expect((await api(t.url, '/v1/events', { token: sub })).status).toBe(401);
  });

  it('keeps every secret out of the logs (tokens, stream URLs, login codes, sessions)', async () => {
    const secrets: string[] = [ADMIN];
    const sub = await createToken(t.url, 'subscriber', {}, 'log-probe');
    secrets.push(sub);
    const subId = (await api(t.url, '/v1/tokens')).body.tokens.find((x: { label: string | null }) => x.label === 'log-probe').id;

    // Stream URLs with access_token: accepted, refused (bad query, unknown token, wrong filter).
    for (const path of [
      `/v1/stream?access_token=${sub}`,
      `/v1/stream?access_token=${sub}&bogus=1`,
      `/v1/stream?access_token=${sub}&type=BAD`,
      `/v1/stream?access_token=${sub}-wrong`,
      `/v1/stream?strategy_id=1&access_token=${sub}&lastEventId=x`,
      `/v1/nowhere?access_token=${sub}`,
      `/v1/events?access_token=${sub}`,
    ]) {
      const s = openRawSse(t.url, path, { token: null });
      await s.ready;
      s.destroy();
    }
    secrets.push(`${sub}-wrong`);
    // Bearer in odd shapes, and a token as a body value (e.g. a confused client).
    await raw('GET', '/v1/events', { authorization: `Bearer ${sub} extra` });
    await raw('GET', '/v1/events', { authorization: `bearer   ${sub}` });
    await raw('POST', '/v1/events', { ...auth, 'content-type': 'application/json' }, `{"token":"${sub}",`);
    await raw('GET', `/v1/stream?access_token=${sub}`, { host: 'evil.example' });
    await raw('GET', `/v1/stream?access_token=${sub}`, { origin: 'https://evil.example' });

    // Login codes: minted over the API, redeemed once (session cookie), then replayed.
    const login = await api(t.url, `/v1/tokens/${subId}/login-url`, { method: 'POST' });
    expect(login.status).toBe(201);
    const code = new URL(login.body.url).searchParams.get('code')!;
    secrets.push(code);
    const ex = await raw('GET', `/auth/exchange?code=${encodeURIComponent(code)}`, {});
    expect(ex.status).toBe(303);
    const cookie = String((ex.headers['set-cookie'] as string[])[0]).split(';')[0]!;
    secrets.push(decodeURIComponent(cookie.split('=')[1]!));
    expect((await raw('GET', '/v1/whoami', { cookie })).status).toBe(200);
    expect((await raw('GET', `/auth/exchange?code=${encodeURIComponent(code)}`, {})).status).toBe(401);
    await raw('GET', `/auth/exchange?code=${encodeURIComponent(code)}&x=1`, {});
    const code2 = t.hub.loginUrl();
    secrets.push(new URL(code2).searchParams.get('code')!);
    // A revoked token's secret still must not show up.
    await api(t.url, `/v1/tokens/${subId}`, { method: 'DELETE' });
    await raw('GET', '/v1/stream', { authorization: `Bearer ${sub}` });
    expect((await raw('GET', '/v1/whoami', { cookie })).status).toBe(401); // the session dies with its token
    await raw('GET', '/v1/stats', auth);

    await new Promise((r) => setTimeout(r, 50));
    const all = logLines.join('');
    expect(all.length).toBeGreaterThan(0); // trace level does log requests and errors
    for (const s of secrets) {
      expect(all.includes(s), `secret ${s.slice(0, 8)}… appears in the hub log`).toBe(false);
      expect(all.includes(encodeURIComponent(s)), `url-encoded secret ${s.slice(0, 8)}… appears in the hub log`).toBe(false);
    }
    if (process.env.SHOW_LOG) console.log(all.slice(0, 6000));
    console.log(JSON.stringify({ attacks: { log_lines: logLines.length, log_bytes: all.length, secrets_checked: secrets.length } }));
  });
});
