import type { Socket } from 'node:net';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestHub, until, type TestHub } from '../helpers/hub.ts';
import { rawStream } from '../helpers/sse.ts';

let t: TestHub;
beforeAll(async () => {
  // The interval timer stays out of the way; the test drives beats itself.
  t = await startTestHub({ heartbeatMs: 600_000 });
});
afterAll(async () => {
  await t.stop();
});

describe('heartbeats with many connections', () => {
  it('writes a heartbeat in slices, yielding the event loop between them, and reaches every connection', async () => {
    const n = 120;
    const streams = Array.from({ length: n }, () => rawStream(t.url, '/v1/stream?store_id=s1'));
    await Promise.all(streams.map((s) => s.ready));
    await until(() => streams.every((s) => s.text.includes('event: connection')), 'every connection event');
    await until(() => t.hub.broker.size === n, 'every connection registered');

    const broker = t.hub.broker;
    broker.heartbeatSlice = 25;
    const subs = [...broker.subscribers()];
    const before = subs.map((s) => (s.sink as Socket).bytesWritten);
    const beat = broker.beat();
    // What the beat wrote before giving the loop back: one slice, not every connection.
    const inFirstTurn = subs.filter((s, i) => (s.sink as Socket).bytesWritten > before[i]!).length;
    expect(inFirstTurn).toBeGreaterThan(0);
    expect(inFirstTurn).toBeLessThanOrEqual(25);

    await beat;
    expect(subs.filter((s, i) => (s.sink as Socket).bytesWritten > before[i]!).length).toBe(n);
    await until(() => streams.every((s) => s.text.includes('event: heartbeat')), 'a heartbeat on every stream');
    for (const s of streams) s.destroy();
    await until(() => broker.size === 0, 'every connection gone');
  });
});

describe('connecting many subscribers', () => {
  it('prepares no SQL statement per connection once its scope shape has connected before', async () => {
    const path = '/v1/stream?store_id=s7&type=x.*';
    const first = rawStream(t.url, path);
    await first.ready;
    await until(() => first.text.includes('event: connection'), 'the first connection');
    const db = t.hub.db;
    const prepare = db.prepare.bind(db);
    const prepared: string[] = [];
    db.prepare = ((sql: string) => (prepared.push(sql), prepare(sql))) as typeof db.prepare;
    try {
      const more = Array.from({ length: 10 }, () => rawStream(t.url, path));
      await Promise.all(more.map((s) => s.ready));
      await until(() => more.every((s) => s.text.includes('event: connection')), 'ten more connections');
      await until(() => t.hub.broker.size === 11, 'all eleven registered');
      // Each used to prepare three (the replay window, the page, the scanned-rows count). The hub's
      // timers (retention, last-used flush) may prepare their own meanwhile: fewer than one per connection.
      expect(prepared.length, prepared.join('\n')).toBeLessThan(more.length);
      for (const s of more) s.destroy();
    } finally {
      db.prepare = prepare;
      first.destroy();
    }
    await until(() => t.hub.broker.size === 0, 'every connection gone');
  });
});
