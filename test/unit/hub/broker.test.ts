import { afterEach, describe, expect, it } from 'vitest';
import { forceDisconnectSchema } from '../../../shared/wire.ts';
import type { ReplaySource } from '../../../electron/hub/broker.ts';
import { streamSubscription, type StreamSpec, type Subscription } from '../../../electron/hub/subscriber.ts';
import { logReplay } from '../../../electron/hub/stream-session.ts';
import { openCore, tick, PeerSink, until, nextTurn, type Core } from './parts.ts';

const ALL: StreamSpec = { tokenId: 't1', scope: {}, filters: {} };
let core: Core | undefined;
afterEach(() => {
  core?.close();
  core = undefined;
});

/** Publish `n` events through the engine, `per` to a request, each request its own commit. */
async function publishMany(c: Core, n: number, per = 1, extra: Record<string, unknown> = {}) {
  for (let i = 0; i < n; i += per) await c.engine.publish(Array.from({ length: Math.min(per, n - i) }, (_, j) => tick(i + j, extra)));
}

/** A replay source that counts its reads. */
function counted(source: ReplaySource): ReplaySource & { reads: number } {
  const s = { reads: 0, readAfter: (cursor: number, maxBytes: number) => (s.reads++, source.readAfter(cursor, maxBytes)) };
  return s;
}

const disconnectOf = (sink: PeerSink) => {
  const f = sink.frames().find((x) => x.event === 'force_disconnect');
  return f ? forceDisconnectSchema.parse(JSON.parse(f.data!)) : undefined;
};

describe('replay-to-live handoff', () => {
  it('delivers every event once, in order, while events keep arriving during a replay that waits for drains', async () => {
    // Pages of at most 4 KB (a quarter of the queue bound): a 2,000-event replay takes many pages.
    const c = (core = openCore({ maxQueueBytes: 16 * 1024 }));
    await publishMany(c, 2000, 50, { pad: 'p'.repeat(100) });
    const sink = new PeerSink('trickle', 2048);
    const sub = c.broker.subscribe(streamSubscription(ALL, 'message'), sink);
    const source = counted(logReplay(c.log, ALL));
    const headAtStart = c.log.head;
    let live = false;
    const caughtUp = c.broker.catchUp(sub, 0, source).then((ok) => ((live = true), ok));
    // A publisher committing one event per turn for as long as the replay runs, and a bit after.
    let during = 0;
    while (!live) {
      await c.engine.publish([tick(10_000 + during)]);
      during++;
    }
    expect(await caughtUp).toBe(true);
    await publishMany(c, 20);
    const head = c.log.head;
    await until(() => sink.events().at(-1)?.seq === head, 'the last event taken by the peer');

    const seqs = sink.events().map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    // The handoff was exercised: events were committed while replay was running, the replay read
    // many pages and waited for the peer to drain.
    expect(during).toBeGreaterThan(0);
    expect(headAtStart).toBe(2000);
    expect(source.reads).toBeGreaterThan(10);
    expect(sink.drains).toBeGreaterThan(0);
    expect(sub.live).toBe(true);
    expect(sub.headSeq).toBe(head);
  });

  it('reads the next page only after the peer took the last one: a reader that stops costs one page, not the log', async () => {
    const c = (core = openCore({ maxQueueBytes: 64 * 1024, stallTimeoutMs: 60_000 }));
    await publishMany(c, 200, 20, { pad: 'x'.repeat(4000) });
    const sink = new PeerSink('stalled', 1024);
    const sub = c.broker.subscribe(streamSubscription(ALL, 'message'), sink);
    const source = counted(logReplay(c.log, ALL));
    const done = c.broker.catchUp(sub, 0, source);
    for (let i = 0; i < 20; i++) await nextTurn();
    expect(source.reads).toBe(1);
    // One page: at most a quarter of the queue bound of event JSON (plus the frames' id/data lines).
    expect(sink.writableLength).toBeLessThan(16 * 1024 + 4 * 200);
    expect(sink.writableLength).toBeGreaterThan(4000);
    expect(sub.closed).toBe(false);

    sink.read('trickle');
    expect(await done).toBe(true);
    await until(() => sink.events().length === 200, 'all 200 taken');
    expect(sink.events().map((e) => e.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(source.reads).toBeGreaterThan(40);
  });

  it('a subscriber that goes away during replay never joins the live set', async () => {
    const c = (core = openCore({ maxQueueBytes: 8 * 1024 }));
    await publishMany(c, 300, 100, { pad: 'y'.repeat(200) });
    const sink = new PeerSink('stalled', 512);
    const sub = c.broker.subscribe(streamSubscription(ALL, 'message'), sink);
    const done = c.broker.catchUp(sub, 0, logReplay(c.log, ALL));
    await nextTurn();
    sink.destroy();
    expect(await done).toBe(false);
    expect(sub.closed).toBe(true);
    expect(c.broker.size).toBe(0);
  });
});

describe('back-pressure and slow consumers', () => {
  it('cuts a live subscriber whose backlog passes the event bound with slow_consumer; the others get everything', async () => {
    const c = (core = openCore({ maxQueueEvents: 10 }));
    let slowHook = 0;
    c.broker.onSlowDisconnect = () => slowHook++;
    const slowSink = new PeerSink('stalled', 1);
    const fastSink = new PeerSink('fast');
    const slow = c.broker.subscribe(streamSubscription(ALL, 'message'), slowSink);
    const fast = c.broker.subscribe(streamSubscription({ ...ALL, tokenId: 't2' }, 'message'), fastSink);
    await c.broker.catchUp(slow, 0, logReplay(c.log, ALL));
    await c.broker.catchUp(fast, 0, logReplay(c.log, ALL));
    await publishMany(c, 30);
    await until(() => fastSink.events().length === 30, 'the fast subscriber has all 30');

    expect(slow.closed).toBe(true);
    expect(c.broker.counters.slowDisconnects).toBe(1);
    expect(slowHook).toBe(1);
    expect(c.broker.size).toBe(1);
    expect(fast.closed).toBe(false);
    // When the slow peer reads at last, it finds what it was sent up to the cut, then the reason.
    slowSink.read();
    await until(() => disconnectOf(slowSink), 'force_disconnect');
    const d = disconnectOf(slowSink)!;
    expect(d.reason).toBe('slow_consumer');
    expect(d.message).toMatch(/queue limit exceeded \(11 events/);
    expect(d.retry_ms).toBe(1000);
    expect(slowSink.events().map((e) => e.seq)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    expect(fastSink.events().map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('cuts a subscriber whose buffered bytes pass the byte bound', async () => {
    const c = (core = openCore({ maxQueueBytes: 20 * 1024 }));
    const sink = new PeerSink('stalled', 1);
    const sub = c.broker.subscribe(streamSubscription(ALL, 'message'), sink);
    await c.broker.catchUp(sub, 0, logReplay(c.log, ALL));
    await publishMany(c, 3, 1, { pad: 'z'.repeat(8 * 1024) });
    await until(() => sub.closed, 'cut');
    sink.read();
    await until(() => disconnectOf(sink), 'force_disconnect');
    expect(disconnectOf(sink)!.message).toMatch(/queue limit exceeded \(3 events, \d+ bytes buffered\)/);
  });

  it('cuts a subscriber that made no progress for the stall timeout at the next heartbeat', async () => {
    const c = (core = openCore({ stallTimeoutMs: 30 }));
    const sink = new PeerSink('stalled', 1);
    const sub = c.broker.subscribe(streamSubscription(ALL, 'message'), sink);
    await c.broker.catchUp(sub, 0, logReplay(c.log, ALL));
    await publishMany(c, 1);
    await until(() => sub.stalledSince !== null, 'stalled');
    await c.broker.beat();
    expect(sub.closed).toBe(false);
    await new Promise((r) => setTimeout(r, 60));
    await c.broker.beat();
    expect(sub.closed).toBe(true);
    sink.read();
    await until(() => disconnectOf(sink), 'force_disconnect');
    expect(disconnectOf(sink)).toMatchObject({ reason: 'slow_consumer', message: expect.stringMatching(/no progress for/) });
  });

  it('a peer that drains is not counted as stalled', async () => {
    const c = (core = openCore({ stallTimeoutMs: 30, maxQueueEvents: 1_000 }));
    const sink = new PeerSink('trickle', 64);
    const sub = c.broker.subscribe(streamSubscription(ALL, 'message'), sink);
    await c.broker.catchUp(sub, 0, logReplay(c.log, ALL));
    await publishMany(c, 50, 10);
    await until(() => sink.events().length === 50, 'all taken');
    expect(sub.stalledSince).toBeNull();
    expect(sub.backlog).toBe(0);
    await new Promise((r) => setTimeout(r, 60));
    await c.broker.beat();
    expect(sub.closed).toBe(false);
    await until(() => sink.frames().some((f) => f.event === 'heartbeat'), 'the heartbeat taken');
  });
});

describe('fan-out', () => {
  it('delivers to each subscription what its match predicate accepts, in its own frame format', async () => {
    const c = (core = openCore());
    const named = new PeerSink();
    const message = new PeerSink();
    const custom = new PeerSink();
    const odd: Subscription = {
      spec: { tokenId: 't3', scope: {}, filters: {} },
      key: 'odd-only',
      match: (e) => e.seq % 2 === 1,
      format: { name: 'custom-test', frame: (e) => `id: ${e.event.seq}\nevent: tick\ndata: ${e.json}\n\n` },
    };
    for (const [sink, s] of [
      [named, streamSubscription({ ...ALL, filters: { store_id: ['s1'] } }, 'named')],
      [message, streamSubscription({ ...ALL, filters: { store_id: ['s2'] } }, 'message')],
      [custom, odd],
    ] as const) {
      const sub = c.broker.subscribe(s, sink);
      await c.broker.catchUp(sub, 0, { readAfter: (cursor) => ({ events: [], scannedTo: cursor, caughtUp: true, scanned: 0 }) });
    }
    await c.engine.publish([tick(1), { ...tick(2), store_id: 's2' }, tick(3)]);
    await until(() => custom.events().length === 2 && named.events().length === 2 && message.events().length === 1, 'deliveries');
    expect(named.frames().filter((f) => f.id).map((f) => [f.event, f.id!.split('@')[0]])).toEqual([
      ['x.test.tick', '1'],
      ['x.test.tick', '3'],
    ]);
    expect(message.frames().filter((f) => f.id).map((f) => [f.event, f.id!.split('@')[0]])).toEqual([[undefined, '2']]);
    expect(custom.frames().map((f) => [f.event, f.id])).toEqual([
      ['tick', '1'],
      ['tick', '3'],
    ]);
  });

  it('sends control frames to the streams of one token only, live or catching up', async () => {
    const c = (core = openCore());
    const a = new PeerSink();
    const b = new PeerSink();
    c.broker.subscribe(streamSubscription({ ...ALL, tokenId: 'a' }, 'named'), a);
    c.broker.subscribe(streamSubscription({ ...ALL, tokenId: 'b' }, 'named'), b);
    expect(c.broker.toToken('a', 'inbox', { op: 'read' })).toBe(1);
    await until(() => a.frames().length === 1, 'a got it');
    expect(a.frames()[0]).toMatchObject({ event: 'inbox', data: '{"op":"read"}' });
    expect(b.frames()).toEqual([]);
  });

  it('forgets a subscriber whose peer closed, and reports the size on every change', async () => {
    const c = (core = openCore());
    const sizes: number[] = [];
    c.broker.onSize = (n) => sizes.push(n);
    const sink = new PeerSink();
    const sub = c.broker.subscribe(streamSubscription(ALL, 'named'), sink);
    c.broker.goLive(sub, 0);
    sink.destroy();
    await until(() => sub.closed, 'closed');
    expect(c.broker.size).toBe(0);
    expect(sizes).toEqual([1, 0]);
    await c.engine.publish([tick(1)]);
    await nextTurn();
    expect(sink.received).toBe('');
  });
});
