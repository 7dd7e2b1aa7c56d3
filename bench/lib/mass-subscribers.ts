import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

const ROOT = resolve(import.meta.dirname, '../..');

/** Wall-clock milliseconds with sub-millisecond resolution, comparable between processes. */
export const wallMs = () => performance.timeOrigin + performance.now();

/**
 * The command prefix that raises the open-file limit before running a program: `max` raises the soft
 * limit to the hard one (as far as an unprivileged process can go), a number sets it exactly.
 */
export function withFileLimit(fileLimit: number | 'max'): string[] {
  const set = fileLimit === 'max' ? 'ulimit -Sn "$(ulimit -Hn)"' : `ulimit -n ${fileLimit}`;
  return ['bash', '-c', `${set} && exec "$0" "$@"`];
}

/** The open-file limits of a running process (Linux /proc). */
export function fileLimitsOf(pid: number): { soft: number; hard: number } {
  const m = /Max open files\s+(\d+)\s+(\d+)/.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  return { soft: Number(m?.[1] ?? NaN), hard: Number(m?.[2] ?? NaN) };
}

export interface MassOptions {
  /** Reader processes (each holds its share of the sockets). */
  procs: number;
  /** Local addresses the sockets bind to, round-robin (each has its own ephemeral port range). */
  addresses: string[];
  fileLimit?: number | 'max';
}

type Msg = { type: string; [k: string]: unknown };

interface Worker {
  child: ChildProcess;
  count: number;
  last: Map<string, Msg>;
  next(type: string, timeoutMs?: number): Promise<Msg>;
}

function startWorker(url: string, path: string, count: number, opts: MassOptions): Worker {
  const [cmd, ...pre] = withFileLimit(opts.fileLimit ?? 'max');
  const child = spawn(cmd!, [...pre, process.execPath, resolve(ROOT, 'bin/run-ts.js'), resolve(import.meta.dirname, 'mass-worker.ts'), url, path, String(count), opts.addresses.join(',')], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiters: { type: string; fn: (m: Msg) => void }[] = [];
  const w: Worker = {
    child,
    count,
    last: new Map(),
    next(type, timeoutMs = 600_000) {
      return new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error(`mass worker ${child.pid}: no ${type} in ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ type, fn: (m) => (clearTimeout(t), res(m)) });
      });
    },
  };
  child.on('message', (m: Msg) => {
    w.last.set(m.type, m);
    for (const x of waiters.splice(0)) {
      if (x.type === m.type) x.fn(m);
      else waiters.push(x);
    }
  });
  return w;
}

/**
 * `n` raw SSE subscribers to `url + path`, spread over `procs` child processes and several loopback
 * source addresses: the mass-connection scenario's load generator. Each child raises its own file
 * limit; one process can hold only as many sockets as that allows.
 */
export async function massSubscribers(url: string, path: string, n: number, opts: MassOptions) {
  const workers = Array.from({ length: opts.procs }, (_, i) => startWorker(url, path, Math.floor(n / opts.procs) + (i < n % opts.procs ? 1 : 0), opts));
  await Promise.all(workers.map((w) => Promise.race([w.next('started', 60_000), new Promise((_, rej) => w.child.once('exit', (code) => rej(new Error(`mass worker exited ${code}`))))])));
  const ask = async (type: string, msg: Record<string, unknown>) =>
    Promise.all(
      workers.map((w) => {
        const p = w.next(type, 60_000);
        w.child.send(msg);
        return p;
      }),
    );
  const frames = async () => {
    const r = await ask('frames', { cmd: 'frames' });
    return { min: Math.min(...r.map((m) => m.min as number)), max: Math.max(...r.map((m) => m.max as number)), closed: r.reduce((a, m) => a + (m.closed as number), 0) };
  };
  return {
    pids: workers.map((w) => w.child.pid!),
    fileLimits: () => workers.map((w) => fileLimitsOf(w.child.pid!)),
    /**
     * Open every socket (each child keeps a bounded number connecting at once) and resolve when
     * each has received its first two frames (the `retry:` hint and the `connection` event) or failed.
     */
    async open(timeoutMs: number, onProgress?: (connected: number, failed: number) => void) {
      const t0 = performance.now();
      for (const w of workers) w.child.send({ cmd: 'open' });
      // Progress reports can arrive several in one turn, so this reads the latest rather than waiting for each.
      const progress = (w: Worker) => (w.last.get('progress') ?? { connected: 0, failed: 0 }) as { connected: number; failed: number };
      const sum = () => workers.reduce((a, w) => [a[0]! + progress(w).connected, a[1]! + progress(w).failed], [0, 0]);
      let lastTick = performance.now();
      while (!workers.every((w) => progress(w).connected + progress(w).failed >= w.count)) {
        if (performance.now() - t0 > timeoutMs) throw new Error(`mass subscribers: not all connected in ${timeoutMs} ms (${sum().join(' connected, ')} failed)`);
        if (onProgress && performance.now() - lastTick > 2000) {
          lastTick = performance.now();
          onProgress(...(sum() as [number, number]));
        }
        await new Promise((res) => setTimeout(res, 20));
      }
      const [connected, failed] = sum() as [number, number];
      return { connected, failed, ms: performance.now() - t0 };
    },
    /** Fewest and most frames any open socket has received, and how many sockets have closed. */
    frames,
    /**
     * Time one event to every subscriber: `publish` sends an event carrying the marker it is given;
     * each socket notes the wall-clock moment the marker arrives. Returns the sorted delays (ms, from
     * just before `publish` was called) and how many sockets never saw it within `timeoutMs`.
     */
    async broadcast(publish: (marker: string) => Promise<void>, timeoutMs: number) {
      const marker = `bcast-${randomBytes(6).toString('hex')}`;
      await ask('armed', { cmd: 'arm', marker });
      const t0 = wallMs();
      await publish(marker);
      const ackMs = wallMs() - t0;
      const end = Date.now() + timeoutMs;
      // Poll a count (cheap for the readers, which are still timing arrivals), then fetch the delays once.
      for (;;) {
        await new Promise((res) => setTimeout(res, 250));
        const g = await ask('got', { cmd: 'got' });
        if (g.every((m) => m.missing === 0) || Date.now() > end) break;
      }
      const r = await ask('latencies', { cmd: 'latencies', t0 });
      const ms = r.flatMap((m) => m.ms as number[]).sort((a, b) => a - b);
      return { ms, missing: r.reduce((a, m) => a + (m.missing as number), 0), ackMs };
    },
    /** CPU seconds (user + system) the reader processes have used so far. */
    cpuSeconds: () =>
      workers.reduce((a, w) => {
        const f = readFileSync(`/proc/${w.child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return a + (Number(f[11]) + Number(f[12])) / 100;
      }, 0),
    async close() {
      await Promise.all(
        workers.map(async (w) => {
          const exited = new Promise((res) => w.child.once('exit', res));
          const p = w.next('closed', 30_000).catch(() => w.child.kill('SIGKILL'));
          w.child.send({ cmd: 'close' });
          await p;
          await exited;
        }),
      );
    },
  };
}
