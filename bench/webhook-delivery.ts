/**
 * Webhook delivery (`node bin/run-ts.js bench/webhook-delivery.ts`, BENCH_QUICK=1 for a short run):
 * how many deliveries per second the dispatcher makes to a local receiver, and how long an event
 * takes from its commit (the event's `received_at`) to its receipt by the backend.
 *
 * The hub is the real CLI in its own process with a real SQLite file; the receiver runs here and
 * verifies every request with the `standardwebhooks` library, as a backend does. Phases:
 *   baseline   the same receiver fed by a plain serial loop of signed POSTs (no hub): the ceiling of
 *              one-at-a-time delivery over loopback on this machine
 *   burst      N events published at once (batches of 500): deliveries/s while a backlog drains,
 *              and the commit→receipt latency that backlog adds
 *   steady     events published one by one at a fixed rate below capacity: commit→receipt latency
 *   fan-out    the burst to 4 endpoints at once: aggregate deliveries/s (each endpoint is serial)
 *
 * BENCH_COMPARE=<path of another checkout> (with its node_modules) runs the hub phases against that
 * checkout's hub and this one in turn, BENCH_ROUNDS times each (default 2), so a before/after
 * comparison shares one receiver, one machine state and one run; the medians are printed at the end.
 */
import { createServer, request, Agent, type Server } from 'node:http';
import { loadavg } from 'node:os';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Webhook } from 'standardwebhooks';
import { resolve } from 'node:path';
import { spawnHub, BENCH_ADMIN, type HubProcess } from './lib/hub-process.ts';
import { percentile } from './lib/sse-clients.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const BURST = Number(process.env.BENCH_BURST ?? (QUICK ? 1_000 : 2_000));
const STEADY_RATE = 100;
const STEADY_SECONDS = QUICK ? 4 : 15;
const FANOUT = 4;
const SECRET = 'whsec_' + Buffer.alloc(32, 9).toString('base64');
const COMPARE = process.env.BENCH_COMPARE ? resolve(process.env.BENCH_COMPARE) : undefined;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const HERE = resolve(import.meta.dirname, '..');

interface Receipt {
  endpoint: string;
  seq: number;
  latencyMs: number;
  at: number;
}

/** A backend's endpoint: verifies each request, records when each event arrived. */
class Receiver {
  readonly receipts: Receipt[] = [];
  rejected = 0;
  private server!: Server;
  private readonly wh = new Webhook(SECRET);
  port = 0;

  async listen(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const now = Date.now();
        try {
          const msg = this.wh.verify(Buffer.concat(chunks).toString('utf8'), req.headers as Record<string, string>) as { data: { seq: number; received_at: string } };
          this.receipts.push({ endpoint: req.url ?? '/', seq: msg.data.seq, latencyMs: now - Date.parse(msg.data.received_at), at: performance.now() });
          res.writeHead(204).end();
        } catch {
          this.rejected++;
          res.writeHead(401).end();
        }
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

function post(url: string, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function hubApi<T>(hub: HubProcess, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${BENCH_ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  const res = await fetch(hub.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

const event = (i: number, phase: string) => ({ id: `${phase}-${i}`, type: 'x.bench.tick', data: { i, phase, pad: 'x'.repeat(200) } });

async function until(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function summary(receipts: Receipt[]) {
  const lat = receipts.map((r) => r.latencyMs).sort((a, b) => a - b);
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat.at(-1) ?? 0 };
}

interface HubResults {
  burst: { per_second: number; p50: number; p99: number };
  steady: { p50: number; p99: number; max: number };
  fanout: { per_second: number; p50: number; p99: number };
  hub_cpu_seconds: number;
  load: number;
}

async function main(): Promise<void> {
  const rx = new Receiver();
  await rx.listen();
  const results: Record<string, unknown> = {};

  // Baseline: serial signed POSTs straight to the receiver, as one endpoint's dispatcher sends them.
  {
    const wh = new Webhook(SECRET);
    const n = BURST;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const id = `msg_base_${i}`;
      const at = new Date();
      const body = JSON.stringify({ type: 'x.bench.tick', timestamp: at.toISOString(), data: { seq: i + 1, received_at: at.toISOString(), ...event(i, 'base') } });
      await post(rx.url('/base'), body, { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': wh.sign(id, at, body) });
    }
    const s = (performance.now() - t0) / 1000;
    results.baseline = { deliveries: n, seconds: s, per_second: n / s, ...summary(rx.receipts.filter((r) => r.endpoint === '/base')) };
    console.log(`baseline: ${n} serial signed POSTs in ${s.toFixed(2)} s = ${(n / s).toFixed(0)}/s`);
  }

  try {
    if (!COMPARE) {
      await hubPhases(rx, HERE, results);
      return;
    }
    // Alternating, so a change in the machine's load falls on both sides.
    const runs: Record<'before' | 'after', HubResults[]> = { before: [], after: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [side, root] of [['before', COMPARE], ['after', HERE]] as const) {
        console.log(`--- round ${round + 1}, ${side} (${root})`);
        runs[side].push(await hubPhases(rx, root, { ...results }));
      }
    }
    const med = (xs: number[]) => {
      const o = [...xs].sort((a, b) => a - b);
      return (o[Math.floor((o.length - 1) / 2)]! + o[Math.ceil((o.length - 1) / 2)]!) / 2;
    };
    for (const side of ['before', 'after'] as const) {
      const r = runs[side];
      console.log(
        `${side}: burst ${r.map((x) => x.burst.per_second.toFixed(0)).join('/')} /s (median ${med(r.map((x) => x.burst.per_second)).toFixed(0)}), ` +
          `fan-out ${r.map((x) => x.fanout.per_second.toFixed(0)).join('/')} /s (median ${med(r.map((x) => x.fanout.per_second)).toFixed(0)}), ` +
          `steady p50/p99 ${r.map((x) => `${x.steady.p50}/${x.steady.p99}`).join(', ')} ms, hub CPU ${r.map((x) => x.hub_cpu_seconds.toFixed(1)).join('/')} s, load ${r.map((x) => x.load.toFixed(1)).join('/')}`,
      );
    }
  } finally {
    await rx.close();
    agent.destroy();
  }
}

async function hubPhases(rx: Receiver, root: string, results: Record<string, unknown>): Promise<HubResults> {
  // Each hub run counts only its own receipts (and the receiver's filters stay short).
  rx.receipts.length = 0;
  const hub = await spawnHub([], root);
  try {
    const add = (path: string) => hubApi<{ id: string }>(hub, 'POST', '/v1/webhooks', { url: rx.url(path), types: ['x.bench.*'], secret: SECRET });
    const publishAll = async (phase: string, n: number) => {
      for (let i = 0; i < n; i += 500) await hubApi(hub, 'POST', '/v1/events', Array.from({ length: Math.min(500, n - i) }, (_, j) => event(i + j, phase)));
    };
    const cpu0 = hub.cpuSeconds();

    // Burst: one endpoint, N events at once.
    {
      const ep = await add('/burst');
      const mine = () => rx.receipts.filter((r) => r.endpoint === '/burst');
      const t0 = performance.now();
      await publishAll('burst', BURST);
      const published = performance.now();
      await until(() => mine().length >= BURST, 'the burst', 600_000);
      const s = (performance.now() - t0) / 1000;
      results.burst = { deliveries: BURST, seconds: s, per_second: BURST / s, publish_seconds: (published - t0) / 1000, ...summary(mine()) };
      console.log(`burst: ${BURST} events delivered in ${s.toFixed(2)} s = ${(BURST / s).toFixed(0)}/s (published in ${((published - t0) / 1000).toFixed(2)} s); commit→receipt p50 ${summary(mine()).p50} ms p99 ${summary(mine()).p99} ms`);
      await hubApi(hub, 'DELETE', `/v1/webhooks/${ep.id}`);
    }

    // Steady: one endpoint, one event at a time at a rate it keeps up with.
    {
      const ep = await add('/steady');
      const mine = () => rx.receipts.filter((r) => r.endpoint === '/steady');
      const n = STEADY_RATE * STEADY_SECONDS;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        await hubApi(hub, 'POST', '/v1/events', event(i, 'steady'));
        const wait = t0 + ((i + 1) * 1000) / STEADY_RATE - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      await until(() => mine().length >= n, 'the steady run', 120_000);
      results.steady = { rate: STEADY_RATE, deliveries: n, ...summary(mine()) };
      console.log(`steady: ${STEADY_RATE}/s for ${STEADY_SECONDS} s; commit→receipt p50 ${summary(mine()).p50} ms p99 ${summary(mine()).p99} ms max ${summary(mine()).max} ms`);
      await hubApi(hub, 'DELETE', `/v1/webhooks/${ep.id}`);
    }

    // Fan-out: the burst to four endpoints at once.
    {
      const eps = await Promise.all(Array.from({ length: FANOUT }, (_, i) => add(`/fan${i}`)));
      const mine = () => rx.receipts.filter((r) => r.endpoint.startsWith('/fan'));
      const t0 = performance.now();
      await publishAll('fan', BURST);
      await until(() => mine().length >= BURST * FANOUT, 'the fan-out', 600_000);
      const s = (performance.now() - t0) / 1000;
      results.fanout = { endpoints: FANOUT, deliveries: BURST * FANOUT, seconds: s, per_second: (BURST * FANOUT) / s, ...summary(mine()) };
      console.log(`fan-out: ${FANOUT} endpoints × ${BURST} = ${BURST * FANOUT} deliveries in ${s.toFixed(2)} s = ${((BURST * FANOUT) / s).toFixed(0)}/s; p50 ${summary(mine()).p50} ms p99 ${summary(mine()).p99} ms`);
      for (const ep of eps) await hubApi(hub, 'DELETE', `/v1/webhooks/${ep.id}`);
    }
    results.hub_cpu_seconds = hub.cpuSeconds() - cpu0;
    results.rejected = rx.rejected;
    results.load = loadavg()[0]!;
    console.log(`hub CPU ${(hub.cpuSeconds() - cpu0).toFixed(1)} s; receiver refused ${rx.rejected} request(s); load average ${loadavg()[0]!.toFixed(1)}`);
    console.log(JSON.stringify(results));
    return results as unknown as HubResults;
  } finally {
    await hub.stop();
  }
}

await main();
