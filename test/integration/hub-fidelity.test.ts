import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import Database from 'better-sqlite3';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestHub, api, publish, allEvents, type TestHub } from '../helpers/hub.ts';
import { rawStream } from '../helpers/sse.ts';
import { MIGRATIONS } from '../../electron/hub/db.ts';
import type { HubEvent } from '../../shared/events.ts';

/**
 * An acknowledged event is stored and delivered as sent: fields a schema does not name survive,
 * numbers JSON cannot keep exactly are refused by path instead of changed, retries compare content
 * regardless of key order, time ranges compare instants, and odd but legal bodies (a `constructor`
 * key, gzip) are taken while the dangerous ones are refused with the field named.
 */

const LIMIT = 64 * 1024;
let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ bodyLimitBytes: LIMIT });
});
afterAll(async () => {
  await t.stop();
});

const JSONH = { 'content-type': 'application/json' };
const post = (raw: string | Buffer, headers: Record<string, string> = JSONH) => api(t.url, '/v1/events', { raw, headers });
const fieldsOf = (r: { body: { error?: { fields?: { path: string }[] } } }) => r.body.error?.fields?.map((f) => f.path);
const byId = async (id: string): Promise<HubEvent> => (await allEvents(t.url)).find((e) => e.id === id)!;

describe('data is kept as sent', () => {
  it('stores, returns and streams fields the schemas do not name, at every level, and the raw values', async () => {
    const order = {
      id: 'fid-order-1',
      type: 'store.order.created',
      store_id: 12,
      data: {
        order_id: 1001,
        items: [{ name: 'Ramen', quantity: 2, price: 9.5, spice: 'extra hot' }],
        total: 19,
        extra_field: { nested: [1, 'two', null] },
      },
    };
    const trade = {
      id: 'fid-trade-1',
      type: 'trading.order.created',
      user_id: 7,
      strategy_id: 1,
      data: { order_id: 'T-1', symbol: 'BTC/USDT', side: 'BUY', order_type: 'LIMIT', quantity: 1, price: 10, status: 'NEW', account: { account_id: 1, name: 'Main', exchange: 'BINANCE', client_tag: 'desk-3' }, client_tag: 'bot-a' },
    };
    const stream = rawStream(t.url, '/v1/stream?events=message');
    await stream.ready;
    const r = await publish(t.url, [order, trade]);
    expect(r.status).toBe(201);

    // History: the data deep-equal to what was sent, in the order it was sent; no defaults added,
    // numeric ids left numeric.
    for (const sent of [order, trade]) {
      const stored = await byId(sent.id);
      expect(JSON.stringify(stored.data)).toBe(JSON.stringify(sent.data));
    }
    // Live delivery: the same bytes inside the frame.
    const deadline = Date.now() + 10_000;
    while (!stream.text.includes(JSON.stringify(trade.data)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    stream.destroy();
    expect(stream.text).toContain(JSON.stringify(order.data));
    expect(stream.text).toContain(JSON.stringify(trade.data));

    // State reads the data through the schema (string id, default status) and keeps the extras.
    const state = await api(t.url, '/v1/state/orders?store_id=12');
    const row = state.body.store_orders.find((x: { key: string }) => x.key === '12///1001');
    expect(row.data).toMatchObject({ order_id: '1001', status: 'pending', extra_field: { nested: [1, 'two', null] }, items: [{ spice: 'extra hot' }] });
    const trow = (await api(t.url, '/v1/state/orders?user_id=7')).body.trading_orders.find((x: { key: string }) => x.key === '/7/1/T-1');
    expect(trow.data).toMatchObject({ client_tag: 'bot-a', account: { client_tag: 'desk-3' } });
  });

  it('a retry is the same event whatever its key order, and a different one when its extra fields differ', async () => {
    const first = await publish(t.url, { id: 'fid-order-key', type: 'x.fid.keys', data: { a: 1, b: 2, nested: { y: 1, x: 2 } } });
    expect(first.status).toBe(201);
    const reordered = await publish(t.url, { id: 'fid-order-key', data: { nested: { x: 2, y: 1 }, b: 2, a: 1 }, type: 'x.fid.keys' });
    expect([reordered.status, reordered.body.results?.[0]?.duplicate]).toEqual([201, true]);

    const sent = { id: 'fid-extra-retry', type: 'store.order.created', store_id: 12, data: { order_id: 'e-1', items: [{ name: 'Tea', quantity: 1 }], total: 3, client_tag: 'a' } };
    expect((await publish(t.url, sent)).status).toBe(201);
    const changed = await publish(t.url, { ...sent, data: { ...sent.data, client_tag: 'b' } });
    expect([changed.status, changed.body.error?.code]).toEqual([409, 'id_conflict']);
    const added = await publish(t.url, { ...sent, data: { ...sent.data, items: [{ name: 'Tea', quantity: 1, spice: 'none' }] } });
    expect(added.status).toBe(409);
    const same = await publish(t.url, sent);
    expect(same.body.results?.[0]?.duplicate).toBe(true);
  });

  it('refuses numbers JSON cannot keep exactly, naming their path, and stores nothing', async () => {
    const before = (await allEvents(t.url)).length;
    const cases: [string, string][] = [
      ['{"type":"x.fid.n","data":{"x":{"big":1e400}}}', 'data.x.big'],
      ['{"type":"x.fid.n","data":{"n":9007199254740993}}', 'data.n'],
      ['{"type":"x.fid.n","data":{"list":[1,2,-1e-400]}}', 'data.list.2'],
      ['{"type":"x.fid.n","data":{"p":0.1000000000000000055511151231257827}}', 'data.p'],
      ['{"type":"x.fid.n","store_id":9007199254740993,"data":{}}', 'store_id'],
      ['[{"type":"x.fid.n","data":{}},{"type":"x.fid.n","data":{"x":{"big":1e400}}}]', '1.data.x.big'],
      ['{"type":"store.order.created","store_id":12,"data":{"order_id":1,"items":[{"name":"a","quantity":1}],"total":1e999}}', 'data.total'],
    ];
    for (const [body, path] of cases) {
      const r = await post(body);
      expect([r.status, r.body.error?.code, fieldsOf(r)], body).toEqual([422, 'validation_failed', [path]]);
      expect(r.body.error.fields[0].reason).toMatch(/exactly|range/);
    }
    const nd = await post(`{"type":"x.fid.n","data":{}}\n\n{"type":"x.fid.n","data":{"n":12345678901234567890}}\n`, { 'content-type': 'application/x-ndjson' });
    expect([nd.status, fieldsOf(nd)]).toEqual([422, ['1.data.n']]);
    expect((await allEvents(t.url)).length).toBe(before);
  });

  it('takes numbers that are the same value written another way, and stores them as their value', async () => {
    const r = await post('{"id":"fid-num-ok","type":"x.fid.n","data":{"a":1.0,"b":1e2,"c":-0,"d":1E+21,"e":9007199254740992,"f":0.1,"g":123.4560,"h":9007199254740994}}');
    expect(r.status).toBe(201);
    expect((await byId('fid-num-ok')).data).toEqual({ a: 1, b: 100, c: 0, d: 1e21, e: 9007199254740992, f: 0.1, g: 123.456, h: 9007199254740994 });
  });
});

describe('since and until compare instants', () => {
  it('finds an event by the instant its time names, whatever offset either side uses', async () => {
    // 01:30 at +09:00 is 16:30Z the day before: as text it sorts after every 2026-11-22 time.
    const tokyo = await publish(t.url, { id: 'fid-time-tokyo', type: 'x.fid.time', time: '2026-11-23T01:30:00+09:00', data: {} });
    const utc = await publish(t.url, { id: 'fid-time-utc', type: 'x.fid.time', time: '2026-11-22T17:30:00Z', data: {} });
    expect([tokyo.status, utc.status]).toEqual([201, 201]);
    const ids = async (q: string) => {
      const r = await api(t.url, `/v1/events?type=x.fid.time&order=asc&${q}`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return (r.body.events as HubEvent[]).map((e) => e.id);
    };
    expect(await ids('since=2026-11-22T17:00:00Z')).toEqual(['fid-time-utc']);
    expect(await ids('since=2026-11-22T16:00:00Z&until=2026-11-22T17:00:00Z')).toEqual(['fid-time-tokyo']);
    expect(await ids(`since=${encodeURIComponent('2026-11-23T01:00:00+09:00')}&until=${encodeURIComponent('2026-11-22T12:00:00-05:00')}`)).toEqual(['fid-time-tokyo']);
    expect(await ids('since=2026-11-22t16:30:00z&until=2026-11-22T16:30:00.001-00:00')).toEqual(['fid-time-tokyo']);
    // An unencoded "+" arrives as a space; the offset is still read as +09:00.
    expect(await ids('until=2026-11-23T01:30:00+09:00')).toEqual([]);
    expect(await ids('since=2026-11-23T02:30:00+09:00')).toEqual(['fid-time-utc']);
    // The event keeps the time as sent.
    expect((await byId('fid-time-tokyo')).time).toBe('2026-11-23T01:30:00+09:00');
    for (const bad of ['2026-11-22', 'yesterday', '2026-02-30T00:00:00Z', '2026-11-22T16:30:00+24:00', '2026-11-22T16:30:00']) {
      const r = await api(t.url, `/v1/events?since=${encodeURIComponent(bad)}`);
      expect([r.status, fieldsOf(r)], bad).toEqual([400, ['since']]);
    }
  });

  it('a log written before time_ms existed is backfilled when it opens', async () => {
    const idx = MIGRATIONS.findIndex((m) => m.includes('ADD COLUMN time_ms'));
    expect(idx).toBeGreaterThan(0);
    const dir = mkdtempSync(join(tmpdir(), 'relaydesk-fid-'));
    const file = join(dir, 'old.db');
    const db = new Database(file);
    for (const m of MIGRATIONS.slice(0, idx)) db.exec(m);
    db.pragma(`user_version = ${idx}`);
    const ins = db.prepare(`INSERT INTO events (seq, id, type, priority, time, received_at, data) VALUES (?, ?, 'x.fid.old', 'normal', ?, '2026-11-22T00:00:00.000Z', '{}')`);
    ins.run(1, 'old-tokyo', '2026-11-23T01:30:00+09:00');
    ins.run(2, 'old-utc', '2026-11-22T17:30:00.250Z');
    db.close();
    const old = await startTestHub({ dbFile: file });
    try {
      const r = await api(old.url, '/v1/events?since=2026-11-22T16:00:00Z&until=2026-11-22T17:00:00Z');
      expect(r.body.events.map((e: HubEvent) => e.id)).toEqual(['old-tokyo']);
      const ms = old.hub.db.prepare('SELECT id, time_ms FROM events ORDER BY seq').all();
      expect(ms).toEqual([
        { id: 'old-tokyo', time_ms: Date.parse('2026-11-22T16:30:00Z') },
        { id: 'old-utc', time_ms: Date.parse('2026-11-22T17:30:00.250Z') },
      ]);
    } finally {
      await old.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bodies: odd keys, encodings, scalars', () => {
  it('keeps a key named constructor, in custom and known types', async () => {
    const a = await post('{"id":"fid-ctor-1","type":"x.fid.ctor","data":{"constructor":{"prototype":{"x":1}},"toString":"s"}}');
    expect(a.status).toBe(201);
    expect((await byId('fid-ctor-1')).data).toEqual({ constructor: { prototype: { x: 1 } }, toString: 's' });
    const b = await post('{"id":"fid-ctor-2","type":"store.order.created","store_id":12,"data":{"order_id":"c1","items":[{"name":"x","quantity":1,"constructor":"kept"}],"total":1}}');
    expect(b.status).toBe(201);
    expect((await byId('fid-ctor-2')).data.items).toEqual([{ name: 'x', quantity: 1, constructor: 'kept' }]);
  });

  it('refuses __proto__ keys with a 422 naming where they are, in any spelling', async () => {
    const cases: [string, string][] = [
      ['{"type":"x.a","data":{"__proto__":{"admin":true}}}', 'data.__proto__'],
      ['{"__proto__":{"x":1},"type":"x.a","data":{}}', '__proto__'],
      ['{"type":"x.a","data":{"a":[{"\\u005f_proto__":1}]}}', 'data.a.0.__proto__'],
      ['[{"type":"x.a","data":{}},{"type":"x.a","data":{"k":{"__proto__":null}}}]', '1.data.k.__proto__'],
    ];
    for (const [body, path] of cases) {
      const r = await post(body);
      expect([r.status, r.body.error?.code, fieldsOf(r)], body).toEqual([422, 'validation_failed', [path]]);
    }
  });

  it('accepts gzip bodies, with the size limit applied after decompression', async () => {
    const ev = { id: 'fid-gzip-1', type: 'x.fid.gzip', data: { s: 'hello '.repeat(100) } };
    const r = await post(gzipSync(JSON.stringify(ev)), { ...JSONH, 'content-encoding': 'gzip' });
    expect(r.status).toBe(201);
    expect((await byId('fid-gzip-1')).data).toEqual(ev.data);
    const nd = await post(gzipSync(`${JSON.stringify({ id: 'fid-gzip-2', type: 'x.fid.gzip', data: {} })}\n`), { 'content-type': 'application/x-ndjson', 'content-encoding': 'GZIP' });
    expect(nd.status).toBe(201);
    // Small on the wire, over the limit once inflated: a bomb is cut off at the limit.
    const bomb = gzipSync(JSON.stringify({ type: 'x.fid.gzip', data: { s: 'x'.repeat(LIMIT * 4) } }));
    expect(bomb.length).toBeLessThan(LIMIT);
    const big = await post(bomb, { ...JSONH, 'content-encoding': 'gzip' });
    expect([big.status, fieldsOf(big)]).toEqual([413, ['body']]);
    const corrupt = await post(Buffer.from('not gzip at all'), { ...JSONH, 'content-encoding': 'gzip' });
    expect([corrupt.status, fieldsOf(corrupt)]).toEqual([400, ['body']]);
    // A gzip body without the header is not silently misread either.
    const unlabelled = await post(gzipSync(JSON.stringify(ev)));
    expect(unlabelled.status).toBe(400);
  });

  it('refuses other content encodings with 415', async () => {
    for (const enc of ['br', 'deflate', 'compress', 'gzip, br', 'zstd']) {
      const r = await post(JSON.stringify({ type: 'x.a', data: {} }), { ...JSONH, 'content-encoding': enc });
      expect([r.status, r.body.error?.code, fieldsOf(r)], enc).toEqual([415, 'unsupported_content_encoding', ['headers.content-encoding']]);
    }
    const identity = await post(JSON.stringify({ type: 'x.a', data: {} }), { ...JSONH, 'content-encoding': 'identity' });
    expect(identity.status).toBe(201);
  });

  it('a scalar body is a 422 at path body', async () => {
    for (const body of ['42', '"str"', 'true', '1.5']) {
      const r = await post(body);
      expect([r.status, fieldsOf(r)], body).toEqual([422, ['body']]);
    }
  });
});
