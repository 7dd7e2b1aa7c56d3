import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../electron/hub/db.ts';
import { EventLog, IdConflictError } from '../../../electron/hub/log.ts';
import { ev, openCore, tick, type Core } from './parts.ts';

let core: Core | undefined;
afterEach(() => {
  core?.close();
  core = undefined;
});

const at = '2026-12-02T10:00:00.000Z';

describe('EventLog', () => {
  it('appends with consecutive seqs; the head follows, and a reopened log starts from the file', () => {
    const c = (core = openCore());
    const append = c.log.transaction(() => [c.log.appendNext(tick(1), at), c.log.appendNext(tick(2), at)]);
    const [a, b] = append();
    expect([a!.seq, b!.seq]).toEqual([1, 2]);
    expect(c.log.head).toBe(2);
    expect(JSON.parse(b!.logged!.json)).toEqual(b!.logged!.event);
    expect(b!.logged!.epoch).toBe(c.log.epochs.current);
    const again = new EventLog(c.db);
    expect(again.head).toBe(2);
    expect(again.count()).toBe(2);
  });

  it('stores an id once: the same content again is a duplicate with the first seq, other content is a conflict', () => {
    const c = (core = openCore());
    const put = c.log.transaction((e: ReturnType<typeof ev>) => c.log.appendNext(e, at));
    const first = put(ev({ id: 'o-1', type: 'x.test.tick', store_id: 's1', data: { a: 1, b: 2 } }));
    // Key order is not content.
    const dup = put(ev({ id: 'o-1', type: 'x.test.tick', store_id: 's1', data: { b: 2, a: 1 } }));
    expect(dup).toEqual({ seq: first.seq, id: 'o-1', duplicate: true });
    expect(c.log.head).toBe(1);
    expect(() => put(ev({ id: 'o-1', type: 'x.test.tick', store_id: 's1', data: { a: 2, b: 2 } }))).toThrow(IdConflictError);
    // The same id under other scope keys is another event.
    expect(put(ev({ id: 'o-1', type: 'x.test.tick', store_id: 's2', data: { a: 9 } })).seq).toBe(2);
    expect(c.log.count()).toBe(2);
  });

  it('takes back the seqs of a transaction that failed, and only those of a failed savepoint', () => {
    const c = (core = openCore());
    const inner = c.log.transaction((fail: boolean) => {
      c.log.appendNext(tick(0), at);
      if (fail) throw new Error('refused');
    });
    const outer = c.log.transaction(() => {
      inner(false);
      try {
        inner(true);
      } catch {
        /* this request fails alone */
      }
      inner(false);
    });
    outer();
    expect(c.log.head).toBe(2);
    expect(c.log.history({}, { limit: 10, order: 'asc' }).map((e) => e.seq)).toEqual([1, 2]);

    const failing = c.log.transaction(() => {
      c.log.appendNext(tick(3), at);
      c.log.appendNext(tick(4), at);
      throw new Error('the whole group fails');
    });
    expect(() => failing()).toThrow('the whole group fails');
    expect(c.log.head).toBe(2);
    expect(c.log.count()).toBe(2);
    expect(c.log.transaction(() => c.log.appendNext(tick(5), at))().seq).toBe(3);
  });

  it('keeps the head past pruned events, so a log pruned empty never hands out a seq again', () => {
    const c = (core = openCore());
    c.log.transaction(() => {
      for (let i = 0; i < 5; i++) c.log.appendNext(tick(i), at);
    })();
    expect(c.log.pruneChunk({ maxEvents: 0, chunk: 100, now: Date.now() })).toBe(5);
    expect(c.log.prunedThrough).toBe(5);
    const reopened = new EventLog(c.db);
    expect(reopened.head).toBe(5);
    expect(reopened.prunedThrough).toBe(5);
    expect(reopened.transaction(() => reopened.appendNext(tick(6), at))().seq).toBe(6);
  });

  it('markGone records events it never had as gone, durably and never lower', () => {
    const c = (core = openCore());
    c.log.markGone(7);
    expect(c.log.prunedThrough).toBe(7);
    c.log.markGone(3);
    expect(c.log.prunedThrough).toBe(7);
    const db = openDatabase(c.dbFile);
    try {
      expect(new EventLog(db).prunedThrough).toBe(7);
    } finally {
      db.close();
    }
  });

  it('tells a scope its own head, never the global one', () => {
    const c = (core = openCore());
    c.log.transaction(() => {
      c.log.appendNext(tick(1), at);
      c.log.appendNext({ ...tick(2), store_id: 's2' }, at);
      c.log.appendNext({ ...tick(3), store_id: 's3' }, at);
    })();
    expect(c.log.head).toBe(3);
    expect(c.log.headIn({ store_ids: ['s1'] })).toBe(1);
    expect(c.log.headIn({ store_ids: ['s1', 's2'] })).toBe(2);
    expect(c.log.headIn({})).toBe(3);
  });

  it('reads replay pages bounded by bytes, always at least one event', () => {
    const c = (core = openCore());
    c.log.transaction(() => {
      for (let i = 0; i < 10; i++) c.log.appendNext(tick(i, { pad: 'p'.repeat(1000) }), at);
    })();
    const all = () => true;
    const page = c.log.readAfter(0, 500, all, { scope: {}, filters: {} }, 2500);
    expect(page.events.map((e) => e.event.seq)).toEqual([1, 2]);
    expect(page.scannedTo).toBe(2);
    const tiny = c.log.readAfter(0, 500, all, { scope: {}, filters: {} }, 1);
    expect(tiny.events).toHaveLength(1);
    const rest = c.log.readAfter(8, 500, all, { scope: {}, filters: {} }, 1e9);
    expect(rest.events.map((e) => e.event.seq)).toEqual([9, 10]);
    expect(rest.scannedTo).toBe(10);
  });
});
