import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

/** `n` counting SSE readers spread over `procs` child processes. */
export async function workerClients(url: string, path: string, n: number, procs = 2) {
  let first = 0;
  const children = Array.from({ length: procs }, (_, i) => {
    const count = Math.floor(n / procs) + (i < n % procs ? 1 : 0);
    first += count;
    return fork(resolve(import.meta.dirname, '../../bin/run-ts.js'), [resolve(import.meta.dirname, 'sse-worker.ts'), url, path, String(count), String(first - count)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  });
  await Promise.all(children.map((c) => new Promise((res, rej) => (c.once('message', res), c.once('error', rej), c.once('exit', (code) => rej(new Error(`reader exited ${code}`)))))));
  const ask = (c: ChildProcess, m: string) => new Promise<unknown>((res) => (c.once('message', res), c.send(m)));
  return {
    /** The fewest frames any reader has received. */
    async minFrames(): Promise<number> {
      return Math.min(...((await Promise.all(children.map((c) => ask(c, 'count')))) as number[]));
    },
    /** CPU seconds used so far by all reader processes. */
    async cpuSeconds(): Promise<number> {
      return ((await Promise.all(children.map((c) => ask(c, 'cpu')))) as number[]).reduce((a, b) => a + b, 0);
    },
    async close() {
      for (const c of children) c.removeAllListeners('exit');
      await Promise.all(children.map((c) => ask(c, 'close')));
    },
  };
}
