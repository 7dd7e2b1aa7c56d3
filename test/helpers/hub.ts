import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hub } from '../../electron/hub/hub.ts';
import type { EngineFactory } from '../../electron/hub/engine.ts';
import type { HubOptions } from '../../electron/hub/config.ts';
import type { HubEvent } from '../../shared/events.ts';
import { checkContract } from './contract.ts';

export const ADMIN = 'test-admin-token';

export interface TestHub {
  hub: Hub;
  url: string;
  dbFile: string;
  dir: string;
  /** Close and start again on the same database (and the same port when possible). */
  restart(overrides?: Partial<HubOptions>): Promise<void>;
  stop(): Promise<void>;
}

/** A real hub on an ephemeral loopback port with a real SQLite file in a fresh temp folder. */
export async function startTestHub(opts: Partial<HubOptions> = {}, engineFactory?: EngineFactory): Promise<TestHub> {
  const dir = mkdtempSync(join(tmpdir(), 'relaydesk-test-'));
  const dbFile = opts.dbFile ?? join(dir, 'hub.db');
  const base: Partial<HubOptions> = { port: 0, dbFile, adminToken: ADMIN, logLevel: 'silent', ...opts };
  let hub = await Hub.start(base, { engineFactory });
  // Kept from the start so a restart works even after the test closed the hub itself (an outage).
  let port = hub.port;
  const t: TestHub = {
    get hub() {
      return hub;
    },
    get url() {
      return hub.url;
    },
    dbFile,
    dir,
    async restart(overrides = {}) {
      await hub.close();
      hub = await Hub.start({ ...base, port, ...overrides }, { engineFactory });
      port = hub.port;
    },
    async stop() {
      await hub.close();
      rmSync(dir, { recursive: true, force: true });
    },
  } as TestHub;
  return t;
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** JSON over real HTTP. */
export async function api<T = any>(url: string, path: string, init: { method?: string; token?: string | null; body?: unknown; headers?: Record<string, string>; raw?: string | Buffer } = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (init.token !== null) headers.authorization ??= `Bearer ${init.token ?? ADMIN}`;
  let body: string | Buffer | undefined;
  if (init.raw !== undefined) body = init.raw;
  else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const method = init.method ?? (body !== undefined ? 'POST' : 'GET');
  // fetch pools keep-alive sockets, and after a hub restart every pooled one may be stale: each fails
  // once with "other side closed" and leaves the pool. A read is sent again until a fresh connection
  // takes it; a write only once more (a test never writes while its hub is closing, so a failed write
  // went out on a stale socket and never reached the hub).
  const attempts = method === 'GET' || method === 'HEAD' || method === 'DELETE' ? 4 : 2;
  let res: Response | undefined;
  for (let attempt = 1; !res; attempt++) {
    try {
      res = await fetch(url + path, { method, headers, body: body as BodyInit | undefined });
    } catch (err) {
      const code = (err as { cause?: { code?: string } }).cause?.code;
      if ((code !== 'UND_ERR_SOCKET' && code !== 'ECONNRESET') || attempt >= attempts) throw err;
    }
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON (metrics, html) */
  }
  checkContract(method, path, res.status, parsed, res.headers.get('content-type'));
  return { status: res.status, body: parsed as T, headers: res.headers };
}

/**
 * Every page of a cursor-paged GET (`/v1/events`, `/v1/state/:view`), walked the way a client would:
 * `next_cursor` back as `cursor` (same `order`) until it is null (bounded). `from` resumes a walk.
 */
export async function allPages<T extends { next_cursor: string | null }>(
  url: string,
  path: string,
  token?: string,
  { order = 'asc', from = null, maxPages = 500 }: { order?: 'asc' | 'desc'; from?: string | null; maxPages?: number } = {},
): Promise<T[]> {
  const out: T[] = [];
  let cursor = from;
  for (let i = 0; i < maxPages; i++) {
    const r: ApiResponse<T> = await api<T>(url, `${path}${path.includes('?') ? '&' : '?'}order=${order}${cursor !== null ? `&cursor=${cursor}` : ''}`, { token });
    if (r.status !== 200) throw new Error(`page of ${path} failed: ${r.status} ${JSON.stringify(r.body)}`);
    out.push(r.body);
    if (!r.body.next_cursor) return out;
    cursor = r.body.next_cursor;
  }
  throw new Error(`${path} has more than ${maxPages} pages`);
}

/** Every event the token may see, oldest first, paged through GET /v1/events. */
export async function allEvents(url: string, token?: string, maxPages = 500): Promise<HubEvent[]> {
  return (await allPages<{ events: HubEvent[]; next_cursor: string | null }>(url, '/v1/events?limit=1000', token, { maxPages })).flatMap((p) => p.events);
}

export async function publish(url: string, events: unknown, token?: string) {
  return api(url, '/v1/events', { body: events, token });
}

export async function createToken(url: string, role: 'publisher' | 'subscriber' | 'operator' | 'admin', scope: Record<string, unknown> = {}, label?: string): Promise<string> {
  const r = await api(url, '/v1/tokens', { body: { role, scope, label } });
  if (r.status !== 201) throw new Error(`token create failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.token as string;
}

/** A loopback port that was free a moment ago (nothing listens on it until someone binds it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until `check` returns a truthy value or the deadline passes (bounded: never hangs a test). */
export async function until<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000, everyMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
