import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { request } from 'node:http';
import { startTestHub, api, publish, createToken, type TestHub } from '../helpers/hub.ts';
import { sample } from '../helpers/events.ts';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ bodyLimitBytes: 64 * 1024 });
});
afterAll(async () => {
  await t.stop();
});

/** Raw request, for headers fetch will not let us forge (Host) and bodies it would re-encode. */
function raw(path: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}) {
  const u = new URL(path, t.url);
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = request(u, { method: opts.method ?? 'GET', headers: { authorization: 'Bearer test-admin-token', ...opts.headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* keep text */
        }
        resolve({ status: res.statusCode!, body });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const fieldsOf = (r: { body: { error?: { fields?: { path: string }[] } } }) => r.body.error?.fields?.map((f) => f.path);

describe('every refusal is a clear 4xx that names the field and the reason', () => {
  it('400: broken JSON, invalid UTF-8, empty body, bad query values, unknown query parameters, bad Last-Event-ID', async () => {
    const broken = await api(t.url, '/v1/events', { raw: '{"type": "x.a", ', headers: { 'content-type': 'application/json' } });
    expect([broken.status, broken.body.error.code, fieldsOf(broken)]).toEqual([400, 'invalid_json', ['body']]);
    const utf8 = await raw('/v1/events', { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) });
    expect([utf8.status, utf8.body.error.code]).toEqual([400, 'invalid_utf8']);
    const empty = await api(t.url, '/v1/events', { raw: ' ', headers: { 'content-type': 'application/json' } });
    expect(empty.status).toBe(400);
    // A prototype key is valid JSON but is never stored: a 422 naming where it is.
    const proto = await api(t.url, '/v1/events', { raw: '{"type":"x.a","data":{"__proto__":{"admin":true}}}', headers: { 'content-type': 'application/json' } });
    expect([proto.status, fieldsOf(proto)]).toEqual([422, ['data.__proto__']]);
    const unknownParam = await api(t.url, '/v1/stream?colour=blue');
    expect([unknownParam.status, fieldsOf(unknownParam)]).toEqual([400, ['colour']]);
    const badSnapshot = await api(t.url, '/v1/stream?snapshot=maybe');
    expect(fieldsOf(badSnapshot)).toEqual(['snapshot']);
    const badLast = await api(t.url, '/v1/stream', { headers: { 'last-event-id': 'abc' } });
    expect([badLast.status, fieldsOf(badLast)]).toEqual([400, ['headers.last-event-id']]);
    const badLastQ = await api(t.url, '/v1/stream?lastEventId=-4');
    expect(fieldsOf(badLastQ)).toEqual(['lastEventId']);
    const badType = await api(t.url, '/v1/events?type=Trading');
    expect(fieldsOf(badType)).toEqual(['type.0']);
    const badLimit = await api(t.url, '/v1/events?limit=5000');
    expect(fieldsOf(badLimit)).toEqual(['limit']);
    const queryOnPost = await api(t.url, '/v1/events?x=1', { body: { type: 'x.a', data: {} } });
    expect(fieldsOf(queryOnPost)).toEqual(['x']);
    const tokenInQuery = await api(t.url, '/v1/events?access_token=abc', { token: null });
    expect(fieldsOf(tokenInQuery)).toEqual(['access_token']);
    const noSelector = await api(t.url, '/v1/connections', { method: 'DELETE' });
    expect(noSelector.status).toBe(400);
  });

  it('401: missing, malformed, unknown and revoked credentials', async () => {
    expect((await api(t.url, '/v1/events', { token: null })).status).toBe(401);
    expect((await api(t.url, '/v1/events', { token: null, headers: { authorization: 'Basic abc' } })).status).toBe(401);
    expect((await api(t.url, '/v1/events', { token: 'rdk_nope' })).status).toBe(401);
    expect((await api(t.url, '/v1/stream?access_token=rdk_nope', { token: null })).status).toBe(401);
    expect((await api(t.url, '/v1/events', { token: null, headers: { cookie: 'rd_session=forged' } })).status).toBe(401);
    const tok = await createToken(t.url, 'subscriber');
    const id = (await api(t.url, '/v1/tokens')).body.tokens.at(-1).id;
    await api(t.url, `/v1/tokens/${id}`, { method: 'DELETE' });
    const revoked = await api(t.url, '/v1/events', { token: tok });
    expect([revoked.status, fieldsOf(revoked)]).toEqual([401, ['headers.authorization']]);
    const used = await api(t.url, '/auth/exchange?code=rdc_unknown', { token: null });
    expect(used.status).toBe(401);
  });

  it('403: wrong role, out of scope, foreign Host (DNS rebinding) and foreign Origin', async () => {
    const sub = await createToken(t.url, 'subscriber');
    expect((await publish(t.url, { type: 'x.a', data: {} }, sub)).status).toBe(403);
    const host = await raw('/v1/events', { headers: { host: 'evil.example:80' } });
    expect([host.status, host.body.error.code]).toEqual([403, 'host_not_allowed']);
    const origin = await api(t.url, '/v1/events', { body: { type: 'x.a', data: {} }, headers: { origin: 'https://evil.example' } });
    expect([origin.status, origin.body.error.code]).toEqual([403, 'origin_not_allowed']);
    const simple = await raw('/v1/events', { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'text/plain' }, body: '{}' });
    expect(simple.status).toBe(403);
    const nullOrigin = await api(t.url, '/v1/stream', { headers: { origin: 'null' } });
    expect(nullOrigin.status).toBe(403);
    // The hub's own origin is fine (the console in browser mode).
    expect((await api(t.url, '/v1/whoami', { headers: { origin: t.url } })).status).toBe(200);
  });

  it('404, 409, 413, 415, 422 and 429', async () => {
    expect((await api(t.url, '/v1/nothing')).status).toBe(404);
    expect((await api(t.url, '/v1/state/everything')).status).toBe(404);
    expect((await api(t.url, '/v1/tokens/tok_missing', { method: 'DELETE' })).status).toBe(404);
    const self = await api(t.url, '/v1/tokens/tok_admin', { method: 'DELETE' });
    expect(self.status).toBe(409);

    const big = await api(t.url, '/v1/events', { body: { type: 'x.big', data: { s: 'x'.repeat(70 * 1024) } } });
    expect([big.status, fieldsOf(big)]).toEqual([413, ['body']]);
    const many = await publish(t.url, Array.from({ length: 5001 }, () => ({ type: 'x.a', data: {} })));
    expect([413, 400]).toContain(many.status);
    const form = await api(t.url, '/v1/events', { raw: 'type=x.a', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect([form.status, fieldsOf(form)]).toEqual([415, ['headers.content-type']]);

    const invalid = await publish(t.url, { type: 'store.order.updated', store_id: 1, data: { order_id: 1, status: 'teleported' }, priority: 'meh', time: 'yesterday' });
    expect(invalid.status).toBe(422);
    expect(fieldsOf(invalid)).toEqual(expect.arrayContaining(['priority', 'time']));
    const invalidData = await publish(t.url, { type: 'store.order.updated', store_id: 1, data: { order_id: 1, status: 'teleported' } });
    expect(invalidData.body.error.fields).toEqual([{ path: 'data.status', reason: expect.stringContaining('pending') }]);

    const limited = await api(t.url, '/v1/tokens', { body: { role: 'publisher', rate_limit: 2 } });
    const results = await Promise.all(Array.from({ length: 8 }, () => publish(t.url, sample.storeOrder('rl'), limited.body.token)));
    const statuses = results.map((r) => r.status);
    expect(statuses).toContain(429);
    const r429 = results.find((r) => r.status === 429)!;
    expect(r429.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(r429.body.error.code).toBe('rate_limited');
  });

  it('NDJSON batches are accepted and their line errors are named', async () => {
    const ok = await api(t.url, '/v1/events', { raw: '{"type":"x.nd","data":{"a":1}}\n\n{"type":"x.nd","data":{"a":2}}\n', headers: { 'content-type': 'application/x-ndjson' } });
    expect(ok.status).toBe(201);
    expect(ok.body.results).toHaveLength(2);
    const bad = await api(t.url, '/v1/events', { raw: '{"type":"x.nd","data":{}}\n{oops\n', headers: { 'content-type': 'application/x-ndjson' } });
    expect([bad.status, fieldsOf(bad)]).toEqual([400, ['line 2']]);
  });

  it('the hub keeps serving after all of the above', async () => {
    expect((await api(t.url, '/healthz', { token: null })).status).toBe(200);
    expect((await publish(t.url, sample.storeOrder('after'))).status).toBe(201);
  });
});
