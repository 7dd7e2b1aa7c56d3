import { EventSource } from 'eventsource';
import { request } from 'node:http';
import { ADMIN, until } from './hub.ts';
import type { HubEvent } from '../../shared/events.ts';
import { CONTROL } from '../../shared/wire.ts';

export interface Received {
  name: string;
  data: any;
  lastEventId: string;
}

/**
 * A subscriber using the real `eventsource` client in `events=message` mode (so it sees every
 * domain type) plus the hub's named control events. It records everything it receives.
 */
export class Subscriber {
  readonly es: EventSource;
  readonly all: Received[] = [];
  errors: { code?: number; message?: string }[] = [];
  opened = 0;

  constructor(base: string, query: Record<string, string | string[]> = {}, token: string | null = ADMIN, headers: Record<string, string> = {}) {
    const u = new URL('/v1/stream', base);
    u.searchParams.set('events', 'message');
    for (const [k, v] of Object.entries(query)) for (const x of Array.isArray(v) ? v : [v]) u.searchParams.append(k, x);
    this.es = new EventSource(u, {
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } }),
    });
    const record = (name: string) => (e: MessageEvent) => this.all.push({ name, data: JSON.parse(e.data), lastEventId: e.lastEventId });
    this.es.addEventListener('message', record('message'));
    for (const c of Object.values(CONTROL)) this.es.addEventListener(c, record(c));
    this.es.addEventListener('open', () => this.opened++);
    this.es.addEventListener('error', (e) => this.errors.push({ code: (e as { code?: number }).code, message: (e as { message?: string }).message }));
  }

  get events(): HubEvent[] {
    return this.all.filter((r) => r.name === 'message').map((r) => r.data as HubEvent);
  }

  named(name: string): Received[] {
    return this.all.filter((r) => r.name === name);
  }

  async waitForEvents(n: number, timeoutMs = 10_000): Promise<HubEvent[]> {
    await until(() => this.events.length >= n, `${n} events (have ${this.events.length})`, timeoutMs);
    return this.events;
  }

  async waitFor(name: string, timeoutMs = 10_000): Promise<Received> {
    return (await until(() => this.named(name)[0], `a ${name} event`, timeoutMs))!;
  }

  close(): void {
    this.es.close();
  }
}

/**
 * A raw HTTP reader for what EventSource hides: exact bytes, status codes of refused streams, and
 * a reader that stops reading (a stalled consumer).
 */
export function rawStream(base: string, path: string, headers: Record<string, string> = {}) {
  const chunks: string[] = [];
  let status = 0;
  let ended = false;
  const u = new URL(path, base);
  const req = request(u, { headers: { authorization: `Bearer ${ADMIN}`, ...headers } });
  const ready = new Promise<void>((resolve, reject) => {
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (c: string) => chunks.push(c));
      res.on('end', () => (ended = true));
      res.on('close', () => (ended = true));
      resolve();
      (req as unknown as { res: typeof res }).res = res;
    });
    req.on('error', reject);
  });
  req.end();
  return {
    ready,
    get status() {
      return status;
    },
    get text() {
      return chunks.join('');
    },
    get ended() {
      return ended;
    },
    pause() {
      (req as unknown as { res: { pause(): void } }).res.pause();
    },
    destroy() {
      req.destroy();
    },
    req,
  };
}
