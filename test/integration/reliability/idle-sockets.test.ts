import { describe, it, expect, afterEach } from 'vitest';
import { connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCliHub, type ChildHub } from '../../helpers/reliability.ts';
import { ADMIN, until } from '../../helpers/hub.ts';

/**
 * Idle sockets must not lock out a real publisher: the hub runs under `ulimit -n 1024`, a client
 * opens 1,100 TCP connections that never send a byte, and a publish must still be acknowledged.
 * Before the fix every new request failed (EMFILE) for as long as the idle sockets stayed open.
 */
let hub: ChildHub | undefined;
let dir: string | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.length = 0;
  await hub?.kill();
  hub = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function openIdle(url: string, n: number): Promise<{ connected: number; closedByHub: () => number }> {
  const { port } = new URL(url);
  let connected = 0;
  let closed = 0;
  let settled = 0;
  for (let i = 0; i < n; i++) {
    const s = connect(Number(port), '127.0.0.1');
    s.on('connect', () => connected++);
    s.on('error', () => undefined);
    s.on('close', () => closed++);
    const done = () => settled++;
    s.once('connect', done);
    s.once('error', done);
    sockets.push(s);
  }
  await until(() => settled >= n, `${n} sockets to connect (${settled} so far)`, 30_000, 50);
  return { connected, closedByHub: () => closed };
}

describe('idle sockets', () => {
  it('1,100 idle sockets under a 1,024-descriptor limit do not lock out a publisher', async () => {
    dir = mkdtempSync(join(tmpdir(), 'relaydesk-idle-'));
    hub = await spawnCliHub({ db: join(dir, 'hub.db'), fileLimit: 1024 });
    const idle = await openIdle(hub.url, 1100);
    expect(idle.connected).toBe(1100); // the kernel accepted them all (backlog): they occupy the hub

    // A real publisher, bounded: a few attempts, each with its own deadline.
    let status = 0;
    let tookMs = 0;
    for (let attempt = 0; attempt < 5 && status !== 201; attempt++) {
      const started = Date.now();
      try {
        const r = await fetch(`${hub.url}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'x.idle.probe', data: { attempt } }),
          signal: AbortSignal.timeout(5_000),
        });
        status = r.status;
        tookMs = Date.now() - started;
      } catch {
        /* refused or timed out: try again */
      }
    }
    expect(status).toBe(201);
    // The hub made room by closing idle sockets (oldest first), not by dying or refusing the publisher.
    await until(() => idle.closedByHub() >= 1100 - 960, 'the hub to close idle sockets past its cap', 10_000, 50);
    console.log(`idle sockets: ${idle.closedByHub()} of 1,100 closed by the hub to stay under its cap; publish answered ${status} in ${tookMs} ms`);
    expect(hub.proc.exitCode).toBeNull();
  });

  it('closes a socket that never sends a request head', async () => {
    dir = mkdtempSync(join(tmpdir(), 'relaydesk-idle-'));
    hub = await spawnCliHub({ db: join(dir, 'hub.db') });
    const { port } = new URL(hub.url);
    const s = connect(Number(port), '127.0.0.1');
    sockets.push(s);
    let got = '';
    s.setEncoding('utf8').on('data', (c: string) => (got += c));
    s.on('error', () => undefined);
    const opened = Date.now();
    await new Promise<void>((res) => s.once('connect', () => res()));
    s.write('GET /v1/whoami HTTP/1.1\r\nHost: localhost\r\n'); // half a head, then silence
    const closed = await new Promise<boolean>((res) => {
      const bound = setTimeout(() => res(false), 30_000);
      s.once('close', () => {
        clearTimeout(bound);
        res(true);
      });
    });
    expect(closed).toBe(true);
    console.log(`half-sent request head: socket closed by the hub after ${((Date.now() - opened) / 1000).toFixed(1)} s (${got.split('\r\n')[0] || 'no reply'})`);
    expect(got).toMatch(/^HTTP\/1\.1 408 /);
  });
});
