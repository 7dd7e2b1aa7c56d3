import { describe, it, expect, afterEach } from 'vitest';
import { startTestHub, api, publish, until, sleep, type TestHub } from '../helpers/hub.ts';
import { Subscriber, rawStream } from '../helpers/sse.ts';

let t: TestHub | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const markers = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ type: 'x.replay.tick', data: { i: from + i } }));
const ticks = (s: Subscriber) => s.events.map((e) => (e.data as { i: number }).i);

describe('replay', () => {
  it('replays exactly the missed events after Last-Event-ID, then continues live', async () => {
    t = await startTestHub();
    await publish(t.url, markers(30));
    const first = new Subscriber(t.url, { type: 'x.replay.*', lastEventId: '0' });
    await first.waitForEvents(30);
    const lastSeen = first.events[19]!.seq;
    first.close();

    await publish(t.url, markers(20, 30));
    const resumed = new Subscriber(t.url, { type: 'x.replay.*' }, undefined, { 'last-event-id': String(lastSeen) });
    await resumed.waitForEvents(30);
    await publish(t.url, markers(5, 50));
    await resumed.waitForEvents(35);
    await sleep(100);
    expect(ticks(resumed)).toEqual(Array.from({ length: 35 }, (_, i) => 20 + i));
    resumed.close();
  });

  it('hands over from replay to live without a gap or a duplicate while publishes keep arriving', async () => {
    t = await startTestHub();
    await publish(t.url, markers(3000));
    const url = t.url;
    let publishing = true;
    let next = 3000;
    const writer = (async () => {
      while (publishing && next < 6000) {
        await publish(url, markers(50, next));
        next += 50;
      }
    })();
    const sub = new Subscriber(url, { type: 'x.replay.*', lastEventId: '0' });
    await until(() => sub.events.length >= 3500, 'replay to pass the live boundary', 20_000);
    publishing = false;
    await writer;
    await sub.waitForEvents(next, 20_000);
    expect(ticks(sub)).toEqual(Array.from({ length: next }, (_, i) => i));
    sub.close();
  });

  it('survives a hub restart on the same database: no loss, no duplicates, the client resumes by itself', async () => {
    t = await startTestHub({ retryMs: 200 });
    await publish(t.url, markers(10));
    const sub = new Subscriber(t.url, { type: 'x.replay.*', lastEventId: '0' });
    await sub.waitForEvents(10);
    await t.restart();
    // The eventsource client reconnects with Last-Event-ID after the `retry:` delay.
    await publish(t.url, markers(10, 10));
    await sub.waitForEvents(20, 15_000);
    expect(sub.named('force_disconnect')[0]?.data.reason).toBe('shutdown');
    expect(ticks(sub)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(sub.opened).toBeGreaterThanOrEqual(2);
    sub.close();
  });
});

describe('retention', () => {
  it('prunes by count in small chunks and tells a client that asks for pruned events to reset', async () => {
    t = await startTestHub({ retention: { maxEvents: 100, chunk: 30, intervalMs: 60_000 } });
    await publish(t.url, markers(250));
    const pruned = await t.hub.prune();
    expect(pruned).toBe(150);
    const stats = await api(t.url, '/v1/stats');
    expect(stats.body.log.events).toBe(100);
    expect(stats.body.oldest_seq).toBe(151);

    const sub = new Subscriber(t.url, { type: 'x.replay.*', lastEventId: '10' });
    const reset = await sub.waitFor('reset');
    expect(reset.data).toMatchObject({ reason: 'retention', requested: 10, oldest_seq: 151, head_seq: 250 });
    const initial = await sub.waitFor('initial');
    expect(initial.data.seq).toBe(250);
    await publish(t.url, markers(1, 999));
    await sub.waitForEvents(1);
    expect(ticks(sub)).toEqual([999]);
    sub.close();

    // A client resuming inside the retained window gets a normal replay.
    const ok = new Subscriber(t.url, { type: 'x.replay.*', lastEventId: '240' });
    await ok.waitForEvents(11);
    expect(ok.named('reset')).toHaveLength(0);
    ok.close();
  });

  it('prunes by age and keeps the sequence going after a restart with everything pruned', async () => {
    t = await startTestHub({ retention: { maxAgeMs: 50, maxEvents: undefined, chunk: 1000, intervalMs: 60_000 } });
    await publish(t.url, markers(20));
    await sleep(120);
    expect(await t.hub.prune()).toBe(20);
    await t.restart();
    const r = await publish(t.url, markers(1, 20));
    expect(r.body.results[0].seq).toBe(21);
  });

  it('tells a client whose Last-Event-ID is ahead of the log to reset instead of waiting forever', async () => {
    t = await startTestHub();
    await publish(t.url, markers(3));
    const raw = rawStream(t.url, '/v1/stream', { 'last-event-id': '5000' });
    await raw.ready;
    await until(() => raw.text.includes('event: initial'), 'reset and snapshot');
    expect(raw.text).toContain('"reason":"ahead_of_log"');
    raw.destroy();
  });
});
