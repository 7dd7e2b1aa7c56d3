import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { startTestHub, api, ADMIN, until, type TestHub } from '../../helpers/hub.ts';
import { openRawSse, prng, type Rng, type RawSse } from '../../helpers/reliability.ts';

/**
 * Bad input: a seeded fuzz run of malformed requests. Every one gets a clear 4xx (JSON error body,
 * and error.fields naming the field where there is one), the hub stays up, a raw SSE reader running
 * throughout never sees a malformed or split frame, and the log is intact afterwards.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const COUNT = Number(process.env.FUZZ_COUNT ?? 10_000);
const CONCURRENCY = 24;

let t: TestHub;
const warnings: string[] = [];
beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, cb) {
      warnings.push(String(chunk));
      cb();
    },
  });
  t = await startTestHub({ rateLimitPerSecond: 0, logLevel: 'warn', logDestination: sink });
});
afterAll(async () => {
  await t?.stop();
});

interface Case {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** A field path the error must name (exact, or a prefix ending in "."). */
  field?: string | RegExp;
  /** A valid publish mixed in: must be 201 and reach the subscriber intact. */
  valid?: { data: Record<string, unknown> };
  /** Raw bytes over a socket (for requests Node's client refuses to build). */
  raw?: string;
}

const JSONH = { 'content-type': 'application/json' };
const NASTY = ['\r', '\n', '\r\n', '\0', '\n\ndata: {"fake":1}\n\n', 'id: 99\n', '\u2028', '\u2029', '\u0085', '\ud800', '\udfff', '😀', '\u001b[31m', ': comment\n', 'event: x\n'];

function nastyString(r: Rng): string {
  let s = '';
  const n = 1 + r.int(6);
  for (let i = 0; i < n; i++) s += r.chance(0.5) ? r.pick(NASTY) : String.fromCharCode(r.int(0x2fff));
  return s;
}

const goodEvent = () => ({ type: 'x.fuzz.ok', data: { a: 1 } });
const nested = (depth: number, leaf = '1') => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);

function makeCase(r: Rng, i: number): Case {
  const bearer = { authorization: `Bearer ${ADMIN}` };
  const post = (body: string | Buffer, field?: Case['field'], kind = 'post', headers: Record<string, string> = JSONH): Case => ({
    kind,
    method: 'POST',
    path: '/v1/events',
    headers: { ...bearer, ...headers },
    body: Buffer.isBuffer(body) ? body : Buffer.from(body),
    field,
  });
  if (i % 20 === 0) {
    const data: Record<string, unknown> = { s: nastyString(r), k: { [nastyString(r)]: [nastyString(r), r.int(1000)] }, n: i };
    return { ...post(JSON.stringify({ type: 'x.fuzz.valid', id: `fz-${i}`, data }), undefined, 'valid'), valid: { data } };
  }
  const k = r.int(23);
  switch (k) {
    case 0: {
      // Broken JSON: truncated, garbage, trailing commas, single quotes.
      const full = JSON.stringify(goodEvent());
      const broken = r.pick([full.slice(0, 1 + r.int(full.length - 1)), full + ',', `{'type':'x.a'}`, '{"type":"x.a",}', '{', '[1,]', 'nul', 'NaN', '{"a":1}}', '\u0000']);
      return post(broken, 'body', 'broken_json');
    }
    case 1: {
      // Wrong types for each envelope field.
      const field = r.pick(['type', 'data', 'id', 'store_id', 'user_id', 'strategy_id', 'priority', 'time'] as const);
      const bad: Record<string, unknown[]> = {
        type: [1, null, true, [], {}, '', 'Upper.Case', 'nodot', 'a..b'],
        data: ['s', 1, null, [], true],
        id: [1, null, '', [], 'has space', 'x'.repeat(129)],
        store_id: [{}, -1, 1.5, '', [], 'a b', 'x'.repeat(65)],
        user_id: [{}, -1, true, '', 'ü'],
        strategy_id: [{}, [1], false, '', 'semi;colon'],
        priority: ['x', 1, null, 'URGENT'],
        time: ['yesterday', 1, '2026-13-01T00:00:00Z', '2026-01-01'],
      };
      return post(JSON.stringify({ ...goodEvent(), [field]: r.pick(bad[field]!) }), field, 'wrong_type');
    }
    case 2:
      return post(JSON.stringify({ ...goodEvent(), [r.pick(['extra', 'seq', 'received_at', 'Type'])]: 1 }), /^(extra|seq|received_at|Type)$/, 'unknown_key');
    case 3: {
      // Huge body, over the 1 MiB limit (rarely: they are big).
      if (r.chance(0.9)) return post(JSON.stringify({ ...goodEvent(), data: { s: 'x'.repeat(2000 + r.int(5000)) }, bogus: 1 }), 'bogus', 'large_ok_size');
      return post(JSON.stringify({ ...goodEvent(), data: { s: 'x'.repeat(1024 * 1024 + r.int(100_000)) } }), 'body', 'huge');
    }
    case 4: {
      // Deep nesting: over the data limit, or deep enough to hurt a recursive parser.
      const depth = r.pick([17, 40, 1000, 50_000, 200_000]);
      if (r.chance(0.5)) return post(`{"type":"x.a","data":${nested(depth)}}`, /^(body|data)$/, 'deep');
      return post('['.repeat(depth) + ']'.repeat(depth), /^(body|0)$/, 'deep_array');
    }
    case 5: {
      // Invalid UTF-8 inside otherwise valid JSON.
      const bad = r.pick([[0xff], [0xc3, 0x28], [0xe2, 0x82], [0xf0, 0x28, 0x8c, 0xbc], [0xc0, 0xaf], [0xed, 0xa0, 0x80]]);
      const [a, b] = ['{"type":"x.a","data":{"s":"', '"}}'];
      return post(Buffer.concat([Buffer.from(a), Buffer.from(bad), Buffer.from(b)]), 'body', 'invalid_utf8');
    }
    case 6: {
      // CR/LF/NUL in type, id and scope keys.
      const field = r.pick(['type', 'id', 'store_id', 'user_id', 'strategy_id'] as const);
      const base = field === 'type' ? 'x.fuzz' : 'abc';
      const v = base + r.pick(['\r', '\n', '\r\n', '\0', '\n\nevent: evil', '\u2028']) + 'tail';
      return post(JSON.stringify({ ...goodEvent(), [field]: v }), field, 'ctl_in_key');
    }
    case 7: {
      const bogus = r.pick(['abc', '-1', '1e5', '0x10', '1.5', '9999999999999999', '12 34', '\u00bd', '+5', 'NaN', '1,2']);
      return { kind: 'bogus_last_event_id', method: 'GET', path: '/v1/stream', headers: { ...bearer, 'last-event-id': bogus }, field: 'headers.last-event-id' };
    }
    case 8: {
      const bogus = r.pick(['abc', '-1', '1e5', '', '9999999999999999']);
      return { kind: 'bogus_last_event_id_query', method: 'GET', path: `/v1/stream?lastEventId=${encodeURIComponent(bogus)}`, headers: bearer, field: 'lastEventId' };
    }
    case 9: {
      const name = r.pick(['foo', 'access', 'Store_id', 'types', 'since_seq', 'limit2']);
      const path = r.pick([`/v1/events?${name}=1`, `/v1/stream?${name}=1`, `/v1/state/orders?${name}=1`, `/v1/state/mail?${name}=x`]);
      return { kind: 'unknown_query', method: 'GET', path, headers: bearer, field: name };
    }
    case 10: {
      const name = r.pick(['foo', 'dry_run', 'wait']);
      return { ...post(JSON.stringify(goodEvent()), name, 'unknown_query_post'), path: `/v1/events?${name}=1` };
    }
    case 11: {
      const [method, path] = r.pick([
        ['PUT', '/v1/events'],
        ['PATCH', '/v1/events'],
        ['DELETE', '/v1/events'],
        ['POST', '/v1/stream'],
        ['DELETE', '/v1/stream'],
        ['POST', '/v1/state/orders'],
        ['GET', '/v1/tokens/x/login-url'],
        ['PUT', '/v1/whoami'],
        ['POST', '/healthz'],
      ] as const);
      return { kind: 'wrong_method', method, path, headers: { ...bearer, ...JSONH }, body: method === 'GET' || method === 'DELETE' ? undefined : Buffer.from('{}') };
    }
    case 12: {
      const ct = r.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'text/event-stream', 'application/jsonp', 'image/png']);
      if (r.chance(0.3))
        return post(JSON.stringify(goodEvent()), 'headers.content-encoding', 'wrong_content_encoding', { ...JSONH, 'content-encoding': r.pick(['br', 'deflate', 'zstd', 'gzip, gzip', 'x-unknown']) });
      return post(JSON.stringify(goodEvent()), 'headers.content-type', 'wrong_content_type', { 'content-type': ct });
    }
    case 13: {
      // A batch where one element is bad names its index.
      const n = 2 + r.int(10);
      const bad = r.int(n);
      const batch = Array.from({ length: n }, (_, j) => (j === bad ? { type: 'x.a', data: r.pick([1, 'x', null]) } : goodEvent()));
      return post(JSON.stringify(batch), `${bad}.data`, 'batch_bad_element');
    }
    case 14:
      return post(r.pick(['', '   ', 'null', '[]', '"str"', '42', 'true']), 'body', 'empty_or_scalar');
    case 15:
      return post(JSON.stringify(Array.from({ length: 5001 }, () => ({ type: 'x.a', data: {} }))), 'body', 'batch_too_large');
    case 16: {
      const h = r.pick(['Bearer', 'Basic abc', 'Bearer a b', 'bearer', 'Token x', 'Bearer wrong-token', 'Bearer ' + 'x'.repeat(3000)]);
      return { kind: 'bad_auth', method: 'GET', path: '/v1/events', headers: { authorization: h }, field: 'headers.authorization' };
    }
    case 17: {
      const p = r.pick(['store_id', 'user_id', 'strategy_id']);
      const v = r.pick(['a b', 'x'.repeat(65), '%00', 'a;b', '<script>', '%0d%0a']);
      return { kind: 'bad_filter', method: 'GET', path: `/v1/${r.pick(['stream', 'events', 'state/orders'])}?${p}=${encodeURIComponent(v)}`, headers: bearer, field: new RegExp(`^${p}(\\.\\d+)?$`) };
    }
    case 18: {
      const v = r.pick(['Trading', 'trading.**', '.x', 'a b', 'x.*.*', '*x']);
      return { kind: 'bad_type_filter', method: 'GET', path: `/v1/${r.pick(['stream', 'events'])}?type=${encodeURIComponent(v)}`, headers: bearer, field: /^type(\.\d+)?$/ };
    }
    case 19: {
      // Prototype keys (in any spelling) and numbers a float cannot hold are refused where they are.
      const [body, field] = r.pick([
        ['{"__proto__":{"x":1},"type":"x.a","data":{}}', '__proto__'],
        ['{"type":"x.a","data":{"k":[{"\\u005f_proto__":{}}]}}', 'data.k.0.__proto__'],
        ['{"type":"x.a","data":{"big":1e400}}', 'data.big'],
        ['{"type":"x.a","data":{"id":9007199254740993}}', 'data.id'],
        ['{"type":"x.a","store_id":18446744073709551617,"data":{}}', 'store_id'],
      ] as const);
      return post(body, field, 'proto_or_inexact');
    }
    case 20: {
      const lines = [JSON.stringify(goodEvent()), '{broken', JSON.stringify(goodEvent())];
      return post(lines.join('\n'), 'line 2', 'ndjson_broken', { 'content-type': 'application/x-ndjson' });
    }
    case 21: {
      const p = r.pick(['limit=0', 'limit=abc', 'limit=100000', 'cursor=-1', 'cursor=1.5', 'order=sideways', 'since=yesterday', 'until=1']);
      return { kind: 'bad_history_param', method: 'GET', path: `/v1/events?${p}`, headers: bearer, field: p.split('=')[0] };
    }
    default: {
      // Requests Node's client will not build: raw bytes on a socket. Node's parser answers 400.
      const raw = r.pick([
        'GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Bad: a\rb\r\n\r\n',
        'GET /v1/ev\0ents HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
        'POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n',
        'POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        'GARBAGE\r\n\r\n',
        `GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nLast-Event-ID: 1\n\nevil\r\n\r\n`,
      ]);
      return { kind: 'raw_socket', method: 'RAW', path: '', headers: {}, raw };
    }
  }
}

function send(agent: Agent, base: string, c: Case): Promise<{ status: number; text: string }> {
  if (c.raw !== undefined) {
    return new Promise((resolve) => {
      const u = new URL(base);
      const s = connect(Number(u.port), u.hostname);
      let text = '';
      s.setEncoding('latin1');
      s.on('data', (d: string) => {
        text += d;
        if (text.includes('\r\n\r\n')) s.destroy();
      });
      s.on('close', () => resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), text }));
      s.on('error', () => {});
      s.setTimeout(5000, () => s.destroy());
      s.write(c.raw!);
    });
  }
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { ...c.headers };
    if (c.body) headers['content-length'] = c.body.length;
    let req: ReturnType<typeof request>;
    try {
      req = request(base + c.path, { method: c.method, headers, agent });
    } catch (e) {
      resolve({ status: -2, text: `client refused to build the request: ${String(e)}` });
      return;
    }
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      // A stream route that (wrongly) accepted the request would never end: take the head and go.
      if ((res.headers['content-type'] ?? '').includes('text/event-stream')) {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, text: '' });
        return;
      }
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', (e) => resolve({ status: -1, text: String(e) }));
    req.end(c.body);
  });
}

function fieldMatches(expected: string | RegExp, paths: string[]): boolean {
  return paths.some((p) => (typeof expected === 'string' ? p === expected : expected.test(p)));
}

describe('bad input fuzz', () => {
  let named: RawSse;
  let message: RawSse;

  it(`answers ${COUNT} malformed requests with a clear 4xx and never breaks a stream (seed ${SEED})`, async () => {
    named = openRawSse(t.url, '/v1/stream?type=x.*');
    message = openRawSse(t.url, '/v1/stream?events=message&snapshot=1');
    await Promise.all([named.ready, message.ready]);
    const countBefore = t.hub.log.count();

    const rng = prng(SEED);
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const failures: string[] = [];
    const byKind = new Map<string, { n: number; statuses: Set<number> }>();
    const sentValid = new Map<string, Record<string, unknown>>();
    let next = 0;
    const started = Date.now();
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= COUNT) return;
        const c = makeCase(rng, i);
        const { status, text } = await send(agent, t.url, c);
        const k = byKind.get(c.kind) ?? { n: 0, statuses: new Set() };
        k.n++;
        k.statuses.add(status);
        byKind.set(c.kind, k);
        const where = `#${i} ${c.kind} ${c.method} ${c.path.slice(0, 80)} -> ${status} ${text.slice(0, 300)}`;
        if (c.valid) {
          if (status !== 201) failures.push(`valid publish refused: ${where}`);
          else sentValid.set(JSON.parse(text).results[0].id, c.valid.data);
          continue;
        }
        if (c.raw !== undefined) {
          if (status < 400 || status > 499) failures.push(`raw: ${where}`);
          continue;
        }
        if (status < 400 || status > 499) {
          failures.push(`not 4xx: ${where}`);
          continue;
        }
        let body: { error?: { status?: number; code?: string; message?: string; fields?: { path: string; reason: string }[] } };
        try {
          body = JSON.parse(text);
        } catch {
          failures.push(`not a JSON error: ${where}`);
          continue;
        }
        const e = body.error;
        if (!e || e.status !== status || typeof e.code !== 'string' || typeof e.message !== 'string' || !e.message) {
          failures.push(`unclear error body: ${where}`);
          continue;
        }
        if (c.field !== undefined && !fieldMatches(c.field, (e.fields ?? []).map((f) => f.path)))
          failures.push(`fields do not name ${String(c.field)}: ${where}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    agent.destroy();
    const elapsed = Date.now() - started;

    // Still up and serving.
    expect((await api(t.url, '/healthz')).status).toBe(200);
    const unhandled = warnings.filter((w) => /unhandled error|"status":5\d\d/.test(w));

    // Every valid publish reached both raw readers intact, and no frame was ever malformed or split.
    await until(() => message.events().filter((e) => e.type === 'x.fuzz.valid').length >= sentValid.size, 'valid events on the message stream', 20_000);
    await until(() => named.events().filter((e) => e.type === 'x.fuzz.valid').length >= sentValid.size, 'valid events on the named stream', 20_000);
    for (const s of [named, message]) {
      const p = s.parse();
      expect(p.violations).toEqual([]);
      const got = s.events().filter((e) => e.type === 'x.fuzz.valid');
      expect(got.length).toBe(sentValid.size);
      for (const e of got) expect(e.data).toEqual(sentValid.get(e.id));
      expect(s.ended).toBe(false);
    }
    const namedFrames = named.parse().frames.filter((f) => f.id !== undefined && f.event !== 'initial');
    for (const f of namedFrames) expect(f.event).toBe((f.data as { type: string }).type);

    // The log is intact: exactly the valid publishes were added, and SQLite agrees it is sound.
    expect(t.hub.log.count()).toBe(countBefore + sentValid.size);
    expect(t.hub.db.pragma('integrity_check', { simple: true })).toBe('ok');

    const summary = Object.fromEntries([...byKind].map(([k, v]) => [k, { n: v.n, statuses: [...v.statuses].sort() }]));
    console.log(JSON.stringify({ fuzz: { seed: SEED, requests: COUNT, elapsed_ms: elapsed, valid_mixed_in: sentValid.size, failures: failures.length, by_kind: summary } }));
    expect(failures.slice(0, 20)).toEqual([]);
    expect(unhandled).toEqual([]);
    named.destroy();
    message.destroy();
  }, 240_000);
});
