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
    const before = subs.map((s) => s.sink.bytesWritten);
    const beat = broker.beat();
    // What the beat wrote before giving the loop back: one slice, not every connection.
    const inFirstTurn = subs.filter((s, i) => s.sink.bytesWritten > before[i]!).length;
    expect(inFirstTurn).toBeGreaterThan(0);
    expect(inFirstTurn).toBeLessThanOrEqual(25);

    await beat;
    expect(subs.filter((s, i) => s.sink.bytesWritten > before[i]!).length).toBe(n);
    await until(() => streams.every((s) => s.text.includes('event: heartbeat')), 'a heartbeat on every stream');
    for (const s of streams) s.destroy();
    await until(() => broker.size === 0, 'every connection gone');
  });
});
