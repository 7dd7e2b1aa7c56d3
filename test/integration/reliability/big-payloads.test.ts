import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, publish, startTestHub, until, sleep, ADMIN, type TestHub } from '../../helpers/hub.ts';
import { sample } from '../../helpers/events.ts';
import { spawnCliHub, rssOf, openRawSse, type ChildHub } from '../../helpers/reliability.ts';
import { HISTORY_PAGE_MAX_BYTES } from '../../../shared/api.ts';
import { SNAPSHOT_KIND_MAX_BYTES, STATE_PAGE_MAX_BYTES, snapshotSchema, statePageSchema } from '../../../shared/state.ts';
import type { HubEvent } from '../../../shared/events.ts';
import { stateRowKey } from '../../../shared/state-keys.ts';
import { RowFiller, type ReadState } from '../../../renderer/stream/row-filler.ts';
import { applyEvent, emptyTables, type Change } from '../../../renderer/stream/projections.ts';

/**
 * Events and state rows of about 1 MB each (inside the body limit) must not take the hub down: replay
 * pages, history pages, state pages and snapshots are bounded in bytes and say where they stopped.
 * The hub runs as its own process, so memory is measured on it alone, with a 256 MB heap: reading
 * 100 such rows whole (what a 1,000-row page, a snapshot or a replay page did) needs more than that,
 * so a regression is a crash here instead of a slow test; the bounded reads need a few MB.
 */
const ORDERS = 100;
const HEAP_MB = 256;
const READERS = 8;
const MB = 1024 * 1024;
/** The hub's default queue bound: what one stalled reader may cost. */
const QUEUE_MAX_BYTES = 4 * MB;

let hub: ChildHub;
let dir: string;
const seqs: number[] = [];
const figures: Record<string, unknown> = {};

/** ~0.97 MB of JSON in fields the order schema knows (95 items × 50 options × 200 characters). */
function bigOrder(i: number) {
  const letter = (n: number) => String.fromCharCode(97 + (n % 26));
  return {
    id: `big-${i}`,
    type: 'store.order.created',
    store_id: 'big',
    data: {
      order_id: `big-${i}`,
      table_id: `T${i % 40}`,
      items: Array.from({ length: 95 }, (_, j) => ({ name: `dish ${j}`, quantity: 1, price: 1, options: Array.from({ length: 50 }, (_, k) => letter(i + j + k).repeat(200)) })),
      total: 95,
    },
  };
}

/** The highest RSS of the hub while `work` runs, sampled every 10 ms. */
async function peakRss<T>(work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = rssOf(hub.pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssOf(hub.pid));
    } catch {
      /* the process is gone: the assertions after say so */
    }
  }, 10);
  try {
    return { result: await work(), peak };
  } finally {
    clearInterval(timer);
  }
}

const mb = (n: number) => Math.round(n / MB);
/** GET /v1/stats; when the hub is gone, the error says how it died (e.g. "heap out of memory"). */
async function stats() {
  try {
    return (await api(hub.url, '/v1/stats')).body;
  } catch (err) {
    throw new Error(`the hub is gone (${String(err)}); its stderr ends: ${hub.stderr.join('').slice(-600)}`);
  }
}

/** A stream that is opened and then never read: the kernel buffers fill, then the hub's. */
function stalledReader(path: string): Promise<Socket> {
  const u = new URL(hub.url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname, () => {
      s.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${ADMIN}\r\nAccept: text/event-stream\r\n\r\n`);
      s.pause();
      resolve(s);
    });
    s.on('error', () => {});
    s.once('error', reject);
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relaydesk-big-'));
  // No per-token rate limit: the attacks below are measured for memory, and the read costs of one
  // (a replay, a 4 MiB page) would otherwise leave the admin token waiting in the next.
  hub = await spawnCliHub({ db: join(dir, 'big.db'), env: { NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}`, RELAYDESK_RATE_LIMIT: process.env.BIG_PAYLOADS_RATE_LIMIT ?? '0' } });
  // Two publishes in flight: each is committed (and fsynced) in its own turn.
  const bodies = Array.from({ length: ORDERS }, (_, i) => JSON.stringify(bigOrder(i)));
  for (let i = 0; i < ORDERS; i += 2) {
    const rs = await Promise.all(bodies.slice(i, i + 2).map((raw) => api(hub.url, '/v1/events', { raw, headers: { 'content-type': 'application/json' } })));
    for (const r of rs) {
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      seqs.push(r.body.results[0].seq);
    }
  }
  seqs.sort((a, b) => a - b);
  figures.log_mb = mb(bodies.reduce((n, b) => n + b.length, 0));
  figures.heap_mb = HEAP_MB;
}, 120_000);

afterAll(async () => {
  console.log(JSON.stringify({ big_payloads: figures }));
  await hub?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('big events and big state rows', () => {
  it(`${READERS} readers replaying ${ORDERS} events of ~1 MB from the start, never reading: the hub stays up and each costs at most its queue bound`, async () => {
    await sleep(500);
    const before = rssOf(hub.pid);
    const base = (await stats()).connections.total;
    const readers: Socket[] = [];
    const { peak } = await peakRss(async () => {
      for (let i = 0; i < READERS; i++) readers.push(await stalledReader('/v1/stream?lastEventId=0&events=message'));
      await until(async () => (await stats()).connections.total >= base + READERS, 'stalled streams registered', 20_000);
      // Let every replay run into its stalled socket (the kernel buffers take a few MB first).
      let last = -1;
      await until(
        async () => {
          const bytes = (await stats()).connections.queue_bytes_total;
          const settled = bytes === last && bytes > 0;
          last = bytes;
          return settled;
        },
        'replays settled against stalled sockets',
        20_000,
        500,
      );
    });
    const s = await stats();
    figures.stalled_readers = { readers: READERS, rss_before_mb: mb(before), rss_peak_mb: mb(peak), queue_mb: mb(s.connections.queue_bytes_total) };
    expect(s.connections.total).toBe(base + READERS);
    // Node holds at most a replay page (a quarter of the bound, or one event) past a full kernel buffer.
    expect(s.connections.queue_bytes_total).toBeLessThanOrEqual(READERS * QUEUE_MAX_BYTES);
    expect(peak - before).toBeLessThan(300 * MB);
    for (const r of readers) r.destroy();
    await until(async () => (await stats()).connections.total === base, 'stalled streams removed');
  });

  it('GET /v1/events?limit=1000 answers one page of at most 4 MiB with a cursor, and the cursor goes on from there', async () => {
    const before = rssOf(hub.pid);
    const { result: r, peak } = await peakRss(() => api(hub.url, '/v1/events?limit=1000'));
    figures.history_limit_1000 = { rss_before_mb: mb(before), rss_peak_mb: mb(peak) };
    expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(200);
    expect(JSON.stringify(r.body.events).length).toBeLessThanOrEqual(HISTORY_PAGE_MAX_BYTES);
    expect(peak - before).toBeLessThan(200 * MB);
    expect(r.body.truncated).toBe('bytes');
    const got = r.body.events.map((e: { seq: number }) => e.seq);
    expect(got.length).toBeGreaterThanOrEqual(1);
    expect(got).toEqual(seqs.slice(-got.length).reverse());
    expect(r.body.next_cursor).toBe(String(got[got.length - 1]));
    const next = await api(hub.url, `/v1/events?limit=1000&cursor=${r.body.next_cursor}`);
    expect(next.status).toBe(200);
    expect(next.body.events[0].seq).toBe(seqs[seqs.length - got.length - 1]);
    // A small page is not cut: `truncated` says 'rows' when the limit, not the size, ended it.
    const small = await api(hub.url, '/v1/events?limit=2&order=asc');
    expect(small.body).toMatchObject({ truncated: 'rows', next_cursor: String(seqs[1]) });
    expect(small.body.events.map((e: { seq: number }) => e.seq)).toEqual(seqs.slice(0, 2));
  });

  it(`GET /v1/state/orders over ${ORDERS} orders of ~1 MB: 200, a page of at most 4 MiB that says so, and the cursor goes on from there`, async () => {
    const before = rssOf(hub.pid);
    const { result: first, peak } = await peakRss(() => api(hub.url, '/v1/state/orders?store_id=big&order=asc&limit=5000'));
    figures.state_page = { rss_before_mb: mb(before), rss_peak_mb: mb(peak) };
    expect(first.status, JSON.stringify(first.body).slice(0, 300)).toBe(200);
    expect(JSON.stringify(first.body.store_orders).length).toBeLessThanOrEqual(STATE_PAGE_MAX_BYTES);
    expect(peak - before).toBeLessThan(200 * MB);
    const page = statePageSchema.parse(first.body);
    const n = page.store_orders!.length;
    expect(page.truncated).toBe('bytes');
    expect(page.counts.store_orders).toEqual({ total: ORDERS, returned: n });
    expect(n).toBeGreaterThanOrEqual(1);
    expect(page.store_orders!.map((r) => r.seq)).toEqual(seqs.slice(0, n));
    expect(page.next_cursor).toBe(String(seqs[n - 1]));
    const next = statePageSchema.parse((await api(hub.url, `/v1/state/orders?store_id=big&order=asc&limit=5000&cursor=${page.next_cursor}`)).body);
    expect(next.store_orders!.map((r) => r.seq)).toEqual(seqs.slice(n, n + next.store_orders!.length));
  });

  it('snapshot=1 for that store sends a bounded snapshot that says it was cut by bytes, then goes live', async () => {
    const before = rssOf(hub.pid);
    const s = openRawSse(hub.url, '/v1/stream?store_id=big&snapshot=1&events=message');
    const { peak } = await peakRss(() => until(() => s.parse().frames.some((f) => f.event === 'initial') || s.ended, 'initial snapshot', 30_000));
    figures.snapshot = { rss_before_mb: mb(before), rss_peak_mb: mb(peak) };
    const initial = s.parse().frames.find((f) => f.event === 'initial');
    expect(initial, `stream ended without a snapshot: ${s.text.slice(0, 300)}`).toBeDefined();
    const snap = snapshotSchema.parse(initial!.data);
    const n = snap.store_orders.length;
    figures.snapshot = { ...(figures.snapshot as object), orders: n, frame_mb: +(JSON.stringify(initial!.data).length / MB).toFixed(1) };
    expect(snap.truncated).toBe('bytes');
    expect(snap.counts.store_orders).toEqual({ total: ORDERS, returned: n, truncated: 'bytes' });
    expect(n).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(snap.store_orders).length).toBeLessThanOrEqual(SNAPSHOT_KIND_MAX_BYTES);
    // The newest orders, newest first.
    expect(snap.store_orders.map((r) => r.seq)).toEqual(seqs.slice(-n).reverse());
    expect(peak - before).toBeLessThan(300 * MB);

    // The stream goes on live after it: a new order arrives.
    const r = await api(hub.url, '/v1/events', { body: { type: 'store.order.created', store_id: 'big', data: { order_id: 'small', items: [{ name: 'Tea', quantity: 1 }], total: 2 } } });
    expect(r.status).toBe(201);
    // Only the text after the snapshot is searched: parsing 7 MB again on every poll is slow under load.
    const from = s.text.indexOf('\n\n', s.text.indexOf('event: initial')) + 2;
    await until(() => s.text.slice(from).includes(`"seq":${r.body.results[0].seq},`), 'live event after the snapshot', 30_000, 100);
    expect(s.parse().violations).toEqual([]);
    expect(s.events().map((e) => e.seq)).toEqual([r.body.results[0].seq]);
    s.destroy();
  });

  it('the console fills in rows cut from its snapshot when the hub answers them over several byte-bounded pages', async () => {
    // Ten of the oldest orders, which the snapshot did not carry, get a status update: the window
    // holds only the update and asks the hub for the whole rows (10 MB, so more than one page).
    const wanted = seqs.slice(0, 10).map((_, i) => `big-${i}`);
    const r = await api(hub.url, '/v1/events', { body: wanted.map((order_id) => ({ type: 'store.order.updated', store_id: 'big', data: { order_id, status: 'ready' } })) });
    expect(r.status).toBe(201);
    const updates = (await api(hub.url, `/v1/events?order=asc&cursor=${r.body.results[0].seq - 1}&limit=10`)).body.events as HubEvent[];
    expect(updates).toHaveLength(10);

    const tables = emptyTables();
    const warnings: string[] = [];
    let changed = 0;
    const pages: string[] = [];
    const read: ReadState = async (view, query) => {
      const q = new URLSearchParams();
      for (const [name, v] of Object.entries(query)) for (const x of Array.isArray(v) ? v : [v]) q.append(name, x);
      const res = await api(hub.url, `/v1/state/${view}?${q.toString()}`);
      if (res.status !== 200) throw Object.assign(new Error(`HTTP ${res.status}`), { status: res.status });
      pages.push(res.body.truncated ?? 'end');
      return statePageSchema.parse(res.body);
    };
    const filler = new RowFiller({ tables: () => tables, generation: () => 0, mayLackRows: () => true, changed: () => changed++, warn: (t) => warnings.push(t) }, read);
    const out: Change[] = [];
    for (const ev of updates) applyEvent(tables, ev, ev.data, out);
    expect([...tables.store_order.values()].every((row) => row.data.items === undefined)).toBe(true);
    filler.note(out);
    await until(() => changed > 0, 'rows filled in', 30_000);
    // All ten, none taken for gone because it was not on the first page.
    expect([...tables.store_order.keys()].sort()).toEqual(wanted.map((o) => stateRowKey({ store_id: 'big' }, o)).sort());
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.at(-1)).toBe('end');
    expect(warnings).toEqual([]);
    for (const row of tables.store_order.values()) {
      expect(row.data).toMatchObject({ status: 'ready', total: 95 });
      expect(row.data.items).toHaveLength(95);
    }
  });
});

describe('byte bounds, exactly, on small rows', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ snapshotMaxBytes: 3000 });
  });
  afterAll(async () => {
    await t?.stop();
  });

  const storeOrder = (i: number, noteChars: number) => ({
    type: 'store.order.created',
    store_id: 'b',
    data: { order_id: `b-${i}`, items: [{ name: 'Soba', quantity: 1 }], total: 1, note: 'n'.repeat(noteChars) },
  });

  it('a page across kinds never skips a row past a kind that was cut by bytes, in either order', async () => {
    // Seq order: two large store orders, then small trading orders, then a mix. One large row and a
    // small one fit in 2,000 bytes, two large ones do not: the store list is cut after its first row
    // while the trading list reads on, and the page must still stop where the unread store row is.
    const events = [storeOrder(0, 900), storeOrder(1, 900), ...Array.from({ length: 4 }, () => sample.tradingOrder('u', 's'))];
    for (let i = 2; i < 30; i++) events.push(i % 3 ? storeOrder(i, (i * 97) % 1000) : sample.tradingOrder('u', 's'));
    const r = await publish(t.url, events);
    expect(r.status).toBe(201);
    const all = r.body.results.map((x: { seq: number }) => x.seq) as number[];
    for (const order of ['asc', 'desc'] as const) {
      const met: number[] = [];
      let cursor: number | undefined;
      for (let i = 0; i < 100; i++) {
        const page = t.hub.projections.read(['store_order', 'trading_order'], {}, {}, { order, limit: 50, ...(cursor === undefined ? {} : order === 'asc' ? { after: cursor } : { before: cursor }) }, undefined, Infinity, 2000);
        const rows = [...page.rows.store_orders!, ...page.rows.trading_orders!];
        const seqsOf = rows.map((x) => x.seq).sort((a, b) => (order === 'asc' ? a - b : b - a));
        if (rows.length > 1) expect(JSON.stringify(rows.map((x) => x.data)).length).toBeLessThanOrEqual(2000);
        met.push(...seqsOf);
        if (page.next === null) break;
        expect(page.truncated).toBe('bytes');
        expect(page.next).toBe(seqsOf.at(-1));
        cursor = page.next;
      }
      expect(met).toEqual(order === 'asc' ? all : [...all].reverse());
    }
  });

  it('history and replay pages hold at least one event, and otherwise stay under their byte bound', async () => {
    const r = await publish(t.url, [800, 100, 3000, 50, 50, 900, 700].map((n, i) => ({ type: 'x.bytes.e', data: { i, pad: 'p'.repeat(n) } })));
    const seqs = r.body.results.map((x: { seq: number }) => x.seq) as number[];
    const walk = (read: (after: number) => { seqs: number[]; next: number | null; bytes: number }) => {
      const pages: number[][] = [];
      let after = seqs[0]! - 1;
      for (let i = 0; i < 20; i++) {
        const p = read(after);
        if (p.seqs.length) pages.push(p.seqs);
        if (p.seqs.length > 1) expect(p.bytes).toBeLessThanOrEqual(1000);
        if (p.next === null) break;
        after = p.next;
      }
      return pages;
    };
    const history = walk((after) => {
      const p = t.hub.log.historyPage({}, { types: ['x.bytes.*'], limit: 100, order: 'asc', after }, Infinity, 1000);
      if (p.next !== null) expect(p.truncated).toBe('bytes');
      return { seqs: p.rows.map((e) => e.seq), next: p.next, bytes: p.rows.reduce((n, e) => n + JSON.stringify(e).length, 0) };
    });
    const replay = walk((after) => {
      const p = t.hub.log.readAfter(after, 100, (e) => e.type === 'x.bytes.e', undefined, 1000);
      return { seqs: p.events.map((e) => e.event.seq), next: p.scannedTo === after ? null : p.scannedTo, bytes: p.events.reduce((n, e) => n + e.json.length, 0) };
    });
    expect(history.flat()).toEqual(seqs);
    expect(replay.flat()).toEqual(seqs);
    expect(history.map((p) => p.length)).toEqual(replay.map((p) => p.length));
    expect(history.some((p) => p.length === 1 && p[0] === seqs[2])).toBe(true);
    expect(history.length).toBeGreaterThanOrEqual(5);
  });

  it('HubOptions.snapshotMaxBytes bounds each kind of the snapshot and the snapshot says it was cut by bytes', async () => {
    await publish(t.url, Array.from({ length: 6 }, (_, i) => ({ ...storeOrder(100 + i, 900), store_id: 'snap' })));
    const s = openRawSse(t.url, '/v1/stream?store_id=snap&snapshot=1');
    await until(() => s.parse().frames.some((f) => f.event === 'initial'), 'initial snapshot');
    const snap = snapshotSchema.parse(s.parse().frames.find((f) => f.event === 'initial')!.data);
    s.destroy();
    // 3,000 bytes hold two rows of ~1,250.
    expect(snap.counts.store_orders).toEqual({ total: 6, returned: 2, truncated: 'bytes' });
    expect(snap.truncated).toBe('bytes');
    expect(snap.counts.trading_orders).toEqual({ total: 0, returned: 0 });
  });
});
