/**
 * The RelayDesk publisher client for Node backends (`import { Publisher } from 'relaydesk/client'`).
 *
 * - Batching: events are sent together once `batchSize` are waiting or after `lingerMs`.
 * - Idempotency: every event gets its id before the first attempt, so a retried request that the hub
 *   had already stored comes back as `duplicate: true` instead of a second copy.
 * - Retries: network errors, timeouts, 5xx and 429 are retried with exponential backoff and jitter
 *   (Retry-After is honoured). 4xx answers are never retried: the events are rejected with the hub's
 *   error fields.
 * - A bounded local buffer (events and bytes) holds events while the console is closed or
 *   unreachable. When it is full, `publish()` throws `BufferFullError` instead of dropping silently.
 * - `flush()` waits for everything buffered so far; `close()` stops intake and drains.
 *
 * The event types and their data come from `shared/`; nothing here restates a schema.
 */
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { validateEvent, knownTypes, type KnownType, type DataOf, type Priority, type PublishEnvelope, type FieldError } from '../../shared/events.ts';
import { errorBodySchema, type PublishResult } from '../../shared/api.ts';
import type { RequiredKeyOf } from '../../shared/domains/index.ts';
import type { EventAction } from '../../shared/domains/action.ts';
import { routes, type OperationId } from '../../shared/api/routes.ts';
import { checkAnswer, pathOf, queryOf, type AnswerOf } from '../../shared/api/answer.ts';

export type { KnownType, DataOf, Priority, PublishEnvelope, FieldError, EventAction };
export { KNOWN_TYPES, CUSTOM_PREFIX } from '../../shared/events.ts';
export { ContractError } from '../../shared/api/answer.ts';

/** What a backend passes as `data` for a known type: the schema's input (ids may be numbers, defaults may be omitted). */
export type DataIn<T extends KnownType> = z.input<(typeof knownTypes)[T]>;

type Key = string | number;
/** The scope keys a domain requires (each domain's `requiredKeys`), enforced at compile time too. */
export type RequiredKeysFor<T extends string> = { [K in RequiredKeyOf<T>]: Key };

export interface EventOptions {
  store_id?: Key;
  user_id?: Key;
  strategy_id?: Key;
  /** The tenant the event belongs to (a scope key). */
  tenant_id?: Key;
  /** What the event is about: subscribers select events by topic (`wards/icu`). */
  topics?: string[];
  priority?: Priority;
  /** Idempotency key; generated when omitted. Reuse the same id to make a re-publish a no-op. */
  id?: string;
  /** When it happened (defaults to when the hub received it). */
  time?: string | Date;
  /**
   * Buttons the console shows on the event, and on the state card it changes until the next change
   * (docs/publishing.md#actions-on-your-own-events); a click is an `action.requested` about it.
   */
  actions?: EventAction[];
}
export type OptionsFor<T extends string> = EventOptions & RequiredKeysFor<T>;
export type CustomType = `x.${string}`;

export interface PublishAck {
  seq: number;
  id: string;
  duplicate: boolean;
}

// ---------------------------------------------------------------------------------------------- errors

/** The hub answered with an error (4xx: refused, never retried; 5xx/429 after retries ran out). */
export class HubHttpError extends Error {
  override readonly name = 'HubHttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldError[] = [],
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
  get retryable(): boolean {
    return this.status >= 500 || this.status === 429 || this.status === 408;
  }
}

/** The hub could not be reached (connection refused, reset, timeout). Always retryable. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
  constructor(
    message: string,
    readonly causeCode?: string,
  ) {
    super(message);
  }
}

/** An event was refused: by local validation (status 422) or by the hub (any 4xx). Not retried. */
export class PublishRejectedError extends Error {
  override readonly name = 'PublishRejectedError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldError[],
    readonly eventId?: string,
  ) {
    super(fields.length ? `${message} (${fields.map((f) => `${f.path}: ${f.reason}`).join('; ')})` : message);
  }
}

/** The local buffer is full (the hub is unreachable or slower than the publisher). Nothing was queued. */
export class BufferFullError extends Error {
  override readonly name = 'BufferFullError';
  constructor(
    readonly bufferedEvents: number,
    readonly bufferedBytes: number,
    readonly limits: { maxEvents: number; maxBytes: number },
  ) {
    super(
      `publisher buffer full (${bufferedEvents}/${limits.maxEvents} events, ${bufferedBytes}/${limits.maxBytes} bytes); ` +
        'the hub is unreachable or slower than this publisher; the event was not queued',
    );
  }
}

/** publish() after close(), or events still unsent when close() gave up. */
export class PublisherClosedError extends Error {
  override readonly name = 'PublisherClosedError';
}

// ------------------------------------------------------------------------------------------- low level

export interface HttpOptions {
  url: string;
  token: string;
  /** Per-request timeout. A timed-out request is retried with the same ids (no duplicates). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

function parseRetryAfter(v: string | null): number | null {
  if (!v) return null;
  const s = Number(v);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const d = Date.parse(v);
  return Number.isFinite(d) ? Math.max(0, d - Date.now()) : null;
}

function networkError(err: unknown): NetworkError {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return new NetworkError('request timed out', 'ETIMEDOUT');
  const code = e.cause?.code;
  return new NetworkError(`${e.cause?.message ?? e.message ?? 'network error'}${code ? ` (${code})` : ''}`, code);
}

/** Turn a non-2xx response into a HubHttpError carrying the hub's error fields. */
export async function errorFromResponse(res: Response): Promise<HubHttpError> {
  const text = await res.text().catch(() => '');
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON: a proxy or a crashed process */
  }
  const parsed = errorBodySchema.safeParse(json);
  const e = parsed.success ? parsed.data.error : undefined;
  return new HubHttpError(
    res.status,
    e?.code ?? `http_${res.status}`,
    e?.message ?? (text.slice(0, 200) || res.statusText || `HTTP ${res.status}`),
    e?.fields ?? [],
    parseRetryAfter(res.headers.get('retry-after')),
  );
}

/** Methods HTTP defines as idempotent: sending one twice has the effect of sending it once. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
/** The connection died under the request (a kept-alive socket the server had just closed), not a timeout. */
const CONNECTION_CLOSED = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/** Sends of an idempotent request whose connection was closed under it, before giving up. */
const STALE_SOCKET_ATTEMPTS = 4;

/**
 * One JSON request to the hub. Throws HubHttpError or NetworkError.
 *
 * fetch reuses kept-alive sockets, and one the hub closed at that moment (a restart, its idle
 * timeout) fails the request with "other side closed" although the hub is up. Each such failure
 * drops that socket from the pool, and the pool may hold several, so an idempotent request is sent
 * again a few times; a POST is not, because the hub may have acted on it (the Publisher retries its
 * batches itself, with the same event ids, which the hub deduplicates).
 */
export async function hubFetch<T>(http: HttpOptions, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const f = http.fetch ?? fetch;
  const retriable = IDEMPOTENT_METHODS.has(method.toUpperCase());
  let res: Response | undefined;
  for (let attempt = 1; !res; attempt++) {
    try {
      res = await f(new URL(path, http.url), {
        method,
        headers: {
          authorization: `Bearer ${http.token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        signal: AbortSignal.timeout(http.timeoutMs ?? 10_000),
      });
    } catch (err) {
      const e = networkError(err);
      if (!retriable || !CONNECTION_CLOSED.has(e.causeCode ?? '') || attempt >= STALE_SOCKET_ATTEMPTS) throw e;
    }
  }
  if (!res.ok) throw await errorFromResponse(res);
  const text = await res.text();
  return (text ? JSON.parse(text) : null) as T;
}

/**
 * Call one operation of the API contract (shared/api/routes.ts) by its operationId: the path is
 * built from its parameters and the answer is checked against its schema (ContractError if not).
 */
export async function callApi<K extends OperationId>(
  http: HttpOptions,
  id: K,
  init: { params?: Record<string, string | number>; query?: Parameters<typeof queryOf>[0]; body?: unknown } = {},
): Promise<AnswerOf<K>> {
  const answer = await hubFetch<unknown>(http, routes[id].method, pathOf(id, init.params) + queryOf(init.query), init.body);
  return checkAnswer(id, answer);
}

/** POST /v1/events with an array (one request, all or nothing). */
export function postEvents(http: HttpOptions, events: PublishEnvelope[]): Promise<PublishResult> {
  return callApi(http, 'publishEvents', { body: events });
}

export interface BackoffOptions {
  /** First delay (ms). */
  initialMs?: number;
  /** Ceiling (ms). */
  maxMs?: number;
  /** Give up after this many attempts (Infinity: keep trying while the buffer has room). */
  maxAttempts?: number;
}

/** Exponential backoff with full jitter, at least the hub's Retry-After. */
export function backoffDelay(attempt: number, o: BackoffOptions = {}, retryAfterMs: number | null = null, random = Math.random): number {
  const initial = o.initialMs ?? 250;
  const max = o.maxMs ?? 30_000;
  const exp = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  const jittered = exp / 2 + random() * (exp / 2);
  return Math.min(Math.max(jittered, retryAfterMs ?? 0), Math.max(max, retryAfterMs ?? 0));
}

export const isRetryable = (err: unknown) => err instanceof NetworkError || (err instanceof HubHttpError && err.retryable);

let counter = 0;
const processTag = randomBytes(4).toString('hex');
/** A fresh idempotency key: unique per process and event, valid for the hub's id pattern. */
export function newEventId(prefix = 'ev'): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${prefix}-${Date.now().toString(36)}-${processTag}-${counter.toString(36)}`;
}

// ----------------------------------------------------------------------------------------- Publisher

export interface PublisherOptions extends HttpOptions {
  /** Send once this many events are waiting (default 100; the hub takes at most 5000). */
  batchSize?: number;
  /** Wait at most this long for a batch to fill (default 20 ms). */
  lingerMs?: number;
  /** Upper bound for one request body (default 512 KiB; the hub's default limit is 1 MiB). */
  maxBatchBytes?: number;
  /** Local buffer bounds: events accepted but not yet stored by the hub (default 10,000 events, 16 MiB). */
  maxBufferEvents?: number;
  maxBufferBytes?: number;
  retry?: BackoffOptions;
  /** Validate against the shared schemas before queuing (default true), so one bad event cannot sink a batch. */
  validate?: boolean;
  /** Prefix for generated ids (default "ev"). */
  idPrefix?: string;
  /** Called for every event the hub refused or that was given up on, in addition to its promise rejecting. */
  onError?: (err: Error, event: PublishEnvelope) => void;
  /** Called before each retry (for logs/metrics). */
  onRetry?: (info: { attempt: number; delayMs: number; error: Error; events: number }) => void;
}

interface Pending {
  env: PublishEnvelope;
  bytes: number;
  resolve: (a: PublishAck) => void;
  reject: (e: Error) => void;
}

export interface PublisherStats {
  bufferedEvents: number;
  bufferedBytes: number;
  sent: number;
  duplicates: number;
  rejected: number;
  retries: number;
  requests: number;
}

const sleep = (ms: number, signal?: { cancelled: boolean; wake?: () => void }) =>
  new Promise<void>((r) => {
    const t = setTimeout(r, ms);
    if (signal)
      signal.wake = () => {
        clearTimeout(t);
        r();
      };
  });

export class Publisher {
  private readonly o: Required<Omit<PublisherOptions, 'fetch' | 'onError' | 'onRetry' | 'retry'>> & PublisherOptions;
  private queue: Pending[] = [];
  private inflight: Pending[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | null = null;
  private closed = false;
  private abandon = false;
  private idleWaiters: (() => void)[] = [];
  /** Events still to be sent one per request after a batch was refused without naming the bad event. */
  private solo = 0;
  private sleeper: { cancelled: boolean; wake?: () => void } = { cancelled: false };
  private readonly counters = { sent: 0, duplicates: 0, rejected: 0, retries: 0, requests: 0 };

  constructor(options: PublisherOptions) {
    if (!options.url) throw new TypeError('Publisher: url is required');
    if (!options.token) throw new TypeError('Publisher: token is required (a publisher or admin token)');
    this.o = {
      timeoutMs: 10_000,
      batchSize: 100,
      lingerMs: 20,
      maxBatchBytes: 512 * 1024,
      maxBufferEvents: 10_000,
      maxBufferBytes: 16 * 1024 * 1024,
      validate: true,
      idPrefix: 'ev',
      ...options,
      url: options.url.replace(/\/+$/, ''),
    };
    this.o.batchSize = Math.max(1, Math.min(5000, this.o.batchSize));
  }

  /** A known event type, with its data typed from the shared schema and its domain's scope keys required. */
  publish<T extends KnownType>(type: T, data: DataIn<T>, keys: OptionsFor<T>): Promise<PublishAck>;
  /** A custom `x.*` event: any JSON object. */
  publish(type: CustomType, data: Record<string, unknown>, keys?: EventOptions): Promise<PublishAck>;
  publish(type: string, data: Record<string, unknown>, keys: EventOptions = {}): Promise<PublishAck> {
    const { time, ...rest } = keys;
    const env: PublishEnvelope = { type, data, ...rest, ...(time !== undefined ? { time: time instanceof Date ? time.toISOString() : time } : {}) };
    return this.send(env);
  }

  /**
   * Queue a whole envelope (e.g. one read from a file). Throws synchronously: PublisherClosedError,
   * BufferFullError, or PublishRejectedError when local validation fails. The promise resolves when the
   * hub has stored the event (or had it already: `duplicate`), and rejects if the hub refuses it.
   */
  send(envelope: PublishEnvelope): Promise<PublishAck> {
    if (this.closed) throw new PublisherClosedError('publisher is closed');
    const env: PublishEnvelope = { ...envelope, id: envelope.id ?? newEventId(this.o.idPrefix) };
    if (this.o.validate) {
      const v = validateEvent(env);
      if (!v.ok) throw new PublishRejectedError(422, 'validation_failed', `event ${env.type} is invalid`, v.errors, env.id);
    }
    const bytes = Buffer.byteLength(JSON.stringify(env)) + 1;
    const n = this.queue.length + this.inflight.length;
    if (n + 1 > this.o.maxBufferEvents || this.bytes + bytes > this.o.maxBufferBytes)
      throw new BufferFullError(n, this.bytes, { maxEvents: this.o.maxBufferEvents, maxBytes: this.o.maxBufferBytes });
    let resolve!: (a: PublishAck) => void;
    let reject!: (e: Error) => void;
    const p = new Promise<PublishAck>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Fire-and-forget callers get errors through onError; an un-awaited promise must not crash the process.
    p.catch(() => {});
    this.queue.push({ env, bytes, resolve, reject });
    this.bytes += bytes;
    this.schedule();
    return p;
  }

  /** Buffered = queued + in flight (not yet confirmed by the hub). */
  stats(): PublisherStats {
    return { bufferedEvents: this.queue.length + this.inflight.length, bufferedBytes: this.bytes, ...this.counters };
  }

  /** Wait until every event buffered so far is stored or rejected. With a timeout, rejects if not drained in time. */
  async flush(timeoutMs?: number): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.kick();
    // An idle backoff during flush is cut short: the caller wants to know now.
    this.sleeper.wake?.();
    if (this.queue.length + this.inflight.length === 0 && !this.loop) return;
    const drained = new Promise<void>((r) => this.idleWaiters.push(r));
    if (timeoutMs === undefined) return drained;
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, rej) => {
      t = setTimeout(() => rej(new PublisherClosedError(`flush timed out after ${timeoutMs} ms with ${this.stats().bufferedEvents} events still buffered`)), timeoutMs);
    });
    try {
      await Promise.race([drained, timeout]);
    } finally {
      clearTimeout(t);
    }
  }

  /**
   * Stop accepting events and drain. After `timeoutMs` (default 10 s) whatever is still unsent is
   * rejected with PublisherClosedError (and reported through onError) and close() resolves.
   */
  async close(timeoutMs = 10_000): Promise<{ unsent: number }> {
    this.closed = true;
    try {
      await this.flush(timeoutMs);
      return { unsent: 0 };
    } catch {
      this.abandon = true;
      this.sleeper.wake?.();
      const left = [...this.queue];
      this.queue = [];
      for (const p of left) this.fail(p, new PublisherClosedError('publisher closed before the hub accepted this event'));
      // The in-flight request finishes (or times out) on its own; its events stay counted until then.
      const unsent = left.length + this.inflight.length;
      await this.loop?.catch(() => {});
      return { unsent };
    }
  }

  // ------------------------------------------------------------------------------------- internals

  private schedule(): void {
    if (this.loop) return; // the running loop picks new events up
    if (this.queue.length >= this.o.batchSize || this.closed) return this.kick();
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, this.o.lingerMs);
  }

  private kick(): void {
    if (this.loop || this.queue.length === 0) {
      if (!this.loop) this.notifyIdle();
      return;
    }
    this.loop = this.run().finally(() => {
      this.loop = null;
      if (this.queue.length) this.kick();
      else this.notifyIdle();
    });
  }

  private notifyIdle(): void {
    if (this.queue.length + this.inflight.length) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of w) r();
  }

  private takeBatch(): Pending[] {
    if (this.solo > 0 && this.queue.length) {
      this.solo--;
      return [this.queue.shift()!];
    }
    const batch: Pending[] = [];
    let size = 2;
    while (this.queue.length && batch.length < this.o.batchSize) {
      const next = this.queue[0]!;
      if (batch.length && size + next.bytes > this.o.maxBatchBytes) break;
      batch.push(this.queue.shift()!);
      size += next.bytes;
    }
    return batch;
  }

  private fail(p: Pending, err: Error): void {
    this.bytes -= p.bytes;
    this.counters.rejected++;
    p.reject(err);
    this.o.onError?.(err, p.env);
  }

  /** One batch at a time, in order: a retry resends exactly the same events with the same ids. */
  private async run(): Promise<void> {
    const http: HttpOptions = { url: this.o.url, token: this.o.token, timeoutMs: this.o.timeoutMs, fetch: this.o.fetch };
    while (this.queue.length && !this.abandon) {
      const batch = this.takeBatch();
      this.inflight = batch;
      for (let attempt = 0; ; attempt++) {
        try {
          this.counters.requests++;
          const res = await postEvents(http, batch.map((p) => p.env));
          batch.forEach((p, i) => {
            const r = res.results[i]!;
            this.bytes -= p.bytes;
            this.counters.sent++;
            if (r.duplicate) this.counters.duplicates++;
            p.resolve({ seq: r.seq, id: r.id, duplicate: r.duplicate });
          });
          break;
        } catch (err) {
          const e = err as Error;
          const maxAttempts = this.o.retry?.maxAttempts ?? Infinity;
          if (isRetryable(e) && attempt + 1 < maxAttempts && !this.abandon) {
            const delayMs = backoffDelay(attempt, this.o.retry, e instanceof HubHttpError ? e.retryAfterMs : null);
            this.counters.retries++;
            this.o.onRetry?.({ attempt: attempt + 1, delayMs, error: e, events: batch.length });
            this.sleeper = { cancelled: false };
            await sleep(delayMs, this.sleeper);
            if (this.abandon) {
              for (const p of batch) this.fail(p, new PublisherClosedError(`publisher closed while retrying (${e.message})`));
              break;
            }
            continue;
          }
          this.settleRefused(batch, e);
          break;
        }
      }
      this.inflight = [];
    }
  }

  /**
   * A refused batch: the hub is all-or-nothing, and names the bad events by index ("3.data.total").
   * Those are rejected; the rest of the batch goes back to the front of the queue to be sent again.
   */
  private settleRefused(batch: Pending[], e: Error): void {
    if (!(e instanceof HubHttpError) || e.retryable) {
      for (const p of batch) this.fail(p, e instanceof HubHttpError ? new PublishRejectedError(e.status, e.code, e.message, e.fields, p.env.id) : e);
      return;
    }
    const byIndex = new Map<number, FieldError[]>();
    for (const f of e.fields) {
      const m = /^(\d+)(?:\.(.*))?$/.exec(f.path);
      if (m && batch.length > 1) byIndex.set(Number(m[1]), [...(byIndex.get(Number(m[1])) ?? []), { path: m[2] ?? '', reason: f.reason }]);
    }
    const perEventStatus = e.status === 422 || e.status === 403 || e.status === 409 || e.status === 413;
    const perEvent = byIndex.size > 0 && [...byIndex.keys()].every((i) => i < batch.length) && perEventStatus;
    if (!perEvent && perEventStatus && batch.length > 1) {
      // The hub refused the batch without saying which event (e.g. an id conflict, or a body too
      // large): nothing was stored, so resend these one at a time to isolate the culprit.
      this.solo += batch.length;
      this.queue.unshift(...batch);
      return;
    }
    if (!perEvent) {
      for (const p of batch) this.fail(p, new PublishRejectedError(e.status, e.code, e.message, e.fields, p.env.id));
      return;
    }
    const retry: Pending[] = [];
    batch.forEach((p, i) => {
      const fields = byIndex.get(i);
      if (fields) this.fail(p, new PublishRejectedError(e.status, e.code, e.message, fields, p.env.id));
      else retry.push(p);
    });
    this.queue.unshift(...retry);
  }
}

/** Convenience: `createPublisher({ url, token })`. */
export const createPublisher = (options: PublisherOptions) => new Publisher(options);
