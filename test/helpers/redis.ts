import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { freePort } from './hub.ts';

export { freePort };
import { join } from 'node:path';

export const REDIS_BIN = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

/** Servers still running when the test process exits (a crashed or timed-out suite) are killed. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/** One PING over a raw socket: true when the server answers +PONG. */
function ping(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      clearTimeout(t);
      sock.destroy();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), timeoutMs);
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

export interface TestRedis {
  port: number;
  url: string;
  dir: string;
  /** SIGKILL: no shutdown save, no goodbye to clients. */
  kill(): Promise<void>;
  /** Start again on the same port and data folder (AOF is reloaded when enabled). */
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly running: boolean;
}

/**
 * A real redis-server on a free loopback port with its own data folder. With `aof` (default) every
 * write is fsynced before the reply (appendfsync always), so a SIGKILL loses nothing acknowledged.
 */
export async function startRedis(opts: { aof?: boolean; port?: number; fsync?: string; args?: string[] } = {}): Promise<TestRedis> {
  const aof = opts.aof ?? true;
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'relaydesk-redis-'));
  let proc: ChildProcess | undefined;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, '--appendonly', aof ? 'yes' : 'no', '--appendfsync', opts.fsync ?? 'always', '--loglevel', 'warning', ...(opts.args ?? [])];
  const launch = async () => {
    const p = spawn(REDIS_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    proc = p;
    live.add(p);
    p.once('exit', () => live.delete(p));
    let stderr = '';
    p.stderr!.on('data', (d) => (stderr += d));
    const end = Date.now() + 10_000;
    for (;;) {
      if (p.exitCode !== null) throw new Error(`redis-server exited with ${p.exitCode}: ${stderr}`);
      if (await ping(port)) return;
      if (Date.now() > end) throw new Error(`redis-server on ${port} did not answer within 10 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const kill = async () => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    kill,
    start: launch,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    get running() {
      return !!proc && proc.exitCode === null;
    },
  };
}
