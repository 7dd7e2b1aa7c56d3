import { SignJWT } from 'jose';
import { EventSource } from 'eventsource';
import { until } from './hub.ts';

/** The reference hub's documented default key (what its examples and conformance suite sign with). */
export const MERCURE_KEY = '!ChangeThisMercureHubJWTSecretKey!';
export const HUB_PATH = '/.well-known/mercure';

export interface MercureClaimsIn {
  publish?: string[];
  subscribe?: string[];
  payload?: unknown;
}

/** A signed Mercure JWT (HS256 with `key` unless told otherwise). */
export async function mercureJwt(claims: MercureClaimsIn, opts: { key?: string | Uint8Array | CryptoKey; alg?: string; exp?: number | string } = {}): Promise<string> {
  const key = opts.key ?? MERCURE_KEY;
  let jwt = new SignJWT({ mercure: claims }).setProtectedHeader({ alg: opts.alg ?? 'HS256' }).setIssuedAt();
  if (opts.exp !== undefined) jwt = jwt.setExpirationTime(opts.exp);
  return jwt.sign(typeof key === 'string' ? new TextEncoder().encode(key) : key);
}

/** A form-encoded publish; resolves with the status, body text and headers. */
export async function mercurePublish(base: string, fields: Record<string, string | string[] | undefined>, token: string | null, headers: Record<string, string> = {}) {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of v === undefined ? [] : Array.isArray(v) ? v : [v]) form.append(k, x);
  const res = await fetch(base + HUB_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: form,
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

export interface MercureMessage {
  type: string;
  data: string;
  lastEventId: string;
}

/**
 * A Mercure subscriber using the real `eventsource` client: it records every `message` event and the
 * event types it is told to listen to, and the response's status and Last-Event-ID header.
 */
export class MercureSubscriber {
  readonly es: EventSource;
  readonly received: MercureMessage[] = [];
  status = 0;
  responseLastEventId: string | null = null;
  opened = 0;
  errors = 0;

  constructor(base: string, topics: string[], opts: { token?: string; query?: Record<string, string>; headers?: Record<string, string>; types?: string[] } = {}) {
    const u = new URL(HUB_PATH, base);
    for (const t of topics) u.searchParams.append('topic', t);
    for (const [k, v] of Object.entries(opts.query ?? {})) u.searchParams.append(k, v);
    this.es = new EventSource(u, {
      fetch: async (input, init) => {
        const res = await fetch(input, {
          ...init,
          headers: { ...(init?.headers as Record<string, string>), ...(opts.headers ?? {}), ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
        });
        this.status = res.status;
        this.responseLastEventId = res.headers.get('last-event-id');
        return res;
      },
    });
    const record = (e: MessageEvent) => this.received.push({ type: e.type, data: e.data as string, lastEventId: e.lastEventId });
    this.es.addEventListener('message', record);
    for (const t of opts.types ?? []) this.es.addEventListener(t, record);
    this.es.addEventListener('open', () => this.opened++);
    this.es.addEventListener('error', () => this.errors++);
  }

  async open(): Promise<this> {
    await until(() => this.opened > 0 || this.errors > 0, 'the Mercure stream to open or fail');
    return this;
  }

  async waitFor(n: number, timeoutMs = 10_000): Promise<MercureMessage[]> {
    await until(() => this.received.length >= n, `${n} Mercure updates (have ${this.received.length})`, timeoutMs);
    return this.received;
  }

  close(): void {
    this.es.close();
  }
}
