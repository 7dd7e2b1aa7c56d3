import { connect, type Socket } from 'node:net';

const READ_BUFFER = Buffer.alloc(256 * 1024);
const LF2 = Buffer.from('\n\n');

/**
 * A minimal SSE reader on a raw socket: counts frames (blank-line terminators) without parsing,
 * so 1,000 of them cost the load generator little. Sampled readers also parse `data:` lines.
 */
export class RawSse {
  frames = 0;
  bytes = 0;
  private last = 0;
  private carry = '';
  socket: Socket;
  connected: Promise<void>;
  onData?: (json: string) => void;

  constructor(url: string, path: string) {
    const u = new URL(url);
    // Reads land in one buffer shared by every reader in the process (callbacks run one at a time),
    // so a read allocates nothing.
    this.socket = connect({ host: u.hostname, port: Number(u.port), onread: { buffer: READ_BUFFER, callback: (n) => (this.read(READ_BUFFER.subarray(0, n)), true) } });
    this.socket.setNoDelay(true);
    this.connected = new Promise((res, rej) => {
      this.socket.once('connect', () => res());
      this.socket.once('error', rej);
    });
    this.socket.on('error', () => {});
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nAccept: text/event-stream\r\n\r\n`);
  }

  private read(buf: Buffer): void {
    this.bytes += buf.length;
    if (this.last === 10 && buf[0] === 10) this.frames++;
    let i = -1;
    while ((i = buf.indexOf(LF2, i + 1)) !== -1) this.frames++;
    this.last = buf[buf.length - 1]!;
    if (this.onData) {
      const text = this.carry + buf.toString('utf8');
      const lines = text.split('\n');
      this.carry = lines.pop()!;
      for (const l of lines) if (l.startsWith('data: {"seq"')) this.onData(l.slice(6));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** `n` counting readers; `__K__` in the path becomes each reader's index (from `first`). */
export async function openClients(url: string, path: string, n: number, batch = 500, first = 0): Promise<RawSse[]> {
  const out: RawSse[] = [];
  for (let i = 0; i < n; i += batch) {
    const group = Array.from({ length: Math.min(batch, n - i) }, (_, j) => new RawSse(url, path.replaceAll('__K__', String(first + i + j))));
    await Promise.all(group.map((c) => c.connected));
    out.push(...group);
  }
  return out;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
