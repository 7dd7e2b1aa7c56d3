import { spawn, type ChildProcess } from 'node:child_process';
import { request, Agent, type IncomingMessage } from 'node:http';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ADMIN } from './hub.ts';

export const ROOT = resolve(import.meta.dirname, '../..');

/** Seeded PRNG (mulberry32) so a failing fuzz or isolation run reproduces from its seed. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}
export type Rng = ReturnType<typeof prng>;

export interface ChildHub {
  url: string;
  proc: ChildProcess;
  pid: number;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * The real CLI hub as a child process (`relaydesk serve --port 0`), its URL parsed from stdout line 1.
 * `fileLimit` runs it under `bash -c 'ulimit -n N; exec node ...'` for the load tests.
 */
export async function spawnCliHub(opts: { db: string; args?: string[]; env?: Record<string, string>; fileLimit?: number; timeoutMs?: number }): Promise<ChildHub> {
  const nodeArgs = ['bin/relaydesk.js', 'serve', '--port', '0', '--db', opts.db, '--log-level', 'warn', ...(opts.args ?? [])];
  const env = { ...process.env, RELAYDESK_ADMIN_TOKEN: ADMIN, ...opts.env };
  const proc = opts.fileLimit
    ? spawn('bash', ['-c', `ulimit -n ${opts.fileLimit} && exec "$0" "$@"`, process.execPath, ...nodeArgs], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, nodeArgs, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const exited = new Promise<number | null>((res) => proc.once('close', (code) => res(code)));
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => stderr.push(c));
  const url = await new Promise<string>((res, rej) => {
    let buf = '';
    const timer = setTimeout(() => rej(new Error(`hub did not start in time; stderr: ${stderr.join('')}`)), opts.timeoutMs ?? 20_000);
    proc.stdout!.setEncoding('utf8').on('data', (c: string) => {
      stdout.push(c);
      buf += c;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        const m = /listening on (http:\/\/\S+)/.exec(buf.slice(0, nl));
        clearTimeout(timer);
        if (m) res(m[1]!);
        else rej(new Error(`unexpected first line: ${buf.slice(0, nl)}`));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`hub exited (${code}) before listening; stderr: ${stderr.join('')}`));
    });
  });
  return {
    url,
    proc,
    pid: proc.pid!,
    stdout,
    stderr,
    exited,
    async kill(signal = 'SIGKILL') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}

/** Resident set size of a process in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Open the hub's SQLite file read-only (WAL lets us read while the hub writes). */
export function openLogReadOnly(file: string) {
  return new Database(file, { readonly: true, fileMustExist: true });
}

export interface SseFrame {
  /** The seq of the frame's id; `epoch` is the rest of an id `<seq>@<epoch>`. */
  id?: number;
  epoch?: string;
  event?: string;
  data?: unknown;
  comments: string[];
  retry?: number;
}

/**
 * Strict SSE parser for the hub's framing: each block is optional `: comment` lines, an optional
 * `retry: N`, an optional `id: N`, an optional `event: name`, then at most one `data: <JSON>` line,
 * ended by a blank line. Anything else (a stray line, a split JSON, a CR, a field out of order) is a
 * violation. A trailing partial block is returned as `rest` (it may still be arriving).
 */
export function parseSseStrict(text: string): { frames: SseFrame[]; violations: string[]; rest: string } {
  const frames: SseFrame[] = [];
  const violations: string[] = [];
  if (text.includes('\r')) violations.push('CR in stream');
  if (text.includes('\0')) violations.push('NUL in stream');
  const end = text.lastIndexOf('\n\n');
  const complete = end >= 0 ? text.slice(0, end) : '';
  const rest = end >= 0 ? text.slice(end + 2) : text;
  if (!complete) return { frames, violations, rest };
  for (const block of complete.split('\n\n')) {
    const f: SseFrame = { comments: [] };
    let stage = 0; // 0 comments/retry, 1 id, 2 event, 3 data
    for (const line of block.split('\n')) {
      if (line.startsWith(': ')) {
        if (stage > 0) violations.push(`comment after fields: ${JSON.stringify(block.slice(0, 200))}`);
        f.comments.push(line.slice(2));
      } else if (line.startsWith('retry: ') && stage === 0 && /^retry: \d+$/.test(line)) {
        f.retry = Number(line.slice(7));
      } else if (line.startsWith('id: ') && stage < 1 && /^id: \d{1,15}(@[A-Za-z0-9_-]{1,32})?$/.test(line)) {
        // `<seq>@<epoch>`: the seq is what the checks compare, the epoch is kept beside it.
        const [seq, epoch] = line.slice(4).split('@');
        f.id = Number(seq);
        if (epoch !== undefined) f.epoch = epoch;
        stage = 1;
      } else if (line.startsWith('event: ') && stage < 2 && /^event: [a-z][a-z0-9_]*(\.[a-z0-9_-]+)*$/.test(line)) {
        f.event = line.slice(7);
        stage = 2;
      } else if (line.startsWith('data: ') && stage < 3) {
        try {
          f.data = JSON.parse(line.slice(6));
        } catch {
          violations.push(`data is not one JSON line: ${JSON.stringify(line.slice(0, 200))}`);
        }
        stage = 3;
      } else {
        violations.push(`unexpected line ${JSON.stringify(line.slice(0, 200))} in block ${JSON.stringify(block.slice(0, 300))}`);
      }
    }
    if (f.id !== undefined && f.data === undefined) violations.push(`id without data: ${JSON.stringify(block.slice(0, 200))}`);
    frames.push(f);
  }
  return { frames, violations, rest };
}

/** A raw SSE reader that keeps bytes and can pause, resume or vanish. */
export interface RawSse {
  ready: Promise<IncomingMessage>;
  readonly text: string;
  readonly status: number;
  readonly ended: boolean;
  res?: IncomingMessage;
  parse(): ReturnType<typeof parseSseStrict>;
  /** Domain events (frames with an id and a seq in the data) received so far. */
  events(): { seq: number; id: string; type: string; store_id: string | null; user_id: string | null; strategy_id: string | null; data: Record<string, unknown> }[];
  destroy(): void;
}

export function openRawSse(base: string, path: string, opts: { token?: string | null; headers?: Record<string, string>; agent?: Agent } = {}): RawSse {
  const chunks: string[] = [];
  let status = 0;
  let ended = false;
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? ADMIN}`;
  const req = request(new URL(path, base), { headers, agent: opts.agent });
  const out: RawSse = {
    ready: new Promise((res, rej) => {
      req.on('response', (r) => {
        status = r.statusCode ?? 0;
        out.res = r;
        r.setEncoding('utf8');
        r.on('data', (c: string) => chunks.push(c));
        r.on('end', () => (ended = true));
        r.on('close', () => (ended = true));
        r.on('error', () => (ended = true));
        res(r);
      });
      req.on('error', (e) => {
        ended = true;
        rej(e);
      });
    }),
    get text() {
      return chunks.join('');
    },
    get status() {
      return status;
    },
    get ended() {
      return ended;
    },
    parse() {
      return parseSseStrict(chunks.join(''));
    },
    events() {
      return out
        .parse()
        .frames.filter((f) => f.id !== undefined && f.data && typeof (f.data as { seq?: unknown }).seq === 'number' && f.event !== 'initial')
        .map((f) => f.data as ReturnType<RawSse['events']>[number]);
    },
    destroy() {
      req.destroy();
    },
  };
  out.ready.catch(() => {});
  req.end();
  return out;
}

/** Force a full GC when the runtime allows it (vitest workers do not pass --expose-gc). */
export async function collectGarbage(): Promise<void> {
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export interface RawReply {
  status: number;
  // Whatever the hub answered: parsed JSON when it is JSON, the text otherwise, null for a stream.
  body: any;
  headers: Record<string, unknown>;
}

/**
 * One request over node:http, because fetch() will not let a test set Host, send HEAD with a body
 * reader or a body with any content type. An event stream's answer is cut after its headers.
 */
export function rawRequest(base: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = request(base + path, { method, agent: false, headers: { ...headers, ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } });
    req.on('response', (res) => {
      if ((res.headers['content-type'] ?? '').includes('text/event-stream')) {
        req.destroy();
        return resolve({ status: res.statusCode ?? 0, body: null, headers: res.headers });
      }
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => {
        let b: unknown = text;
        try {
          b = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, body: b, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
