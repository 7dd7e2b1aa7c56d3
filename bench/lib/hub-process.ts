import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { withFileLimit } from './mass-subscribers.ts';

export const BENCH_ADMIN = 'bench-admin-token';
const ROOT = resolve(import.meta.dirname, '../..');

/** A server under test in its own process, so its CPU and memory are measured apart from the load generator. */
export interface ServerProcess {
  url: string;
  rssMB(): number;
  /** CPU seconds (user + system) the process has used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export interface HubProcess extends ServerProcess {
  pid: number;
  child: ChildProcess;
  dir: string;
}

function procStats(pid: number) {
  return {
    cpuSeconds: () => {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(f[11]) + Number(f[12])) / 100;
    },
    rssMB: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024,
  };
}

export interface SpawnOptions {
  /**
   * Open-file limit for the server process: `max` raises the soft limit to the hard one (the most an
   * unprivileged process may hold), a number sets it. Unset: the inherited limit.
   */
  fileLimit?: number | 'max';
}

/** argv for `program args…`, run under a raised file limit when asked. */
function command(opts: SpawnOptions, argv: string[]): [string, string[]] {
  if (opts.fileLimit === undefined) return [argv[0]!, argv.slice(1)];
  const [sh, ...pre] = withFileLimit(opts.fileLimit);
  return [sh!, [...pre, ...argv]];
}

/** The bare Node SSE server of bench/lib/bare-sse-server.ts (a baseline), with its flags. */
export async function spawnBareServer(args: string[] = [], opts: SpawnOptions = {}): Promise<ServerProcess & { pid: number }> {
  const child = spawn(...command(opts, [process.execPath, join(ROOT, 'bin/run-ts.js'), join(ROOT, 'bench/lib/bare-sse-server.ts'), ...args]), { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((res, rej) => {
    child.stdout!.on('data', (c: Buffer) => {
      const m = /listening on (\S+)/.exec(c.toString());
      if (m) res(m[1]!);
    });
    child.on('exit', (code) => rej(new Error(`bare server exited ${code}`)));
  });
  return {
    url,
    pid: child.pid!,
    ...procStats(child.pid!),
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/**
 * The checkout whose hub the scenarios start: this one, or BENCH_HUB_ROOT=<another checkout>, so the
 * same load generator measures an older hub (a before/after comparison with identical clients).
 */
const HUB_ROOT = process.env.BENCH_HUB_ROOT ? resolve(process.env.BENCH_HUB_ROOT) : ROOT;

/**
 * The real CLI hub in its own process, so its CPU and memory are measured apart from the load
 * generator. `root` runs another checkout's hub (a before/after comparison in one run).
 */
export async function spawnHub(args: string[] = [], root = HUB_ROOT, opts: SpawnOptions & { heartbeatMs?: number } = {}): Promise<HubProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'relaydesk-bench-'));
  const argv = [process.execPath, join(root, 'bin/relaydesk.js'), 'serve', '--port', '0', '--db', join(dir, 'bench.db'), '--log-level', 'warn', '--rate-limit', '0', '--heartbeat-ms', String(opts.heartbeatMs ?? 60_000), ...args];
  const child = spawn(...command(opts, argv), {
    env: { ...process.env, RELAYDESK_ADMIN_TOKEN: BENCH_ADMIN },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((res, rej) => {
    let out = '';
    const t = setTimeout(() => rej(new Error(`hub did not start: ${out}`)), 20_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        res(m[1]!);
      }
    });
    child.on('exit', (code) => rej(new Error(`hub exited ${code}: ${out}`)));
  });
  child.stdout!.resume();
  return {
    url,
    pid: child.pid!,
    child,
    dir,
    ...procStats(child.pid!),
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
