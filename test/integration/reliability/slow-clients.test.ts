import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { connect, type Socket } from 'node:net';
import { Agent } from 'node:http';
import { startTestHub, api, publish, until, sleep, ADMIN, type TestHub } from '../../helpers/hub.ts';
import { Subscriber } from '../../helpers/sse.ts';
import { openRawSse, collectGarbage } from '../../helpers/reliability.ts';

/**
 * Slow and dead clients: readers that stop reading are cut by the queue bound while a fast reader
 * gets everything; clients that vanish mid-stream (FIN, RST, or just gone) are cleaned up, and the
 * connection count and memory return to baseline.
 */
let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ rateLimitPerSecond: 0, heartbeatMs: 200, queue: { maxEvents: 1000, maxBytes: 1024 * 1024, stallTimeoutMs: 1500 } });
});
afterAll(async () => {
  await t?.stop();
});

const stats = async () => (await api(t.url, '/v1/stats')).body;
const bigBatch = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ type: 'x.slow.fill', data: { tag, i, pad: 'z'.repeat(2000) } }));

/** A raw socket SSE client: lets us stop reading (paused), send FIN, RST, or vanish. */
function rawSocket(path: string): Promise<Socket> {
  const u = new URL(t.url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname, () => {
      s.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${ADMIN}\r\nAccept: text/event-stream\r\n\r\n`);
      resolve(s);
    });
    s.on('error', () => {});
    s.once('error', reject);
  });
}

describe('slow and dead clients', () => {
  it('disconnects stalled readers by the queue bound while a fast reader receives everything', async () => {
    const base = await stats();
    const fast = new Subscriber(t.url, { type: 'x.slow.*' });
    await fast.waitFor('connection');
    const stalled = await Promise.all([0, 1, 2].map(() => rawSocket('/v1/stream?type=x.slow.*')));
    await until(async () => (await stats()).connections.total >= base.connections.total + 4, 'all streams registered');
    await sleep(200);
    for (const s of stalled) s.pause(); // stop reading: the kernel buffers fill, then Node's

    // 12 MB: more than a paused socket's kernel buffers plus the 1 MiB / 1,000-event queue bound.
    const total = 6000;
    // The fast reader shares this process with the hub and the publisher: it can only read between
    // publishes, so it is given that turn (a reader on its own machine would simply keep up).
    for (let i = 0; i < total / 200; i++) {
      expect((await publish(t.url, bigBatch(200, 'a'))).status).toBe(201);
      await fast.waitForEvents((i + 1) * 200, 30_000);
    }
    const after = await until(async () => {
      const s = await stats();
      return s.connections.slow_consumer_disconnects >= base.connections.slow_consumer_disconnects + 3 && s;
    }, 'slow consumer disconnects', 15_000);
    expect(fast.events.map((e) => e.data.i)).toEqual(Array.from({ length: total }, (_, i) => i % 200));
    expect(fast.named('force_disconnect')).toEqual([]);
    await until(async () => (await stats()).connections.total === base.connections.total + 1, 'stalled streams removed');
    console.log(JSON.stringify({ slow: { published: total, fast_received: fast.events.length, slow_disconnects: after.connections.slow_consumer_disconnects - base.connections.slow_consumer_disconnects } }));
    for (const s of stalled) s.destroy();
    fast.close();
    await until(async () => (await stats()).connections.total === base.connections.total, 'baseline connections');
  });

  it('a fast reader resuming over large events is not cut by the queue bound during replay', async () => {
    // 600 events of ~8 kB: one 500-event replay page is ~4 MB, far above the 1 MiB queue bound.
    const sent: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await publish(t.url, Array.from({ length: 100 }, (_, j) => ({ type: 'x.bigreplay.e', data: { i: i * 100 + j, pad: 'b'.repeat(8000) } })));
      sent.push(...r.body.results.map((x: { seq: number }) => x.seq));
    }
    const cutsBefore = (await stats()).connections.slow_consumer_disconnects;
    const s = openRawSse(t.url, '/v1/stream?events=message&type=x.bigreplay.*', { headers: { 'last-event-id': String(sent[0]! - 1) } });
    await until(() => s.events().length >= sent.length || s.ended, 'replay of large events', 20_000);
    expect(s.text).not.toContain('force_disconnect');
    expect(s.events().map((e) => e.seq)).toEqual(sent);
    expect((await stats()).connections.slow_consumer_disconnects).toBe(cutsBefore);
    s.destroy();
  });

  it('a stalled reader resumes with Last-Event-ID after being cut and misses nothing', async () => {
    const s = openRawSse(t.url, '/v1/stream?events=message&type=x.resume.*');
    await s.ready;
    await until(() => s.text.includes('event: connection'), 'connection');
    s.res!.pause();
    const cutsBefore = (await stats()).connections.slow_consumer_disconnects;
    const sent: number[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await publish(t.url, Array.from({ length: 200 }, (_, j) => ({ type: 'x.resume.e', data: { i: i * 200 + j, pad: 'y'.repeat(2000) } })));
      sent.push(...r.body.results.map((x: { seq: number }) => x.seq));
    }
    s.res!.resume();
    await until(() => s.ended, 'the stalled stream to be cut', 15_000);
    expect((await stats()).connections.slow_consumer_disconnects).toBeGreaterThan(cutsBefore);
    // The closing force_disconnect frame is best effort: it sits behind the backlog, and a client
    // that cannot drain it within the hub's 2 s grace is destroyed without it (seen on a loaded box).
    const control = s.parse().frames.filter((f) => f.event === 'force_disconnect');
    for (const f of control) expect((f.data as { reason: string }).reason).toBe('slow_consumer');
    const got = s.events().map((e) => e.seq);
    const last = got[got.length - 1] ?? 0;
    const again = openRawSse(t.url, '/v1/stream?events=message&type=x.resume.*', { headers: { 'last-event-id': String(last) } });
    await until(() => again.events().length >= sent.filter((q) => q > last).length, 'resume catches up', 20_000);
    expect([...got, ...again.events().map((e) => e.seq)]).toEqual(sent);
    expect(again.parse().violations).toEqual([]);
    again.destroy();
  });

  it('cleans up clients that vanish mid-stream (FIN, RST, abandoned) and returns memory to baseline', async () => {
    const agent = new Agent({ maxSockets: Infinity });
    const traffic = async (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        await publish(t.url, Array.from({ length: 20 }, (_, i) => ({ type: 'x.vanish.tick', data: { i, pad: 'v'.repeat(500) } })));
        await sleep(10);
      }
    };
    // Precise leak check: every per-connection object the hub made must be collectable afterwards.
    const refs: WeakRef<object>[] = [];
    const broker = t.hub.broker;
    const subscribe = broker.subscribe.bind(broker);
    broker.subscribe = (subscription, sink) => {
      const sub = subscribe(subscription, sink);
      refs.push(new WeakRef(sub), new WeakRef(subscription), new WeakRef(sink));
      return sub;
    };
    await collectGarbage();
    const base = await stats();
    const heapStart = process.memoryUsage().heapUsed;
    let heapBase = heapStart;
    const rounds: { round: number; connected: number; heap_mb: number }[] = [];
    // Round 0 warms up (JIT, statement caches, socket pools); rounds 1-3 are measured against it.
    for (let round = 0; round < 4; round++) {
      const N = 300;
      const streams = Array.from({ length: N / 3 }, () => openRawSse(t.url, '/v1/stream?events=message&type=x.vanish.*', { agent }));
      const sockets = await Promise.all(Array.from({ length: (2 * N) / 3 }, () => rawSocket('/v1/stream?type=x.vanish.*')));
      await until(async () => (await stats()).connections.total >= base.connections.total + N, `${N} connections`, 20_000);
      await traffic(500);
      // Vanish: a third close politely (FIN), a third reset (RST), a third are dropped from a paused state.
      sockets.slice(0, N / 3).forEach((s) => s.end());
      sockets.slice(N / 3).forEach((s) => {
        s.pause();
        s.resetAndDestroy();
      });
      streams.forEach((s) => s.destroy());
      await traffic(300); // heartbeats and writes to dead sockets must not throw or leak
      await until(async () => (await stats()).connections.total === base.connections.total, 'connections back to baseline', 15_000);
      await collectGarbage();
      if (round === 0) heapBase = process.memoryUsage().heapUsed;
      rounds.push({ round, connected: N, heap_mb: Math.round(((process.memoryUsage().heapUsed - heapStart) / 1048576) * 10) / 10 });
    }
    agent.destroy();
    broker.subscribe = subscribe;
    await sleep(2500); // the 2 s destroy grace timer for force-closed streams
    await collectGarbage();
    const alive = refs.filter((r) => r.deref() !== undefined).length;
    const s = await stats();
    expect(s.connections.total).toBe(base.connections.total);
    expect(s.connections.queue_bytes_total).toBe(0);
    const growthMb = (process.memoryUsage().heapUsed - heapBase) / 1048576;
    console.log(JSON.stringify({ vanish: { rounds, heap_growth_mb: Math.round(growthMb * 10) / 10, hub_objects_tracked: refs.length, hub_objects_alive: alive } }));
    // No subscriber, subscription or socket of the 1,200 connections survives a GC.
    expect(refs.length).toBe(3 * 1200);
    expect(alive).toBe(0);
    // The heap (test clients + hub in one process, so noisy) is back near the post-warm-up level.
    expect(growthMb).toBeLessThan(20);
  });

  it('detects a silent peer (never reads, never closes) by the stall timeout once its buffers are full', async () => {
    const base = await stats();
    const silent = await rawSocket('/v1/stream?type=x.silent.*');
    await until(async () => (await stats()).connections.total === base.connections.total + 1, 'silent registered');
    silent.pause();
    // Fill its buffers just past the point where Node reports backpressure, but below the queue bound.
    for (let i = 0; i < 60; i++) {
      await publish(t.url, Array.from({ length: 3 }, (_, j) => ({ type: 'x.silent.e', data: { i, j, pad: 'q'.repeat(30_000) } })));
      const c = [...t.hub.broker.subscribers()].find((x) => x.spec.types?.includes('x.silent.*'));
      if (!c || c.stalledSince !== null) break;
    }
    const cut = await until(async () => {
      const s = await stats();
      return s.connections.total === base.connections.total && s;
    }, 'silent peer cut by the stall timeout', 15_000);
    expect(cut.connections.slow_consumer_disconnects).toBeGreaterThan(base.connections.slow_consumer_disconnects);
    silent.destroy();
  });
});
