import { describe, it, expect, afterEach } from 'vitest';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { openDatabase, type DB } from '../../electron/hub/db.ts';
import { EventLog } from '../../electron/hub/log.ts';
import { scanWindow, countScanned, type ScanRange } from '../../electron/hub/scan-window.ts';
import { SnapshotQueue, type SnapshotBuild } from '../../electron/hub/snapshot-queue.ts';
import { validateEvent } from '../../shared/events.ts';

describe('scan window: a read examines at most its budget of rows', () => {
  let db: DB;
  afterEach(() => db?.close());

  /** Events 1..n; every third in store "a", the rest in store "b". */
  function seed(n: number): EventLog {
    db = openDatabase(':memory:');
    const log = new EventLog(db);
    const at = new Date().toISOString();
    db.transaction(() => {
      for (let i = 1; i <= n; i++) {
        const r = validateEvent({ type: 'x.test.tick', store_id: i % 3 === 0 ? 'a' : 'b', data: { i } });
        if (!r.ok) throw new Error('invalid sample');
        log.append(r.event, i, at);
      }
    })();
    return log;
  }
  const storeA = (order: 'asc' | 'desc', extra = '', params: number[] = []): ScanRange => ({
    table: 'events',
    where: `store_id IN (?)${extra}`,
    params: ['a', ...params],
    order,
  });

  it('bounds the range at the budget-th row of the scope, in either direction', () => {
    seed(300); // store a: 3, 6, ..., 300 (100 rows)
    // Cut just short of the first row past the budget (33 ascending, 270 descending): that row starts the next page.
    expect(scanWindow(db, storeA('asc'), 10)).toEqual({ where: ['seq <= ?'], params: [32], cutAt: 32 });
    expect(scanWindow(db, storeA('desc'), 10)).toEqual({ where: ['seq >= ?'], params: [271], cutAt: 271 });
    expect(scanWindow(db, storeA('asc', ' AND seq > ?', [32]), 10).cutAt).toBe(62);
    // A range that fits the budget is not bounded: there is nothing after it to continue to.
    expect(scanWindow(db, storeA('asc'), 100)).toEqual({ where: [], params: [] });
    expect(scanWindow(db, storeA('asc'), Infinity)).toEqual({ where: [], params: [] });
  });

  it('counts the rows examined up to where a read stopped, never past the budget', () => {
    seed(300);
    expect(countScanned(db, storeA('asc'), 32, 10)).toBe(10);
    expect(countScanned(db, storeA('asc'), 15, 10)).toBe(5);
    expect(countScanned(db, storeA('asc'), undefined, 1000)).toBe(100);
    expect(countScanned(db, storeA('asc'), undefined, 40)).toBe(40);
  });

  it('a history page cut by the budget is partial and its cursor continues the search without a gap', () => {
    const log = seed(300);
    const needles = new Set([3, 150, 297]);
    db.prepare(`UPDATE events SET data = '{"i":"needle"}' WHERE seq IN (${[...needles].join(',')})`).run();
    for (const order of ['asc', 'desc'] as const) {
      const found: number[] = [];
      let cursor: number | null = null;
      let pages = 0;
      do {
        const p = log.historyPage({}, { store_id: ['a'], text: 'needle', limit: 10, order, ...(cursor === null ? {} : order === 'asc' ? { after: cursor } : { before: cursor }) }, 20);
        expect(p.scanned).toBeLessThanOrEqual(20);
        found.push(...p.rows.map((e) => e.seq));
        cursor = p.next;
        if (cursor !== null) expect(p.partial).toBe(true);
        pages++;
      } while (cursor !== null && pages < 50);
      expect(found).toEqual(order === 'asc' ? [3, 150, 297] : [297, 150, 3]);
      expect(pages).toBe(5); // 100 rows of store a, 20 per page
    }
  });

  it('replay reads a sparse scope through its index: one step reaches the head', () => {
    const log = seed(3000);
    const page = log.readAfter(0, 500, () => true, { scope: { store_ids: ['a'] }, filters: {}, step: 2000 });
    expect(page.events.length).toBe(500);
    expect(page.events.every((e) => e.event.store_id === 'a')).toBe(true);
    const sparse = log.readAfter(0, 500, () => true, { scope: {}, filters: { store_id: ['none'] } });
    expect(sparse).toEqual({ events: [], scannedTo: 3000, scanned: 0 });
    // A dense scope is cut at the step (store b holds 2,000 rows; steps of 1,500), and the next
    // step starts exactly at the first row it did not examine.
    const b = log
      .readAfter(0, 5000, () => true)
      .events.filter((e) => e.event.store_id === 'b').map((e) => e.event.seq);
    const dense = log.readAfter(0, 5000, () => true, { scope: {}, filters: { store_id: ['b'] }, step: 1500 });
    expect(dense.scanned).toBe(1500);
    expect(dense.events.map((e) => e.event.seq)).toEqual(b.slice(0, 1500));
    expect(dense.scannedTo).toBe(b[1500]! - 1);
    const rest = log.readAfter(dense.scannedTo, 5000, () => true, { scope: {}, filters: { store_id: ['b'] }, step: 1500 });
    expect(rest.events.map((e) => e.event.seq)).toEqual(b.slice(1500));
    expect(rest.scannedTo).toBe(3000);
  });
});

describe('snapshot queue', () => {
  const build = (at: number): SnapshotBuild => ({ at, frame: Buffer.from(`snapshot ${at}`) });

  it('builds one per event-loop turn, in order, and shares a build among identical waiting requests', async () => {
    const order: string[] = [];
    const q = new SnapshotQueue();
    const mk = (key: string) => () => {
      order.push(key);
      return build(order.length);
    };
    const a1 = q.request('a', mk('a'), () => true);
    const b = q.request('b', mk('b'), () => true);
    const a2 = q.request('a', mk('a'), () => true);
    expect(q.pending).toBe(2);
    await nextTurn();
    expect(order).toEqual(['a']);
    await nextTurn();
    expect(order).toEqual(['a', 'b']);
    const [r1, r2, rb] = await Promise.all([a1, a2, b]);
    expect(r1).toBe(r2);
    expect(rb!.at).toBe(2);
    expect(q.counts).toEqual({ built: 2, shared: 1, skipped: 0 });
    // Once built, a new identical request gets a fresh build (the state may have moved on).
    await q.request('a', mk('a'), () => true);
    expect(q.counts.built).toBe(3);
  });

  it('skips requests whose client has gone by their turn, and builds nothing nobody waits for', async () => {
    const seen: [string, number][] = [];
    const q = new SnapshotQueue((outcome, n) => seen.push([outcome, n]));
    let builds = 0;
    const counting = () => build(++builds);
    let open = true;
    const gone = q.request('x', counting, () => false);
    const stays = q.request('y', counting, () => open);
    const leaves = q.request('y', counting, () => false);
    expect(await gone).toBeNull();
    expect(builds).toBe(0);
    expect(await leaves).toBeNull();
    expect((await stays)!.at).toBe(1);
    expect(builds).toBe(1);
    expect(q.counts).toEqual({ built: 1, shared: 0, skipped: 2 });
    expect(seen).toEqual([
      ['skipped', 1],
      ['skipped', 1],
      ['built', 1],
    ]);
    open = false;
  });

  it('a failed build fails its waiters only, and close answers the rest with null', async () => {
    const q = new SnapshotQueue();
    const bad = q.request('bad', () => {
      throw new Error('disk gone');
    }, () => true);
    const next = q.request('ok', () => build(1), () => true);
    await expect(bad).rejects.toThrow('disk gone');
    expect((await next)!.at).toBe(1);
    const pending = q.request('late', () => build(2), () => true);
    q.close();
    expect(await pending).toBeNull();
    expect(await q.request('after', () => build(3), () => true)).toBeNull();
  });
});

describe('topic reads walk the topic, not the log', () => {
  let db: DB;
  afterEach(() => db?.close());

  it('a selective topic scope finds its few events among 30,000 in one page, examining only them', () => {
    db = openDatabase(':memory:');
    const log = new EventLog(db);
    const at = new Date().toISOString();
    const rare = new Set([5, 12_345, 29_999]);
    db.transaction(() => {
      for (let i = 1; i <= 30_000; i++) {
        const topics = rare.has(i) ? ['https://ex.net/wards/9'] : [`https://ex.net/beds/${i % 50}`];
        const r = validateEvent({ type: 'x.test.tick', topics, data: { i } });
        if (!r.ok) throw new Error('invalid sample');
        log.append(r.event, i, at);
      }
    })();
    for (const scope of [{ subscribe_topics: ['https://ex.net/wards/9'] }, { subscribe_topics: ['https://ex.net/wards/{id}'] }]) {
      for (const order of ['asc', 'desc'] as const) {
        // A budget far below the log: a full scan would be cut (partial) long before the last match.
        const page = log.historyPage(scope, { limit: 100, order }, 1_000);
        expect(page.rows.map((e) => e.seq).sort((a, b) => a - b), `${scope.subscribe_topics[0]} ${order}`).toEqual([...rare]);
        expect(page.partial).toBe(false);
        expect(page.scanned).toBe(3);
      }
      // Replay after a cursor lists only the topic's later events.
      const r = log.readAfter(6, 100, () => true, { scope, filters: {} });
      expect(r.events.map((e) => e.event.seq)).toEqual([12_345, 29_999]);
    }
    // The same through a topic= filter on an unscoped read, and a template whose prefix is shared by
    // every event (the range is the whole log: the budget applies and the page is partial).
    expect(log.historyPage({}, { limit: 100, order: 'asc', topic: ['https://ex.net/wards/9'] }, 1_000).rows.length).toBe(3);
    const wide = log.historyPage({}, { limit: 1_000, order: 'asc', topic: ['https://ex.net/{+any}'] }, 500);
    expect([wide.rows.length, wide.scanned, wide.partial]).toEqual([500, 500, true]);
  });
});
