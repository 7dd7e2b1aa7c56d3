/**
 * RelayDesk hub benchmarks (`npm run bench`). Each scenario starts a fresh hub process (the real
 * CLI) and drives it over loopback from this process; each is compared with a baseline measured
 * in the same run. Results print as a Markdown table and go to bench/out/hub.json.
 *
 *   BENCH_QUICK=1 npm run bench    shorter runs, for a smoke check
 *   npm run bench -- subscribers50k   one scenario (any names from `scenarios` below)
 *   npm run bench -- mercure     Mercure and topic-selector subscribers against native, 1,000 each
 *   BENCH_SUBSCRIBERS=2000 BENCH_HEARTBEAT_MS=5000 npm run bench -- subscribers50k
 *                                  the mass-connection scenario at another size / heartbeat interval
 *   BENCH_HUB_ROOT=../old-checkout npm run bench -- publishSingle
 *                                  the same clients against another checkout's hub (before/after)
 */
import { mkdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { spawnHub, spawnBareServer, BENCH_ADMIN, type ServerProcess } from './lib/hub-process.ts';
import { openClients, percentile, waitUntil, RawSse } from './lib/sse-clients.ts';
import { post, tick } from './lib/publisher.ts';
import { workerClients } from './lib/worker-clients.ts';
import { massSubscribers, fileLimitsOf } from './lib/mass-subscribers.ts';
import { sseFrame } from '../shared/wire.ts';
import { histogramQuantile } from './lib/prom.ts';
import { openDatabase } from '../electron/hub/db.ts';
import { EventLog } from '../electron/hub/log.ts';
import { validateEvent } from '../shared/events.ts';
import { heavyReaders as heavyReadersBench } from './heavy-readers.ts';
import { redisDataLoss as runRedisDataLoss } from './redis-data-loss.ts';
import { mercureTopics } from './mercure-topics.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const results: { name: string; value: number; unit: string; baseline?: number; baselineName?: string; target?: string }[] = [];
const record = (r: (typeof results)[number]) => {
  results.push(r);
  const base = r.baseline !== undefined ? `  (baseline ${r.baselineName}: ${fmt(r.baseline)} ${r.unit})` : '';
  console.log(`  ${r.name}: ${fmt(r.value)} ${r.unit}${base}`);
};
const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function publishSingle() {
  console.log('publish, one event per request (64 concurrent keep-alive clients)');
  const hub = await spawnHub();
  const seconds = QUICK ? 2 : 5;
  let n = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (performance.now() < end) {
        if ((await post(hub.url, '/v1/events', JSON.stringify(tick(n)))) !== 201) throw new Error('publish failed');
        n++;
      }
    }),
  );
  record({ name: 'publish rate, single events over HTTP', value: n / seconds, unit: 'events/s' });
  await hub.stop();
}

async function publishBatched() {
  console.log('publish, batches of 1,000 (4 concurrent clients), synchronous=FULL');
  const hub = await spawnHub();
  const total = QUICK ? 100_000 : 300_000;
  const body = JSON.stringify(Array.from({ length: 1000 }, (_, i) => tick(i)));
  let sent = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (sent < total) {
        sent += 1000;
        if ((await post(hub.url, '/v1/events', body)) !== 201) throw new Error('publish failed');
      }
    }),
  );
  const rate = total / ((performance.now() - t0) / 1000);

  // Baseline: the same rows appended by the log directly (no HTTP, no validation), 1,000 per transaction.
  const dir = mkdtempSync(join(tmpdir(), 'relaydesk-bench-'));
  const db = openDatabase(join(dir, 'base.db'));
  const log = new EventLog(db);
  const ev = Array.from({ length: 1000 }, (_, i) => {
    const r = validateEvent(tick(i));
    if (!r.ok) throw new Error('bad');
    return r.event;
  });
  const append = log.transaction(() => {
    const at = new Date().toISOString();
    for (const e of ev) log.appendNext(e, at);
  });
  const b0 = performance.now();
  for (let i = 0; i < total / 1000; i++) append();
  const baseRate = total / ((performance.now() - b0) / 1000);
  db.close();
  rmSync(dir, { recursive: true, force: true });
  record({ name: 'publish rate, batched, durable', value: rate, unit: 'events/s', baseline: baseRate, baselineName: 'SQLite append alone', target: '>= 50,000' });
  await hub.stop();
}

async function fanOut() {
  const subs = QUICK ? 200 : 500;
  const events = QUICK ? 5_000 : 20_000;
  console.log(`fan-out: ${subs} subscribers, ${events} events in batches of 500`);
  const measure = async (url: string, streamPath: string, pub: (batch: number) => Promise<void>) => {
    const clients = await openClients(url, streamPath, subs);
    await waitUntil(() => clients.every((c) => c.frames >= 2), 20_000, 'connection events');
    const base = clients.map((c) => c.frames);
    const t0 = performance.now();
    for (let b = 0; b < events / 500; b += 2) await Promise.all([pub(b), pub(b + 1)]);
    await waitUntil(() => clients.every((c, i) => c.frames - base[i]! >= events), 120_000, 'all deliveries');
    const secs = (performance.now() - t0) / 1000;
    for (const c of clients) c.close();
    return (subs * events) / secs;
  };

  const hub = await spawnHub();
  const body = JSON.stringify(Array.from({ length: 500 }, (_, i) => tick(i)));
  const rate = await measure(hub.url, `/v1/stream?access_token=${BENCH_ADMIN}&store_id=s1`, async () => {
    if ((await post(hub.url, '/v1/events', body)) !== 201) throw new Error('publish failed');
  });
  await hub.stop();

  // Baseline: a bare Node SSE server writing the same frames (no auth, scope, log or fsync).
  const bare = await spawnBareServer();
  const frames = Array.from({ length: 500 }, (_, i) => `id: ${i}\nevent: x.bench.tick\ndata: ${JSON.stringify({ seq: i, ...tick(i) })}\n\n`).join('');
  const baseRate = await measure(bare.url, '/stream', async () => {
    await post(bare.url, '/pub', frames);
  });
  await bare.stop();
  record({ name: `fan-out throughput (${subs} subscribers)`, value: rate, unit: 'deliveries/s', baseline: baseRate, baselineName: 'bare Node SSE server', target: '>= 200,000' });
}

async function latency() {
  const subs = 1000;
  const rate = 2000;
  const seconds = QUICK ? 5 : 15;
  console.log(`latency: ${subs} subscribers, ${rate} events/s for ${seconds} s (batches of 10 every 5 ms)`);
  const hubPath = `/v1/stream?access_token=${BENCH_ADMIN}&store_id=s1`;
  const run = async (label: string, server: ServerProcess, path: string, nSubs: number) => {
    // Bulk readers live in two child processes (frame counting only); the 10 latency samplers parse
    // frames in this process and connect last, so they are the last sockets of every flush: the
    // figures are the slowest subscribers', not an average.
    const bulk = await workerClients(server.url, path, nSubs - 10);
    const samples: number[] = [];
    const sampled = Array.from({ length: Math.min(10, nSubs) }, () => {
      const c = new RawSse(server.url, path);
      c.onData = (json) => {
        const t = Number(/"t":([\d.]+)/.exec(json)?.[1]);
        if (t) samples.push(performance.now() - t);
      };
      return c;
    });
    await Promise.all(sampled.map((c) => c.connected));
    await waitUntil(() => sampled.every((c) => c.frames >= 2), 30_000, 'connections');
    const t0 = Date.now();
    while ((await bulk.minFrames()) < 2) {
      if (Date.now() - t0 > 30_000) throw new Error('bulk readers did not connect');
      await sleep(50);
    }
    const rss0 = server.rssMB();
    const cpuServer0 = server.cpuSeconds();
    const cpuGen0 = process.cpuUsage();
    const cpuReaders0 = await bulk.cpuSeconds();
    const end = performance.now() + seconds * 1000;
    let i = 0;
    const inflight: Promise<number>[] = [];
    let next = performance.now();
    while (performance.now() < end) {
      const now = performance.now();
      const batch = Array.from({ length: 10 }, () => tick(i++, now));
      inflight.push(post(server.url, '/v1/events', JSON.stringify(batch)));
      next += 5;
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
    }
    await Promise.all(inflight);
    await sleep(500);
    const bulkFrames = await bulk.minFrames();
    if (bulkFrames < i + 2) throw new Error(`${label}: a bulk reader got ${bulkFrames - 2} of ${i} events`);
    const rss1 = server.rssMB();
    const serverCpu = (server.cpuSeconds() - cpuServer0) / (seconds + 0.5);
    const gen = process.cpuUsage(cpuGen0);
    const genCpu = (gen.user + gen.system) / 1e6 / (seconds + 0.5);
    const readersCpu = ((await bulk.cpuSeconds()) - cpuReaders0) / (seconds + 0.5);
    for (const c of sampled) c.close();
    await bulk.close();
    const sorted = samples.sort((a, b) => a - b);
    const r = { p50: percentile(sorted, 50), p99: percentile(sorted, 99), n: sorted.length, achieved: i / seconds, rssGrowth: rss1 - rss0 };
    console.log(
      `    ${label}, ${nSubs} subscribers: p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms; server CPU ${(serverCpu * 100).toFixed(0)}%, publisher+samplers ${(genCpu * 100).toFixed(0)}%, readers ${(readersCpu * 100).toFixed(0)}% (of 200% on 2 cores)`,
    );
    return r;
  };
  const runHub = async (nSubs: number) => {
    const hub = await spawnHub();
    const r = await run('hub', hub, hubPath, nSubs);
    const metrics = await (await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${BENCH_ADMIN}` } })).text();
    const q = (name: string, p: number) => histogramQuantile(metrics, name, p);
    const inside = { lagP99: q('relaydesk_delivery_lag_seconds', 0.99), flushP50: q('relaydesk_delivery_flush_seconds', 0.5), flushP99: q('relaydesk_delivery_flush_seconds', 0.99), commitP99: q('relaydesk_publish_commit_seconds', 0.99) };
    console.log(`    inside the hub (bucket upper bounds): flush p50 ≤${inside.flushP50} ms, p99 ≤${inside.flushP99} ms; commit→written p99 ≤${inside.lagP99} ms; request→commit p99 ≤${inside.commitP99} ms`);
    await hub.stop();
    return { ...r, inside };
  };
  const one = await runHub(10);
  const many = await runHub(subs);
  // The floor: a bare Node server doing nothing but frame and write the same events to the same
  // readers, with the hub's batching and with other pauses. The hub cannot beat the best of these.
  const floors: { pause: number; p99: number; p50: number }[] = [];
  for (const pause of [0, 0.5, 1]) {
    const bare = await spawnBareServer(['--pause', String(pause)]);
    const r = await run(`bare Node server, pause ${pause}× flush`, bare, '/stream', subs);
    await bare.stop();
    floors.push({ pause, ...r });
  }
  const best = floors.reduce((a, b) => (b.p99 < a.p99 ? b : a));
  record({ name: `publish→deliver p50, ${subs} subscribers @ ${Math.round(many.achieved)} ev/s`, value: many.p50, unit: 'ms', baseline: one.p50, baselineName: '10 subscribers' });
  record({ name: `publish→deliver p99, ${subs} subscribers @ ${Math.round(many.achieved)} ev/s`, value: many.p99, unit: 'ms', baseline: one.p99, baselineName: '10 subscribers', target: '< 20' });
  record({ name: `floor: bare Node SSE server p99, ${subs} subscribers (best of pauses 0, 0.5, 1: ${best.pause})`, value: best.p99, unit: 'ms', baseline: best.p50, baselineName: 'its p50', target: '< 20' });
  record({ name: `inside the hub: commit→written p99, ${subs} subscribers (histogram bucket bound)`, value: many.inside.lagP99, unit: 'ms', baseline: one.inside.lagP99, baselineName: '10 subscribers' });
  record({ name: `inside the hub: one flush to ${subs} subscribers, p99 (bucket bound)`, value: many.inside.flushP99, unit: 'ms' });
  record({ name: 'hub RSS growth during the latency run', value: many.rssGrowth, unit: 'MB' });
}

async function replay() {
  const total = QUICK ? 50_000 : 200_000;
  console.log(`replay: ${total.toLocaleString()} events from the log to one subscriber`);
  const hub = await spawnHub();
  const body = JSON.stringify(Array.from({ length: 1000 }, (_, i) => tick(i)));
  for (let n = 0; n < total; n += 1000) await post(hub.url, '/v1/events', body);
  const t0 = performance.now();
  const c = new RawSse(hub.url, `/v1/stream?access_token=${BENCH_ADMIN}&lastEventId=0`);
  await waitUntil(() => c.frames >= total + 2, 120_000, 'replay');
  const rate = total / ((performance.now() - t0) / 1000);
  c.close();
  // Baseline: a live subscriber receiving the same volume as it is published.
  const live = new RawSse(hub.url, `/v1/stream?access_token=${BENCH_ADMIN}`);
  await waitUntil(() => live.frames >= 2, 10_000, 'live connect');
  const l0 = performance.now();
  for (let n = 0; n < total; n += 1000) await post(hub.url, '/v1/events', body);
  await waitUntil(() => live.frames >= total + 2, 120_000, 'live');
  const liveRate = total / ((performance.now() - l0) / 1000);
  live.close();
  record({ name: 'replay rate (Last-Event-ID=0)', value: rate, unit: 'events/s', baseline: liveRate, baselineName: 'live publish+deliver' });
  await hub.stop();
}

async function idleMemory() {
  const n = QUICK ? 2_000 : 10_000;
  console.log(`memory: ${n.toLocaleString()} idle SSE connections`);
  const hub = await spawnHub();
  await sleep(500);
  const rss0 = hub.rssMB();
  const clients = await openClients(hub.url, `/v1/stream?access_token=${BENCH_ADMIN}&store_id=s1`, n);
  await waitUntil(() => clients.every((c) => c.frames >= 2), 60_000, 'all connected');
  await sleep(1000);
  const rss1 = hub.rssMB();
  for (const c of clients) c.close();
  await sleep(2000);
  const rss2 = hub.rssMB();
  await hub.stop();
  record({ name: `extra memory for ${n.toLocaleString()} idle connections`, value: rss1 - rss0, unit: 'MB', target: '< 150 (10,000)' });
  record({ name: 'memory per idle connection', value: ((rss1 - rss0) * 1024) / n, unit: 'KB' });
  record({ name: 'RSS after they all disconnect, above baseline', value: rss2 - rss0, unit: 'MB' });
}

const heavyReaders = () => heavyReadersBench({ quick: QUICK, record });
const mercure = () => mercureTopics({ quick: QUICK, record });

/**
 * Extra `relaydesk serve` flags for the mass-connection scenario: whatever the hub needs to accept
 * every subscriber the file limit allows. The connection cap defaults to the hub's own file limit
 * minus a margin; set above any count asked here, the file limit alone decides.
 */
const MASS_HUB_ARGS: string[] = ['--max-connections', '60000'];

async function subscribers50k() {
  const requested = Number(process.env.BENCH_SUBSCRIBERS ?? (QUICK ? 2_000 : 50_000));
  const heartbeatMs = Number(process.env.BENCH_HEARTBEAT_MS ?? 5_000);
  // One process holds one file per connection. The soft limit can be raised to the hard one and no
  // further without CAP_SYS_RESOURCE; the hub keeps some files of its own (SQLite, listener, stdio,
  // epoll, the publisher's connection), hence the reserve.
  const hard = fileLimitsOf(process.pid).hard;
  const reserve = 200;
  const n = Math.min(requested, hard - reserve);
  // Each reader process is under the same limit; each source address has its own ephemeral ports
  // (about 28,000 here), kept well under that.
  const procs = Number(process.env.BENCH_MASS_WORKERS ?? Math.max(2, Math.ceil(n / 10_000), Math.ceil(n / (hard - 100))));
  const addresses = Array.from({ length: Math.max(2, Math.ceil(n / 10_000)) }, (_, i) => `127.0.0.${i + 2}`);
  console.log(`subscribers50k: ${n.toLocaleString()} SSE subscribers on one hub, heartbeat every ${heartbeatMs} ms, ${procs} reader processes, sources ${addresses.join(', ')}`);
  if (n < requested)
    console.log(
      `  ${requested.toLocaleString()} asked, ${n.toLocaleString()} measured: a process may hold at most ${hard.toLocaleString()} open files here (hard limit; raising it needs CAP_SYS_RESOURCE). Figures for ${requested.toLocaleString()} below are projections, labelled as such.`,
    );

  type Run = { connected: number; failed: number; connectMs: number; rss0: number; rss: number; perConnKB: number; cpuCores: number; heartbeatsMin: number; p50: number; p99: number; max: number; delivered: number; missing: number };
  // `warm` opens the publisher's keep-alive connection with a request no subscriber receives, so the
  // broadcast's figures do not include a TCP handshake or cold code.
  const run = async (label: string, server: ServerProcess & { pid: number }, path: string, warm: () => Promise<void>, publish: (marker: string) => Promise<void>): Promise<Run> => {
    const lim = fileLimitsOf(server.pid);
    await sleep(500);
    const rss0 = server.rssMB();
    const subs = await massSubscribers(server.url, path, n, { procs, addresses, fileLimit: 'max' });
    try {
      const opened = await subs.open(900_000, (c, f) => console.log(`    ${label}: ${c.toLocaleString()} connected, ${f} failed`));
      console.log(`    ${label}: ${opened.connected.toLocaleString()} connected in ${(opened.ms / 1000).toFixed(1)} s, ${opened.failed} failed (server file limit ${lim.soft}/${lim.hard}, readers ${subs.fileLimits().map((l) => l.soft).join('/')})`);
      // Hold long enough for every connection to get at least two heartbeats, then weigh the server.
      const f0 = await subs.frames();
      const cpu0 = server.cpuSeconds();
      const h0 = performance.now();
      await sleep(2 * heartbeatMs + 1000);
      const cpuCores = (server.cpuSeconds() - cpu0) / ((performance.now() - h0) / 1000);
      const f1 = await subs.frames();
      const rss = server.rssMB();
      const heartbeatsMin = f1.min - 2;
      console.log(`    ${label}: held ${((performance.now() - h0) / 1000).toFixed(1)} s; frames per socket ${f0.min}–${f0.max} → ${f1.min}–${f1.max}, ${f1.closed} closed; server CPU ${(cpuCores * 100).toFixed(1)}% of a core; RSS ${rss0.toFixed(0)} → ${rss.toFixed(0)} MB`);
      if (f1.closed) console.log(`    ${label}: WARNING ${f1.closed} connections closed while idle`);
      if (heartbeatsMin < 1) console.log(`    ${label}: WARNING a connection got no heartbeat in ${2 * heartbeatMs + 1000} ms`);
      await warm();
      const b = await subs.broadcast(publish, 60_000);
      const r = {
        connected: opened.connected,
        failed: opened.failed,
        connectMs: opened.ms,
        rss0,
        rss,
        perConnKB: ((rss - rss0) * 1024) / opened.connected,
        cpuCores,
        heartbeatsMin,
        p50: percentile(b.ms, 50),
        p99: percentile(b.ms, 99),
        max: b.ms[b.ms.length - 1] ?? NaN,
        delivered: b.ms.length,
        missing: b.missing,
      };
      console.log(`    ${label}: one event to ${r.delivered.toLocaleString()} (${r.missing} missed; publish answered in ${b.ackMs.toFixed(0)} ms): min ${b.ms[0]?.toFixed(0)} ms, p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms, max ${r.max.toFixed(0)} ms`);
      return r;
    } finally {
      await subs.close();
    }
  };

  const event = (marker: string) => ({ type: 'x.bench.broadcast', store_id: 's1', data: { marker } });
  const hub = await spawnHub(MASS_HUB_ARGS, undefined, { fileLimit: 'max', heartbeatMs });
  let h: Run;
  try {
    const warm = async () => {
      if ((await post(hub.url, '/v1/events', JSON.stringify({ ...event('warm-up'), store_id: 's2' }))) !== 201) throw new Error('warm-up publish failed');
    };
    h = await run('hub', hub, `/v1/stream?access_token=${BENCH_ADMIN}&store_id=s1`, warm, async (marker) => {
      const status = await post(hub.url, '/v1/events', JSON.stringify(event(marker)));
      if (status !== 201) throw new Error(`broadcast publish answered ${status}`);
    });
  } finally {
    await hub.stop();
  }
  // Baseline: a bare Node SSE server (no auth, scope, log or fsync) with the same heartbeats, readers
  // and event frame.
  const bare = await spawnBareServer(['--heartbeat-ms', String(heartbeatMs)], { fileLimit: 'max' });
  let b: Run;
  try {
    const warm = async () => void (await post(bare.url, '/pub', ''));
    b = await run('bare Node SSE server', bare, '/stream', warm, async (marker) => {
      await post(bare.url, '/pub', sseFrame('x.bench.broadcast', JSON.stringify({ seq: 1, ...event(marker) }), 1));
    });
  } finally {
    await bare.stop();
  }

  const base = { baselineName: 'bare Node SSE server' };
  const count = `${n.toLocaleString()} subscribers`;
  record({ name: `subscribers connected and held (of ${requested.toLocaleString()} asked; file limit ${hard.toLocaleString()})`, value: h.connected, unit: 'connections', baseline: b.connected, ...base, target: '50,000' });
  record({ name: `time to connect ${count}`, value: h.connectMs / 1000, unit: 's', baseline: b.connectMs / 1000, ...base });
  record({ name: `server RSS with ${count}, heartbeats every ${heartbeatMs} ms`, value: h.rss, unit: 'MB', baseline: b.rss, ...base, target: '< 700 (50,000)' });
  record({ name: `memory per connection, ${count}`, value: h.perConnKB, unit: 'KB', baseline: b.perConnKB, ...base });
  record({ name: `server CPU holding ${count} (heartbeats every ${heartbeatMs} ms)`, value: h.cpuCores * 100, unit: '% of a core', baseline: b.cpuCores * 100, ...base });
  record({ name: `one event to ${count}: delivered`, value: h.delivered, unit: 'subscribers', baseline: b.delivered, ...base });
  record({ name: `one event to ${count}: p50`, value: h.p50, unit: 'ms', baseline: b.p50, ...base });
  record({ name: `one event to ${count}: p99`, value: h.p99, unit: 'ms', baseline: b.p99, ...base, target: '< 2,000 (50,000)' });
  record({ name: `one event to ${count}: max`, value: h.max, unit: 'ms', baseline: b.max, ...base });
  if (n < requested) {
    // Connection memory and a broadcast's write loop are both linear in the connection count.
    const scale = requested / n;
    const proj = `PROJECTION to ${requested.toLocaleString()} (not measured; linear from ${count})`;
    record({ name: `${proj}: server RSS`, value: h.rss0 + (h.rss - h.rss0) * scale, unit: 'MB', baseline: b.rss0 + (b.rss - b.rss0) * scale, ...base, target: '< 700' });
    record({ name: `${proj}: one event, p99`, value: h.p99 * scale, unit: 'ms', baseline: b.p99 * scale, ...base, target: '< 2,000' });
  }
}

async function redisDataLoss() {
  const runs = QUICK ? 4 : 12;
  console.log(`Redis engine, Redis restarted empty: ${runs} randomized runs of two hubs (bench/redis-data-loss.ts)`);
  const r = await runRedisDataLoss(runs, undefined, console.log);
  record({ name: `runs where a hub's 201s do not match its own log (of ${runs})`, value: r.bad, unit: 'runs', target: '0' });
  record({ name: 'acked events missing from the acking hub\'s log', value: r.missing, unit: 'events', target: '0' });
  record({ name: 'positions (seq@epoch) holding different events on two hubs', value: r.conflicts, unit: 'positions', target: '0' });
  record({ name: 'events acked across the runs', value: r.acked, unit: 'events' });
}

const scenarios: Record<string, () => Promise<void>> = { publishSingle, publishBatched, fanOut, latency, replay, idleMemory, heavyReaders, subscribers50k, redisDataLoss, mercure };
const only = process.argv.slice(2);
console.log(`RelayDesk hub bench — ${new Date().toISOString()} — ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}${QUICK ? ' (quick)' : ''}`);
for (const [name, fn] of Object.entries(scenarios)) if (!only.length || only.includes(name)) await fn();
mkdirSync(resolve(import.meta.dirname, 'out'), { recursive: true });
writeFileSync(resolve(import.meta.dirname, 'out/hub.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: cpus().length, quick: QUICK, results }, null, 2));
console.log('\n| measurement | result | baseline (same run) | target |\n|---|---|---|---|');
for (const r of results) console.log(`| ${r.name} | ${fmt(r.value)} ${r.unit} | ${r.baseline !== undefined ? `${fmt(r.baseline)} ${r.unit} (${r.baselineName})` : '—'} | ${r.target ?? '—'} |`);
process.exit(0);
