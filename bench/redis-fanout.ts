/**
 * Cross-hub delivery through Redis Streams vs one hub with the embedded engine, in the same run.
 *
 *   node bin/run-ts.js bench/redis-fanout.ts [--events N] [--concurrency C] [--batch B] [--subs S]
 *
 * Scenarios (each with its own SQLite files and a fresh Redis key prefix):
 *   local-1   one hub, embedded engine (the single-hub baseline)
 *   redis-1   one hub, Redis engine (cost of the bus alone)
 *   redis-3   three hubs, publishes round-robin, S subscribers on every hub; latency is split into
 *             same-hub (published and received on the same hub) and cross-hub deliveries.
 * Throughput = acknowledged events / wall time until every subscriber received every event.
 * Latency = receive time - send time of the publish request (one process, one clock).
 */
import { EventSource } from 'eventsource';
import { performance } from 'node:perf_hooks';
import type { Hub } from '../electron/hub/hub.ts';
import { redisEngineFactory } from '../electron/hub/bus/redis.ts';
import { ADMIN, startTestHub, type TestHub } from '../test/helpers/hub.ts';
import { startRedis } from '../test/helpers/redis.ts';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const EVENTS = arg('events', 4000);
const CONCURRENCY = arg('concurrency', 16);
const BATCH = arg('batch', 1);
const SUBS = arg('subs', 2);
const FSYNC = process.env.REDIS_FSYNC ?? 'always';

interface Result {
  scenario: string;
  events: number;
  publish_per_s: number;
  delivered_per_s: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  cross_p50_ms?: number;
  cross_p99_ms?: number;
  same_p50_ms?: number;
}

const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!.toFixed(2);
};

class Receiver {
  readonly lat: { ms: number; origin: number }[] = [];
  count = 0;
  private es: EventSource;
  constructor(
    url: string,
    readonly hubIndex: number,
  ) {
    const u = new URL('/v1/stream', url);
    u.searchParams.set('events', 'message');
    this.es = new EventSource(u, { fetch: (i, init) => fetch(i, { ...init, headers: { ...(init?.headers as Record<string, string>), authorization: `Bearer ${ADMIN}` } }) });
    this.es.addEventListener('message', (e: MessageEvent) => {
      const now = performance.now();
      const ev = JSON.parse(e.data) as { data: { t: number; h: number } };
      this.count++;
      this.lat.push({ ms: now - ev.data.t, origin: ev.data.h });
    });
  }
  ready(): Promise<void> {
    return new Promise((r) => (this.es.readyState === 1 ? r() : this.es.addEventListener('open', () => r(), { once: true })));
  }
  close() {
    this.es.close();
  }
}

async function run(scenario: string, hubs: TestHub[]): Promise<Result> {
  const receivers: Receiver[] = [];
  hubs.forEach((h, i) => {
    for (let k = 0; k < SUBS; k++) receivers.push(new Receiver(h.url, i));
  });
  await Promise.all(receivers.map((r) => r.ready()));
  await new Promise((r) => setTimeout(r, 200));
  const requests = Math.ceil(EVENTS / BATCH);
  let next = 0;
  let acked = 0;
  const t0 = performance.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= requests) return;
      const h = i % hubs.length;
      const t = performance.now();
      const body = Array.from({ length: BATCH }, (_, k) => ({ id: `${scenario}-${i}-${k}`, type: 'x.bench.tick', data: { t, h, i } }));
      const res = await fetch(`${hubs[h]!.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await res.arrayBuffer();
      if (res.status !== 201) throw new Error(`${scenario}: publish ${res.status}`);
      acked += BATCH;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const tPub = performance.now();
  const deadline = Date.now() + 60_000;
  while (receivers.some((r) => r.count < acked)) {
    if (Date.now() > deadline) throw new Error(`${scenario}: delivery incomplete: ${receivers.map((r) => r.count).join(',')} of ${acked}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const tAll = performance.now();
  for (const r of receivers) r.close();
  const all = receivers.flatMap((r) => r.lat.map((l) => l.ms));
  const cross = receivers.flatMap((r) => r.lat.filter((l) => l.origin !== r.hubIndex).map((l) => l.ms));
  const same = receivers.flatMap((r) => r.lat.filter((l) => l.origin === r.hubIndex).map((l) => l.ms));
  return {
    scenario,
    events: acked,
    publish_per_s: Math.round(acked / ((tPub - t0) / 1000)),
    delivered_per_s: Math.round((acked * receivers.length) / ((tAll - t0) / 1000)),
    p50_ms: pct(all, 50),
    p99_ms: pct(all, 99),
    max_ms: pct(all, 100),
    ...(hubs.length > 1 ? { cross_p50_ms: pct(cross, 50), cross_p99_ms: pct(cross, 99), same_p50_ms: pct(same, 50) } : {}),
  };
}

async function main() {
  const opts = { heartbeatMs: 15_000, rateLimitPerSecond: 1_000_000 };
  const redis = await startRedis({ aof: true, fsync: FSYNC });
  const results: Result[] = [];
  const started: TestHub[] = [];
  const stopAll = async () => {
    for (const h of started.splice(0)) await h.stop();
  };
  try {
    started.push(await startTestHub(opts));
    results.push(await run('local-1', started));
    await stopAll();

    started.push(await startTestHub(opts, redisEngineFactory(redis.url, { prefix: '{bench1}' })));
    results.push(await run('redis-1', started));
    await stopAll();

    const f3 = redisEngineFactory(redis.url, { prefix: '{bench3}' });
    for (let i = 0; i < 3; i++) started.push(await startTestHub(opts, f3));
    results.push(await run('redis-3', started));
    const lag = started.map((h: { hub: Hub }) => h.hub.engine.status().lag_ms);
    await stopAll();

    console.log(`\nredis-fanout: ${EVENTS} events, ${CONCURRENCY} concurrent publishers, batch ${BATCH}, ${SUBS} subscribers per hub, Redis AOF appendfsync ${FSYNC}\n`);
    console.table(results);
    console.log(`redis-3 lag_ms after the run: ${lag.join(', ')}`);
    console.log(JSON.stringify({ config: { EVENTS, CONCURRENCY, BATCH, SUBS, FSYNC }, results }));
  } finally {
    await stopAll();
    await redis.stop();
  }
}

await main();
