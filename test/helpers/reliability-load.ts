import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Agent, request } from 'node:http';
import { ADMIN } from './hub.ts';
import { spawnCliHub, rssOf, percentile, ROOT, type ChildHub } from './reliability.ts';

/**
 * The load scenario shared by the test suite (1,000 connections) and bench/load-10k.ts (10,000):
 * the CLI hub as a child with a raised file limit, SSE clients in one or two other children, a mixed
 * publish load (singles and batches, every domain) at a fixed rate, then every connection dropped at
 * once. Everything is bounded in time and cleaned up.
 */
export interface LoadOptions {
  connections: number;
  clientProcs: number;
  eventsPerSecond: number;
  seconds: number;
  samplers?: number;
  fileLimit?: number;
  log?: (line: string) => void;
}

export interface LoadResult {
  connections: number;
  connected: number;
  failed: number;
  connectMs: number;
  rssIdleMb: number;
  rssConnectedMb: number;
  rssPeakMb: number;
  rssAfterDropMb: number;
  published: number;
  publishErrors: number;
  achievedPerSecond: number;
  ackP50: number;
  ackP99: number;
  deliverP50: number | null;
  deliverP99: number | null;
  deliverMax: number | null;
  latencySamples: number;
  delivered: number;
  closedEarly: number;
  dropToZeroMs: number;
  connectionsAfterDrop: number;
  /** Hub CPU use during the publish phase, in cores (1.0 = one core busy). */
  hubCpuCores: number;
}

/** user+system CPU seconds of a process (Linux /proc; clock ticks assumed 100/s). */
function cpuSecondsOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ClientProc {
  proc: ChildProcess;
  last: Record<string, unknown>;
  wait(type: string, timeoutMs: number): Promise<Record<string, unknown>>;
  send(cmd: string): void;
}

function spawnClients(url: string, n: number, offset: number, samplers: number, fileLimit: number): ClientProc {
  const proc = spawn('bash', ['-c', `ulimit -n ${fileLimit} && exec "$0" "$@"`, process.execPath, 'bin/run-ts.js', 'bench/load-clients.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOAD_URL: url, LOAD_TOKEN: ADMIN, LOAD_CONNECTIONS: String(n), LOAD_SAMPLES: String(samplers), LOAD_OFFSET: String(offset) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const waiters: { type: string; resolve: (o: Record<string, unknown>) => void }[] = [];
  const c: ClientProc = {
    proc,
    last: {},
    wait(type, timeoutMs) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`load client: no ${type} in ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          type,
          resolve: (o) => {
            clearTimeout(t);
            resolve(o);
          },
        });
      });
    },
    send(cmd) {
      proc.stdin!.write(cmd + '\n');
    },
  };
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line);
    } catch {
      return;
    }
    c.last = o;
    for (const w of waiters.splice(0)) {
      if (o.type === w.type) w.resolve(o);
      else waiters.push(w);
    }
  });
  return c;
}

async function stats(url: string): Promise<{ connections: { total: number } }> {
  const r = await fetch(`${url}/v1/stats`, { headers: { authorization: `Bearer ${ADMIN}` } });
  return r.json() as Promise<{ connections: { total: number } }>;
}

const DOMAINS = ['s', 't', 'p', 'm', 'x'] as const;
function mixedEvent(i: number, stores: number) {
  const time = new Date().toISOString();
  const store_id = `s${i % stores}`;
  switch (DOMAINS[i % DOMAINS.length]) {
    case 's':
      return { type: 'store.order.created', store_id, time, data: { order_id: `o${i}`, items: [{ name: 'Bibimbap', quantity: 1, price: 12 }], total: 12 } };
    case 't':
      return { type: 'trading.order.updated', user_id: 'u1', strategy_id: String(i % 7), store_id, time, data: { order_id: `t${i % 5000}`, symbol: 'BTC/USDT', side: 'BUY', order_type: 'LIMIT', quantity: 0.01, price: 95000, status: 'NEW', account: { account_id: 1, name: 'Main', exchange: 'BINANCE' } } };
    case 'p':
      return { type: 'trading.position.updated', user_id: 'u1', strategy_id: String(i % 7), store_id, time, data: { position_id: `p${i % 500}`, symbol: 'ETH/USDT', quantity: 1.5, previous_quantity: 1, entry_price: 3100, account: { account_id: 1, name: 'Main', exchange: 'BYBIT' } } };
    case 'm':
      return { type: 'mail.email.new', user_id: 'u1', store_id, time, data: { email_id: `m${i}`, from: 'supplier@example.com', subject: 'Invoice', snippet: 'Please find attached', folder: 'INBOX' } };
    default:
      return { type: 'x.load.tick', store_id, time, data: { i } };
  }
}

/** A publisher at a fixed rate: every 20 ms, a mix of single publishes and batches. */
export async function publishLoad(url: string, eventsPerSecond: number, seconds: number, stores = 200) {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const post = (body: unknown) =>
    new Promise<{ status: number; ms: number }>((resolve) => {
      const t0 = performance.now();
      const payload = JSON.stringify(body);
      const req = request(`${url}/v1/events`, { method: 'POST', agent, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
      });
      req.on('error', () => resolve({ status: 0, ms: performance.now() - t0 }));
      req.end(payload);
    });
  const tickMs = 20;
  const perTick = Math.max(1, Math.round((eventsPerSecond * tickMs) / 1000));
  const acks: number[] = [];
  let published = 0;
  let errors = 0;
  let n = 0;
  const inflight = new Set<Promise<void>>();
  const start = performance.now();
  const end = start + seconds * 1000;
  for (let tick = 0; performance.now() < end; tick++) {
    // Alternate: all singles, one batch, two half batches.
    const shape = tick % 3;
    const groups: unknown[] = [];
    if (shape === 0) for (let k = 0; k < perTick; k++) groups.push(mixedEvent(n++, stores));
    else if (shape === 1) groups.push(Array.from({ length: perTick }, () => mixedEvent(n++, stores)));
    else {
      const half = Math.ceil(perTick / 2);
      groups.push(Array.from({ length: half }, () => mixedEvent(n++, stores)));
      groups.push(Array.from({ length: perTick - half }, () => mixedEvent(n++, stores)));
    }
    for (const g of groups) {
      const count = Array.isArray(g) ? g.length : 1;
      const p = post(g).then(({ status, ms }) => {
        if (status === 201) {
          published += count;
          acks.push(ms);
        } else errors += count;
      });
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
    const due = start + (tick + 1) * tickMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
  }
  await Promise.all(inflight);
  agent.destroy();
  const elapsed = (performance.now() - start) / 1000;
  acks.sort((a, b) => a - b);
  return { published, errors, perSecond: published / elapsed, ackP50: percentile(acks, 50), ackP99: percentile(acks, 99) };
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const log = o.log ?? (() => {});
  const fileLimit = o.fileLimit ?? 20_000;
  const dir = mkdtempSync(join(tmpdir(), 'relaydesk-load-'));
  let hub: ChildHub | undefined;
  const clients: ClientProc[] = [];
  try {
    hub = await spawnCliHub({ db: join(dir, 'hub.db'), args: ['--rate-limit', '0'], fileLimit });
    const url = hub.url;
    await sleep(500);
    const rssIdle = rssOf(hub.pid);
    log(`hub ${url} pid ${hub.pid}, idle RSS ${mb(rssIdle)} MB`);

    const t0 = Date.now();
    const per = Math.ceil(o.connections / o.clientProcs);
    for (let k = 0; k < o.clientProcs; k++) {
      const n = Math.min(per, o.connections - k * per);
      clients.push(spawnClients(url, n, k * per, k === 0 ? (o.samplers ?? 10) : 0, fileLimit));
    }
    const progress = await Promise.all(clients.map((c) => waitDone(c, 300_000)));
    const connected = progress.reduce((s, p) => s + Number(p.connected), 0);
    const failed = progress.reduce((s, p) => s + Number(p.failed), 0);
    // The hub's own count is the truth.
    const deadline = Date.now() + 30_000;
    let total = 0;
    while (Date.now() < deadline && (total = (await stats(url)).connections.total) < connected) await sleep(200);
    const connectMs = Date.now() - t0;
    await sleep(1000);
    const rssConnected = rssOf(hub.pid);
    log(`${total} connections open in ${connectMs} ms (${failed} failed), RSS ${mb(rssConnected)} MB`);

    let rssPeak = rssConnected;
    const cpu0 = cpuSecondsOf(hub.pid);
    const wall0 = Date.now();
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssOf(hub!.pid))), 250);
    const pub = await publishLoad(url, o.eventsPerSecond, o.seconds);
    const hubCpu = (cpuSecondsOf(hub.pid) - cpu0) / ((Date.now() - wall0) / 1000);
    clearInterval(sampler);
    // Wait (bounded) until the samplers have every published event, so delivery is checked complete.
    const wanted = pub.published * (o.samplers ?? 10);
    let reports: Record<string, unknown>[] = [];
    const until = Date.now() + 30_000;
    do {
      await sleep(500);
      for (const c of clients) c.send('report');
      reports = await Promise.all(clients.map((c) => c.wait('report', 30_000)));
    } while (Number(reports[0]!.samples) < wanted && Date.now() < until);
    const r0 = reports[0]!;
    log(`published ${pub.published} (${pub.perSecond.toFixed(0)}/s), deliver p50 ${r0.p50} ms p99 ${r0.p99} ms, peak RSS ${mb(rssPeak)} MB`);

    const tDrop = Date.now();
    for (const c of clients) c.send('drop');
    let after = -1;
    const dropDeadline = Date.now() + 60_000;
    while (Date.now() < dropDeadline && (after = (await stats(url)).connections.total) > 0) await sleep(100);
    const dropToZeroMs = Date.now() - tDrop;
    await sleep(3000);
    const rssAfter = rssOf(hub.pid);
    log(`all dropped: connections ${after} after ${dropToZeroMs} ms, RSS ${mb(rssAfter)} MB`);
    return {
      connections: o.connections,
      connected: total,
      failed,
      connectMs,
      rssIdleMb: mb(rssIdle),
      rssConnectedMb: mb(rssConnected),
      rssPeakMb: mb(rssPeak),
      rssAfterDropMb: mb(rssAfter),
      published: pub.published,
      publishErrors: pub.errors,
      achievedPerSecond: Math.round(pub.perSecond),
      ackP50: Math.round(pub.ackP50 * 10) / 10,
      ackP99: Math.round(pub.ackP99 * 10) / 10,
      deliverP50: r0.p50 as number | null,
      deliverP99: r0.p99 as number | null,
      deliverMax: r0.max as number | null,
      latencySamples: Number(r0.samples),
      delivered: reports.reduce((s, r) => s + Number(r.delivered), 0),
      closedEarly: reports.reduce((s, r) => s + Number(r.closedEarly), 0),
      dropToZeroMs,
      connectionsAfterDrop: after,
      hubCpuCores: Math.round(hubCpu * 100) / 100,
    };
  } finally {
    for (const c of clients) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
    await hub?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

function waitDone(c: ClientProc, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const end = Date.now() + timeoutMs;
    const check = () => {
      if (c.last.type === 'progress' && c.last.done) return resolve(c.last);
      if (c.proc.exitCode !== null) return reject(new Error('load client exited early'));
      if (Date.now() > end) return reject(new Error('load client did not finish connecting'));
      setTimeout(check, 100);
    };
    check();
  });
}
