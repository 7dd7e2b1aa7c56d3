/**
 * Heavy readers against one publisher (`npm run bench -- heavyReaders`): what a publisher's acks and
 * an admin's /v1/stats cost while (1) four readers scoped to a store with almost no events hammer
 * GET /v1/events on a large log, and (2) fifty consoles open `snapshot=1` streams of a large state
 * at once. Each phase runs against the hub before the bounded-reads change (checked out from git
 * into a temporary folder) and against this checkout, in the same run, on the same data.
 *
 *   BENCH_BEFORE_REF=<commit>   the "before" hub (default: the parent of the commit that added
 *                               electron/hub/scan-window.ts)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { spawnHub, BENCH_ADMIN, type HubProcess } from './lib/hub-process.ts';
import { RawSse, percentile } from './lib/sse-clients.ts';

const ROOT = resolve(import.meta.dirname, '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface BenchRecord {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  baselineName?: string;
  target?: string;
}

/** One HTTP exchange on its own keep-alive pool; resolves with status, body and time taken. */
function call(agent: Agent, url: string, path: string, token: string, body?: string): Promise<{ status: number; ms: number; body: string }> {
  const t0 = performance.now();
  return new Promise((res, rej) => {
    const req = request(
      new URL(path, url),
      {
        method: body === undefined ? 'GET' : 'POST',
        agent,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }) },
      },
      (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => res({ status: r.statusCode!, ms: performance.now() - t0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', rej);
    req.end(body);
  });
}

/** The "before" hub's source, from git, with this checkout's node_modules. */
function checkoutBefore(): { root: string; ref: string; remove(): void } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  let ref = process.env.BENCH_BEFORE_REF;
  if (!ref) {
    const added = git('log', '--diff-filter=A', '--format=%H', '--', 'electron/hub/scan-window.ts').split('\n').filter(Boolean).at(-1);
    if (!added) throw new Error('bench: set BENCH_BEFORE_REF (no commit adds electron/hub/scan-window.ts in this history)');
    ref = `${added}^`;
  }
  const sha = git('rev-parse', '--short', ref);
  const root = mkdtempSync(join(tmpdir(), 'relaydesk-before-'));
  execFileSync('sh', ['-c', `git archive --format=tar ${sha} | tar -x -C '${root}'`], { cwd: ROOT });
  symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(root, 'node_modules'));
  return { root, ref: sha, remove: () => rmSync(root, { recursive: true, force: true }) };
}

interface PhaseResult {
  ackP50: number;
  ackP99: number;
  acks: number;
  statsMax: number;
}

interface HubRun {
  idle: PhaseResult;
  readers: PhaseResult & { reads: number; refused: number; readP50: number };
  snapshots: PhaseResult & { allDeliveredMs: number; builds: number };
}

async function runOne(label: string, root: string, quick: boolean): Promise<HubRun> {
  const logEvents = quick ? 200_000 : 1_000_000;
  const orders = quick ? 2_000 : 5_000;
  const phaseMs = quick ? 4_000 : 8_000;
  // A rate limit as shipped (1,000 requests/s per token), not the other scenarios' unlimited hub.
  const hub: HubProcess = await spawnHub(['--rate-limit', '1000'], root);
  const admin = new Agent({ keepAlive: true, maxSockets: 4 });
  try {
    // The log: a handful of events for the sparse store first, then a large busy store.
    const post = async (events: unknown[]) => {
      const r = await call(admin, hub.url, '/v1/events', BENCH_ADMIN, JSON.stringify(events));
      if (r.status !== 201) throw new Error(`${label}: publish failed ${r.status} ${r.body.slice(0, 200)}`);
    };
    await post(Array.from({ length: 5 }, (_, i) => ({ type: 'x.bench.sparse', store_id: 's999', data: { i } })));
    const batch = Array.from({ length: 1000 }, (_, i) => ({ type: 'x.bench.tick', store_id: 's1', data: { i, text: 'lorem ipsum dolor sit amet' } }));
    for (let n = 0; n < logEvents; n += 2000) await Promise.all([post(batch), post(batch)]);
    // The state: one store with many large open orders (a ~2.4 KB order each).
    const item = (j: number) => ({ name: `dish ${j} `.padEnd(180, '.'), quantity: 1, price: 9.5 });
    for (let n = 0; n < orders; n += 200)
      await post(Array.from({ length: 200 }, (_, i) => ({ type: 'store.order.created', store_id: 'snap', data: { order_id: n + i, table_id: `T${i % 40}`, items: Array.from({ length: 12 }, (_, j) => item(j)), total: 114 } })));
    const token = async (role: string, scope: Record<string, unknown>) => {
      const r = await call(admin, hub.url, '/v1/tokens', BENCH_ADMIN, JSON.stringify({ role, scope }));
      if (r.status !== 201) throw new Error(`${label}: token create failed ${r.status} ${r.body}`);
      return (JSON.parse(r.body) as { token: string }).token;
    };
    const publisher = await token('publisher', { store_ids: ['pub'] });
    const readers = await Promise.all(Array.from({ length: 4 }, () => token('subscriber', { store_ids: ['s999'] })));
    // Fifty consoles, each with its own token (one token would be throttled by its own snapshots' cost).
    const consoles: string[] = [];
    for (let i = 0; i < 50; i++) consoles.push(await token('subscriber', { store_ids: ['snap'] }));

    /** Acks of one publisher (sequential single events) and the worst /v1/stats while `load` runs. */
    const phase = async (load: (stop: () => boolean) => Promise<void>): Promise<PhaseResult> => {
      const pubAgent = new Agent({ keepAlive: true, maxSockets: 1 });
      const statsAgent = new Agent({ keepAlive: true, maxSockets: 1 });
      let done = false;
      const acks: number[] = [];
      let statsMax = 0;
      const end = performance.now() + phaseMs;
      const running = load(() => done);
      const pubLoop = (async () => {
        for (let i = 0; performance.now() < end; i++) {
          const r = await call(pubAgent, hub.url, '/v1/events', publisher, JSON.stringify({ type: 'x.bench.ack', store_id: 'pub', data: { i } }));
          if (r.status !== 201) throw new Error(`${label}: publisher got ${r.status}`);
          acks.push(r.ms);
          await sleep(5);
        }
      })();
      const statsLoop = (async () => {
        while (performance.now() < end) {
          const r = await call(statsAgent, hub.url, '/v1/stats', BENCH_ADMIN);
          if (r.status !== 200) throw new Error(`${label}: /v1/stats got ${r.status}`);
          statsMax = Math.max(statsMax, r.ms);
          await sleep(100);
        }
      })();
      await Promise.all([pubLoop, statsLoop]);
      done = true;
      await running;
      pubAgent.destroy();
      statsAgent.destroy();
      const sorted = acks.sort((a, b) => a - b);
      return { ackP50: percentile(sorted, 50), ackP99: percentile(sorted, 99), acks: sorted.length, statsMax };
    };

    const idle = await phase(async () => {});

    let reads = 0;
    let refused = 0;
    const readTimes: number[] = [];
    const withReaders = await phase(async (stop) => {
      await Promise.all(
        readers.map(async (t) => {
          const agent = new Agent({ keepAlive: true, maxSockets: 1 });
          // A careless reader: it polls as fast as answers come and ignores Retry-After.
          while (!stop()) {
            const r = await call(agent, hub.url, '/v1/events?limit=100', t);
            if (r.status === 200) {
              reads++;
              readTimes.push(r.ms);
            } else if (r.status === 429) refused++;
            else throw new Error(`${label}: reader got ${r.status} ${r.body.slice(0, 200)}`);
          }
          agent.destroy();
        }),
      );
    });
    const readSorted = readTimes.sort((a, b) => a - b);

    let allDeliveredMs = NaN;
    const snap = await phase(async () => {
      const t0 = performance.now();
      const clients = consoles.map((t) => new RawSse(hub.url, `/v1/stream?access_token=${t}&store_id=snap&snapshot=1`));
      // retry + connection, then initial: three frames (heartbeats are a minute apart here).
      const deadline = t0 + 300_000;
      while (!clients.every((c) => c.frames >= 3)) {
        if (performance.now() > deadline) throw new Error(`${label}: ${clients.filter((c) => c.frames >= 3).length} of 50 snapshots delivered in 300 s`);
        await sleep(5);
      }
      allDeliveredMs = performance.now() - t0;
      for (const c of clients) c.close();
    });
    const metrics = (await call(admin, hub.url, '/metrics', BENCH_ADMIN)).body;
    const built = /^relaydesk_snapshots_total\{outcome="built"\} (\d+)/m.exec(metrics);
    const result: HubRun = {
      idle,
      readers: { ...withReaders, reads, refused, readP50: percentile(readSorted, 50) },
      // The hub before the change builds one snapshot per open and has no counter for it.
      snapshots: { ...snap, allDeliveredMs, builds: built ? Number(built[1]) : 50 },
    };
    console.log(
      `    ${label}: idle ack p50 ${idle.ackP50.toFixed(1)} / p99 ${idle.ackP99.toFixed(1)} ms; with 4 sparse readers ack p50 ${withReaders.ackP50.toFixed(1)} / p99 ${withReaders.ackP99.toFixed(1)} ms, ` +
        `${reads} reads (p50 ${result.readers.readP50.toFixed(1)} ms), ${refused} refused, stats worst ${withReaders.statsMax.toFixed(0)} ms; ` +
        `50 snapshot opens: all delivered in ${allDeliveredMs.toFixed(0)} ms, ack p99 ${snap.ackP99.toFixed(1)} ms, stats worst ${snap.statsMax.toFixed(0)} ms, builds ${result.snapshots.builds}`,
    );
    return result;
  } finally {
    admin.destroy();
    await hub.stop();
  }
}

export async function heavyReaders({ quick, record }: { quick: boolean; record: (r: BenchRecord) => void }): Promise<void> {
  const before = checkoutBefore();
  console.log(`heavy readers: ${quick ? '200,000' : '1,000,000'}-event log, 4 sparse-scope readers, then 50 snapshot=1 opens of ${quick ? '~5' : '~12'} MB; before = ${before.ref}`);
  try {
    const b = await runOne(`before (${before.ref})`, before.root, quick);
    const a = await runOne('after', ROOT, quick);
    const vs = { baselineName: `before, ${before.ref}` };
    record({ name: 'publisher ack p50, no readers', value: a.idle.ackP50, unit: 'ms', baseline: b.idle.ackP50, ...vs });
    record({ name: 'publisher ack p50, 4 sparse-scope readers polling /v1/events', value: a.readers.ackP50, unit: 'ms', baseline: b.readers.ackP50, ...vs });
    record({ name: 'publisher ack p99, 4 sparse-scope readers polling /v1/events', value: a.readers.ackP99, unit: 'ms', baseline: b.readers.ackP99, ...vs });
    record({ name: 'sparse-scope reads answered (4 readers)', value: a.readers.reads, unit: 'reads', baseline: b.readers.reads, ...vs });
    record({ name: 'sparse-scope read p50', value: a.readers.readP50, unit: 'ms', baseline: b.readers.readP50, ...vs });
    record({ name: '/v1/stats worst latency, 4 sparse-scope readers', value: a.readers.statsMax, unit: 'ms', baseline: b.readers.statsMax, ...vs });
    record({ name: 'publisher ack p99, 50 snapshot=1 opens', value: a.snapshots.ackP99, unit: 'ms', baseline: b.snapshots.ackP99, ...vs });
    record({ name: 'time to deliver all 50 snapshots', value: a.snapshots.allDeliveredMs, unit: 'ms', baseline: b.snapshots.allDeliveredMs, ...vs });
    record({ name: '/v1/stats worst latency, 50 snapshot=1 opens', value: a.snapshots.statsMax, unit: 'ms', baseline: b.snapshots.statsMax, ...vs });
    record({ name: 'snapshot builds for 50 identical opens', value: a.snapshots.builds, unit: 'builds', baseline: b.snapshots.builds, baselineName: `before, ${before.ref}: one per open` });
  } finally {
    before.remove();
  }
}
