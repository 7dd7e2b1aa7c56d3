import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const BENCH_ADMIN = 'bench-admin-token';
const ROOT = resolve(import.meta.dirname, '../..');

export interface HubProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  dir: string;
  rssMB(): number;
  /** CPU seconds (user + system) the hub process has used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** The real CLI hub in its own process, so its CPU and memory are measured apart from the load generator. */
export async function spawnHub(args: string[] = []): Promise<HubProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'relaydesk-bench-'));
  const child = spawn(process.execPath, [join(ROOT, 'bin/relaydesk.js'), 'serve', '--port', '0', '--db', join(dir, 'bench.db'), '--log-level', 'warn', '--rate-limit', '0', '--heartbeat-ms', '60000', ...args], {
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
    cpuSeconds: () => {
      const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(f[11]) + Number(f[12])) / 100;
    },
    rssMB: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
