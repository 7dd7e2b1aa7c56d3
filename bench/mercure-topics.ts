/**
 * The Mercure path and topic-selector matching at 1,000 subscribers, each against the native path in
 * the same run (`npm run bench -- mercure`). Four hubs, one after another, the same load on each:
 *
 *   native, plain          GET /v1/stream with the admin token, no topic filter: the baseline;
 *   native, topics, shared  a subscriber token with `subscribe_topics` and one `topic=` filter, the
 *                          same for every subscriber (one subscription group: matched once per event);
 *   native, topics          the same token, and a `topic=` list of each subscriber's own (its exact
 *                          topic plus the shared template): 1,000 distinct subscriptions, each matched;
 *   Mercure                /.well-known/mercure?topic=… with an HS256 subscriber JWT, the same
 *                          selectors per subscriber, private updates (so the JWT's claims are matched
 *                          too), published form-encoded.
 *
 * Every event goes to every subscriber (its topic matches the shared template), so all paths carry the
 * same deliveries. Each event is one POST on every path (Mercure has no batch publish). Latency is
 * publish → parsed by the 10 sampling readers that connect last (the slowest of each write loop);
 * throughput is deliveries/s while publishers post as fast as the hub answers.
 */
import { performance } from 'node:perf_hooks';
import { SignJWT } from 'jose';
import { spawnHub, BENCH_ADMIN, type HubProcess } from './lib/hub-process.ts';
import { RawSse, percentile, waitUntil } from './lib/sse-clients.ts';
import { post } from './lib/publisher.ts';
import { workerClients } from './lib/worker-clients.ts';

type Record_ = (r: { name: string; value: number; unit: string; baseline?: number; baselineName?: string; target?: string }) => void;

const KEY = 'bench-mercure-hs256-key-of-at-least-32-bytes';
const WARD = 'https://example.net/wards/{id}';
const ward = (i: number) => `https://example.net/wards/${i % 100}`;
// Inside the token's template (an exact `topic=` outside `subscribe_topics` is a 403), and no event's.
const own = (k: number | string) => `https://example.net/wards/bed-${k}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const jwt = (claims: { publish?: string[]; subscribe?: string[] }) =>
  new SignJWT({ mercure: claims }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().sign(new TextEncoder().encode(KEY));

interface Path {
  label: string;
  args: string[];
  /** The stream path; `__K__` is each subscriber's index. */
  stream: (hub: HubProcess) => Promise<string>;
  publish: (hub: HubProcess, i: number, t: number) => Promise<number>;
  ok: number;
}

interface Result { p50: number; p99: number; achieved: number; throughput: number; serverCpu: number }

const nativeEvent = (i: number, t: number) => JSON.stringify({ type: 'x.bench.tick', topics: [ward(i)], data: { i, t } });
const nativePublish = (hub: HubProcess, i: number, t: number) => post(hub.url, '/v1/events', nativeEvent(i, t));

async function subscriberToken(hub: HubProcess): Promise<string> {
  const r = await fetch(`${hub.url}/v1/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'subscriber', scope: { subscribe_topics: [WARD] }, label: 'bench' }),
  });
  if (r.status !== 201) throw new Error(`token create: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { token: string }).token;
}

let publisherJwt = '';
const PATHS: Path[] = [
  { label: 'native, plain', args: [], stream: async () => `/v1/stream?access_token=${BENCH_ADMIN}`, publish: nativePublish, ok: 201 },
  {
    label: 'native, topics, shared',
    args: [],
    stream: async (hub) => `/v1/stream?access_token=${await subscriberToken(hub)}&topic=${encodeURIComponent(WARD)}`,
    publish: nativePublish,
    ok: 201,
  },
  {
    label: 'native, topics',
    args: [],
    stream: async (hub) => `/v1/stream?access_token=${await subscriberToken(hub)}&topic=${encodeURIComponent(own('__K__'))}&topic=${encodeURIComponent(WARD)}`,
    publish: nativePublish,
    ok: 201,
  },
  {
    label: 'Mercure',
    args: ['--mercure-publisher-jwt-key', KEY, '--mercure-subscriber-jwt-key', KEY],
    stream: async () => `/.well-known/mercure?topic=${encodeURIComponent(own('__K__'))}&topic=${encodeURIComponent(WARD)}&authorization=${await jwt({ subscribe: [WARD] })}`,
    publish: (hub, i, t) => {
      const form = new URLSearchParams({ topic: ward(i), data: JSON.stringify({ seq: i, t }), private: 'on' });
      return post(hub.url, '/.well-known/mercure', form.toString(), publisherJwt, 'application/x-www-form-urlencoded');
    },
    ok: 200,
  },
];

async function measure(p: Path, subs: number, rate: number, seconds: number, burst: number): Promise<Result> {
  const hub = await spawnHub(p.args);
  try {
    const path = await p.stream(hub);
    const bulk = await workerClients(hub.url, path, subs - 10);
    const samples: number[] = [];
    let sampling = false;
    const sampled = Array.from({ length: 10 }, (_, j) => {
      const c = new RawSse(hub.url, path.replaceAll('__K__', String(subs - 10 + j)));
      c.onData = (json) => {
        const t = Number(/"t":([\d.]+)/.exec(json)?.[1]);
        if (sampling && t) samples.push(performance.now() - t);
      };
      return c;
    });
    await Promise.all(sampled.map((c) => c.connected));
    // A subscription is registered some time after its TCP connect: publish until every reader has
    // received one of these, so none joins during the timed phase.
    const minAll = async () => Math.min(await bulk.minFrames(), ...sampled.map((c) => c.frames));
    const t0 = Date.now();
    for (let w = 0; ; w++) {
      const before = await minAll();
      const status = await p.publish(hub, -1 - w, 0);
      if (status !== p.ok) throw new Error(`${p.label}: warm-up publish answered ${status}`);
      await sleep(300);
      if ((await minAll()) > before && w > 0) break;
      if (Date.now() - t0 > 60_000) throw new Error(`${p.label}: readers did not all subscribe`);
    }
    await sleep(300);

    // Latency: one event per request at a steady rate.
    const base = await minAll();
    const cpu0 = hub.cpuSeconds();
    sampling = true;
    const end = performance.now() + seconds * 1000;
    const inflight: Promise<number>[] = [];
    let i = 0;
    let next = performance.now();
    while (performance.now() < end) {
      inflight.push(p.publish(hub, i++, performance.now()));
      next += 1000 / rate;
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
    }
    const statuses = await Promise.all(inflight);
    if (statuses.some((s) => s !== p.ok)) throw new Error(`${p.label}: a publish answered ${statuses.find((s) => s !== p.ok)}`);
    await waitUntil(() => samples.length >= 10 * i, 60_000, `${p.label}: sampled deliveries`);
    const serverCpu = (hub.cpuSeconds() - cpu0) / seconds;
    sampling = false;
    const got = (await minAll()) - base;
    if (got < i) throw new Error(`${p.label}: a reader got ${got} of ${i} events`);

    // Throughput: `burst` events, 8 publishers posting as fast as the hub answers.
    const base2 = await minAll();
    const b0 = performance.now();
    let sent = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (sent < burst) {
          const s = await p.publish(hub, sent++, 0);
          if (s !== p.ok) throw new Error(`${p.label}: burst publish answered ${s}`);
        }
      }),
    );
    const deadline = Date.now() + 180_000;
    while ((await minAll()) - base2 < burst) {
      if (Date.now() > deadline) throw new Error(`${p.label}: burst not delivered`);
      await sleep(20);
    }
    const throughput = (subs * burst) / ((performance.now() - b0) / 1000);

    for (const c of sampled) c.close();
    await bulk.close();
    const sorted = samples.sort((a, b) => a - b);
    const r = { p50: percentile(sorted, 50), p99: percentile(sorted, 99), achieved: i / seconds, throughput, serverCpu };
    console.log(
      `    ${p.label}: p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms at ${r.achieved.toFixed(0)} ev/s (hub CPU ${(serverCpu * 100).toFixed(0)}% of a core); burst of ${burst}: ${Math.round(throughput).toLocaleString('en-US')} deliveries/s`,
    );
    return r;
  } finally {
    await hub.stop();
  }
}

export async function mercureTopics({ quick, record }: { quick: boolean; record: Record_ }): Promise<void> {
  const subs = 1000;
  const rate = Number(process.env.BENCH_RATE ?? 100);
  const seconds = quick ? 5 : 10;
  const burst = quick ? 300 : 1000;
  console.log(`Mercure and topic selectors: ${subs} subscribers, ${rate} events/s one per request for ${seconds} s, then a burst of ${burst} (bench/mercure-topics.ts)`);
  publisherJwt = await jwt({ publish: [WARD] });
  const r: Record<string, Result> = {};
  for (const p of PATHS) r[p.label] = await measure(p, subs, rate, seconds, burst);
  const plain = r['native, plain']!;
  const topics = r['native, topics']!;
  const at = `${subs} subscribers @ ${rate} ev/s`;
  for (const label of ['native, topics, shared', 'native, topics'] as const) {
    const x = r[label]!;
    record({ name: `${label}: publish→deliver p50, ${at}`, value: x.p50, unit: 'ms', baseline: plain.p50, baselineName: 'native, plain' });
    record({ name: `${label}: publish→deliver p99, ${at}`, value: x.p99, unit: 'ms', baseline: plain.p99, baselineName: 'native, plain' });
    record({ name: `${label}: burst throughput`, value: x.throughput, unit: 'deliveries/s', baseline: plain.throughput, baselineName: 'native, plain' });
  }
  const m = r['Mercure']!;
  record({ name: `Mercure: publish→deliver p50, ${at}`, value: m.p50, unit: 'ms', baseline: topics.p50, baselineName: 'native, topics', target: 'within 10 %' });
  record({ name: `Mercure: publish→deliver p99, ${at}`, value: m.p99, unit: 'ms', baseline: topics.p99, baselineName: 'native, topics', target: 'within 10 %' });
  record({ name: 'Mercure: burst throughput', value: m.throughput, unit: 'deliveries/s', baseline: topics.throughput, baselineName: 'native, topics' });
  for (const [label, x] of Object.entries(r)) record({ name: `hub CPU during the latency phase, ${label}`, value: x.serverCpu * 100, unit: '% of a core' });
}
