import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RowFiller, type ReadState, type RowFillerHost } from '../../../renderer/stream/row-filler.ts';
import { applyEvent, emptyTables, type Change } from '../../../renderer/stream/projections.ts';
import { statePageSchema } from '../../../shared/state.ts';
import { stateRowKey } from '../../../shared/state-keys.ts';
import type { HubEvent } from '../../../shared/events.ts';
import { api, createToken, publish, startTestHub, until, type TestHub } from '../../helpers/hub.ts';
import { consoleSession } from './console-session.ts';

/**
 * The row filler against a real hub: a window that holds only an update to a row (cut from its
 * snapshot, or trimmed) fetches the whole row by key over GET /v1/state, signed in by its cookie.
 */
let hub: TestHub;
let cookie = '';
beforeAll(async () => {
  hub = await startTestHub();
  cookie = (await consoleSession(hub.url, 'operator')).cookie;
});
afterAll(async () => {
  await hub?.stop();
});

let n = 0;
/** A store that belongs to one test, so tests do not see each other's rows. */
const freshStore = () => `rf${++n}`;
const order = (store: string, id: string, table = 'T1') => ({ type: 'store.order.created', store_id: store, data: { order_id: id, table_id: table, items: [{ name: 'Soba', quantity: 2 }], total: 18, status: 'pending' } });
const status = (store: string, id: string, s: string) => ({ type: 'store.order.updated', store_id: store, data: { order_id: id, status: s } });

/** The events the hub stored for these publish results, as the stream would deliver them. */
async function delivered(seqs: number[]): Promise<HubEvent[]> {
  const r = await api(hub.url, `/v1/events?order=asc&cursor=${Math.min(...seqs) - 1}&limit=${seqs.length}`);
  return (r.body.events as HubEvent[]).filter((e) => seqs.includes(e.seq));
}

/** GET /v1/state as the console reads it (App.tsx), with a session cookie. */
function reader(sessionCookie: string, log: string[] = []): ReadState {
  return async (view, query) => {
    const q = new URLSearchParams();
    for (const [name, v] of Object.entries(query)) for (const x of Array.isArray(v) ? v : [v]) q.append(name, x);
    log.push(q.getAll('key').join(','));
    const res = await fetch(`${hub.url}/v1/state/${view}?${q.toString()}`, { headers: { cookie: sessionCookie } });
    const body = await res.json();
    if (!res.ok) throw Object.assign(new Error(body.error?.message ?? `HTTP ${res.status}`), { status: res.status });
    return statePageSchema.parse(body);
  };
}

/** What the console's store gives the filler: its tables, their generation, and where to report. */
function windowState() {
  const w = {
    tables: emptyTables(),
    gen: 0,
    lacks: true,
    changes: 0,
    warnings: [] as string[],
    host: null as unknown as RowFillerHost,
    apply(evs: HubEvent[]): Change[] {
      const out: Change[] = [];
      for (const ev of evs) applyEvent(w.tables, ev, ev.data as Record<string, unknown>, out);
      return out;
    },
  };
  w.host = {
    tables: () => w.tables,
    generation: () => w.gen,
    mayLackRows: () => w.lacks,
    changed: () => void w.changes++,
    warn: (t) => void w.warnings.push(t),
  };
  return w;
}

const seqsOf = (r: { body: { results: { seq: number }[] } }) => r.body.results.map((x) => x.seq);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RowFiller (real hub over HTTP, cookie session)', () => {
  it('fills a row the window knew only from an update with the hub\'s whole row', async () => {
    const store = freshStore();
    await publish(hub.url, [order(store, 'A'), order(store, 'B')]);
    const upd = await publish(hub.url, [status(store, 'A', 'ready')]);
    const w = windowState();
    const filler = new RowFiller(w.host, reader(cookie));
    filler.note(w.apply(await delivered(seqsOf(upd))));
    const key = stateRowKey({ store_id: store }, 'A');
    expect(w.tables.store_order.get(key)!.data).toMatchObject({ order_id: 'A', status: 'ready' });
    expect(w.tables.store_order.get(key)!.data.total).toBeUndefined();
    await until(() => w.changes === 1, 'the row filled in');
    expect(w.tables.store_order.get(key)!.data).toMatchObject({ order_id: 'A', table_id: 'T1', total: 18, status: 'ready' });
    expect(w.tables.store_order.get(key)!.data.items).toHaveLength(1);
    // B was never patched here: the filler leaves rows it was not asked about alone.
    expect(w.tables.store_order.has(stateRowKey({ store_id: store }, 'B'))).toBe(false);
    expect(w.warnings).toEqual([]);
  });

  it('what the window applied after the hub read the row stays on top of it', async () => {
    const store = freshStore();
    await publish(hub.url, [order(store, 'A')]);
    const upd = await publish(hub.url, [status(store, 'A', 'preparing')]);
    const w = windowState();
    const read = reader(cookie);
    const filler = new RowFiller(w.host, async (view, q) => {
      const page = await read(view, q);
      // While the answer travels, a newer update reaches the window (and the hub).
      const later = await publish(hub.url, [{ ...status(store, 'A', 'served'), data: { order_id: 'A', status: 'served', note: 'table paid' } }]);
      w.apply(await delivered(seqsOf(later)));
      return page;
    });
    filler.note(w.apply(await delivered(seqsOf(upd))));
    await until(() => w.changes === 1, 'filled');
    const row = w.tables.store_order.get(stateRowKey({ store_id: store }, 'A'))!;
    expect(row.data).toMatchObject({ table_id: 'T1', total: 18, status: 'served', note: 'table paid' });
    expect(row.seq).toBeGreaterThan(seqsOf(upd)[0]!);
  });

  it('the filled row has the buttons of its latest change: the window\'s when it is newer than the hub\'s read', async () => {
    const store = freshStore();
    await publish(hub.url, [order(store, 'A')]);
    const upd = await publish(hub.url, [{ ...status(store, 'A', 'ready'), actions: [{ id: 'order.serve', label: 'Serve' }] }]);
    const w = windowState();
    const read = reader(cookie);
    const filler = new RowFiller(w.host, async (view, q) => {
      const page = await read(view, q);
      // The hub's copy still has the Serve button; a newer update without buttons reaches the window meanwhile.
      expect(page.store_orders![0]!.actions?.items).toEqual([{ id: 'order.serve', label: 'Serve' }]);
      const later = await publish(hub.url, [status(store, 'A', 'served')]);
      w.apply(await delivered(seqsOf(later)));
      return page;
    });
    filler.note(w.apply(await delivered(seqsOf(upd))));
    await until(() => w.changes === 1, 'filled');
    const row = w.tables.store_order.get(stateRowKey({ store_id: store }, 'A'))!;
    expect(row.data).toMatchObject({ total: 18, status: 'served' });
    expect(row).not.toHaveProperty('actions');
  });

  it('a row the hub no longer holds is removed here (its table\'s session ended at the hub)', async () => {
    const store = freshStore();
    await publish(hub.url, [order(store, 'A', 'T9')]);
    const upd = await publish(hub.url, [status(store, 'A', 'ready')]);
    // The window cannot match this session end to its partial row: the row lacks table_id.
    await publish(hub.url, [{ type: 'store.session.ended', store_id: store, data: { table_id: 'T9' } }]);
    const w = windowState();
    const filler = new RowFiller(w.host, reader(cookie));
    filler.note(w.apply(await delivered(seqsOf(upd))));
    await until(() => w.changes === 1, 'the stale row dropped');
    expect(w.tables.store_order.size).toBe(0);
  });

  it('asks for keys in bounded requests: 250 rows in requests of at most 100 keys', async () => {
    const store = freshStore();
    const ids = Array.from({ length: 250 }, (_, i) => `o${i}`);
    await publish(hub.url, ids.map((id) => order(store, id)));
    const upd = await publish(hub.url, ids.map((id) => status(store, id, 'ready')));
    const w = windowState();
    const keysPerRequest: string[] = [];
    const filler = new RowFiller(w.host, reader(cookie, keysPerRequest));
    filler.note(w.apply(await delivered(seqsOf(upd))));
    await until(() => w.changes === 1, 'all filled', 20_000);
    // Each request names at most 100 keys; a batch may take more than one page (a cursor walk).
    const batches = [...new Set(keysPerRequest)].map((k) => k.split(','));
    expect(batches.map((b) => b.length)).toEqual([100, 100, 50]);
    expect(new Set(batches.flat()).size).toBe(250);
    expect([...w.tables.store_order.values()].every((r) => r.data.total === 18 && r.data.status === 'ready')).toBe(true);
  });

  it('a refused read (403) is not retried: the window says the rows stay partial', async () => {
    const store = freshStore();
    await publish(hub.url, [order(store, 'A')]);
    const upd = await publish(hub.url, [status(store, 'A', 'ready')]);
    const publisherToken = await createToken(hub.url, 'publisher');
    const w = windowState();
    let reads = 0;
    const filler = new RowFiller(w.host, async (view, q) => {
      reads++;
      const query = new URLSearchParams();
      for (const [name, v] of Object.entries(q)) for (const x of Array.isArray(v) ? v : [v]) query.append(name, x);
      const res = await api(hub.url, `/v1/state/${view}?${query}`, { token: publisherToken });
      throw Object.assign(new Error(res.body.error.message), { status: res.status });
    });
    filler.note(w.apply(await delivered(seqsOf(upd))));
    await until(() => w.warnings.length === 1, 'the warning');
    expect(w.warnings[0]).toBe('1 row could not be loaded whole from the hub; reload the window to see it complete');
    await sleep(2_300);
    expect(reads).toBe(1);
    expect(w.changes).toBe(0);
  });

  it('an answer read before a snapshot replaced the tables is dropped, and nothing is asked when no row can be missing', async () => {
    const store = freshStore();
    await publish(hub.url, [order(store, 'A')]);
    const upd = await publish(hub.url, [status(store, 'A', 'ready')]);
    const w = windowState();
    const read = reader(cookie);
    let reads = 0;
    const filler = new RowFiller(w.host, async (view, q) => {
      reads++;
      const page = await read(view, q);
      // A snapshot arrives meanwhile: new tables, and the filler is told.
      w.tables = emptyTables();
      w.gen++;
      filler.reset();
      return page;
    });
    filler.note(w.apply(await delivered(seqsOf(upd))));
    await until(() => reads === 1, 'the read');
    await sleep(200);
    expect(w.changes).toBe(0);
    expect(w.tables.store_order.size).toBe(0);

    // A window whose snapshot was whole and never trimmed: the hub's row is as partial as ours.
    const quiet = windowState();
    quiet.lacks = false;
    let asked = 0;
    const idle = new RowFiller(quiet.host, async (view, q) => (asked++, read(view, q)));
    idle.note(quiet.apply(await delivered(seqsOf(upd))));
    await sleep(200);
    expect(asked).toBe(0);
  });
});
