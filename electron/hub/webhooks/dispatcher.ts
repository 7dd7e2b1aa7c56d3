import { Webhook } from 'standardwebhooks';
import { inScope, type TokenScope } from '../../../shared/scope.ts';
import { typeMatches, type HubEvent } from '../../../shared/events.ts';
import type { WebhookTestResult } from '../../../shared/webhooks.ts';
import type { LoggedEvent } from '../log.ts';
import type { Endpoint, WebhookEndpoints } from './endpoints.ts';

export interface WebhookOptions {
  /** One attempt's deadline, connect to last byte of the answer. */
  timeoutMs: number;
  /** Attempts at one event before it goes to the dead-letter list. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** A page of events an endpoint holds while delivering it, in bytes (at least one event). */
const PAGE_MAX_BYTES = 2 * 1024 * 1024;

export const WEBHOOK_DEFAULTS: WebhookOptions = { timeoutMs: 10_000, maxAttempts: 12, baseDelayMs: 1_000, maxDelayMs: 5 * 60_000 };

/** What the dispatcher reads of the log: narrow, so it is testable on a bare EventLog. */
export interface WebhookLog {
  readAfter(seq: number, limit: number, visible: (e: HubEvent) => boolean, scoped?: { scope: TokenScope; filters: object }, maxBytes?: number): { events: LoggedEvent[]; scannedTo: number };
  readonly head: number;
  readonly prunedThrough: number;
}

export interface DispatcherDeps {
  endpoints: WebhookEndpoints;
  log: WebhookLog;
  hubId: string;
  opts: WebhookOptions;
  warn?: (obj: object, msg: string) => void;
  random?: () => number;
}

/**
 * Exponential backoff with equal jitter: half the step is fixed, half random, so retries from many
 * hubs or endpoints spread out but never collapse to an immediate retry.
 */
export function retryDelay(attempt: number, opts: Pick<WebhookOptions, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const step = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}

/** The same id on every attempt at one event, so a receiver can drop a redelivery it already applied. */
export const webhookId = (hubId: string, seq: number) => `msg_${hubId}_${seq}`;

/** The Standard Webhooks payload shape ({type, timestamp, data}); data is the event exactly as streamed. */
export function webhookPayload(ev: HubEvent): string {
  return JSON.stringify({ type: ev.type, timestamp: ev.received_at, data: ev });
}

export function signedHeaders(secret: string, msgId: string, payload: string, at: Date): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'RelayDesk-Webhooks/1',
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(msgId, at, payload),
  };
}

interface AttemptResult {
  ok: boolean;
  status: number | null;
  error: string | null;
}

/** At most this much of an answer is read: it only ever serves as the text of an error. */
const ANSWER_READ_BYTES = 1024;

async function answerText(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let n = 0;
  try {
    while (n < ANSWER_READ_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      n += value.byteLength;
    }
  } finally {
    // A receiver streaming a huge answer is cut off rather than buffered.
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8', 0, Math.min(n, ANSWER_READ_BYTES)).slice(0, 200);
}

/**
 * One delivery attempt. Redirects are not followed (a signed request must not be replayed to
 * another host) and only a 2xx counts as delivered.
 */
async function attempt(url: string, payload: string, headers: Record<string, string>, timeoutMs: number, abort: AbortSignal): Promise<AttemptResult> {
  // A controller per attempt rather than AbortSignal.any(), which on Node 20 keeps every dependent
  // signal reachable from the long-lived shutdown signal.
  const ctl = new AbortController();
  const onAbort = () => ctl.abort();
  abort.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => ctl.abort(new DOMException('timeout', 'TimeoutError')), timeoutMs);
  try {
    const res = await fetch(url, { method: 'POST', body: payload, headers, redirect: 'manual', signal: ctl.signal });
    const text = await answerText(res).catch(() => '');
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, error: null };
    return { ok: false, status: res.status, error: `HTTP ${res.status}${text ? `: ${text}` : ''}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const timedOut = ctl.signal.reason instanceof DOMException && ctl.signal.reason.name === 'TimeoutError';
    const reason = timedOut ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { ok: false, status: null, error: reason };
  } finally {
    clearTimeout(timer);
    abort.removeEventListener('abort', onAbort);
  }
}

/**
 * Delivers the log to webhook endpoints. Each endpoint follows the log with its own durable cursor,
 * one event at a time in log order; a failing endpoint retries with backoff and, out of attempts,
 * moves the event to its dead-letter list and goes on. Delivery is at least once: cursor advances are
 * written in short batches (CursorBatching), so a crash repeats the deliveries of the last unwritten
 * batch, and the one in flight, each with the same webhook-id.
 */
export class WebhookDispatcher {
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly abort = new AbortController();
  private closed = false;
  private readonly random: () => number;
  /** Active endpoint ids, kept in memory: notify() runs on every commit and must not query. */
  private ids: string[] = [];
  /**
   * How far each endpoint has looked past its stored cursor without finding anything to send.
   * Stored at most once a second: after a crash the scan is only repeated, since those events are
   * invisible to the endpoint, and an fsync per page of other scopes' events is avoided.
   */
  private readonly skipped = new Map<string, { seq: number; storedAt: number }>();

  constructor(private readonly deps: DispatcherDeps) {
    this.random = deps.random ?? Math.random;
    this.reload();
  }

  /** Endpoints were added or removed. */
  reload(): void {
    this.ids = this.deps.endpoints.active().map((e) => e.id);
  }

  /** New events were committed (or the hub started): every endpoint looks for work. */
  notify(): void {
    if (this.closed) return;
    for (const id of this.ids) this.kick(id);
  }

  kick(id: string): void {
    if (this.closed) return;
    if (this.running.has(id)) {
      this.again.add(id);
      return;
    }
    const p = this.run(id)
      .catch((err: unknown) => this.deps.warn?.({ err, endpoint: id }, 'webhook dispatcher failed; will retry on the next event'))
      .finally(() => {
        this.running.delete(id);
        if (this.again.delete(id)) this.kick(id);
      });
    this.running.set(id, p);
  }

  /** Stop: no new attempts, in-flight ones are aborted (they will be repeated after a restart). */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.abort.abort();
    await Promise.allSettled([...this.running.values()]);
    // A clean stop leaves nothing to repeat: what was delivered is on disk.
    this.deps.endpoints.flush();
  }

  /** Sends a `webhook.test` message now, outside the log; nothing is retried or recorded. */
  async test(ep: Endpoint): Promise<WebhookTestResult> {
    const now = new Date();
    const msgId = `msg_${this.deps.hubId}_test_${now.getTime()}`;
    const payload = JSON.stringify({ type: 'webhook.test', timestamp: now.toISOString(), data: { endpoint_id: ep.id, hub_id: this.deps.hubId } });
    const t0 = performance.now();
    const r = await attempt(ep.url, payload, signedHeaders(ep.secret, msgId, payload, now), this.deps.opts.timeoutMs, this.abort.signal);
    return { ok: r.ok, status: r.status, error: r.error, webhook_id: msgId, duration_ms: Math.round(performance.now() - t0) };
  }

  /** Tries one dead letter again now; on success it leaves the list. */
  async redeliver(ep: Endpoint, seq: number): Promise<WebhookTestResult> {
    const page = this.deps.log.readAfter(seq - 1, 1, () => true);
    const ev = page.events[0]?.event;
    const msgId = webhookId(this.deps.hubId, seq);
    if (!ev || ev.seq !== seq) return { ok: false, status: null, error: `event ${seq} is no longer in the log (retention)`, webhook_id: msgId, duration_ms: 0 };
    const payload = webhookPayload(ev);
    const t0 = performance.now();
    const r = await attempt(ep.url, payload, signedHeaders(ep.secret, msgId, payload, new Date()), this.deps.opts.timeoutMs, this.abort.signal);
    if (r.ok) this.deps.endpoints.forgetDeadLetter(ep.id, seq);
    return { ok: r.ok, status: r.status, error: r.error, webhook_id: msgId, duration_ms: Math.round(performance.now() - t0) };
  }

  private schedule(id: string, at: number): void {
    clearTimeout(this.timers.get(id));
    const t = setTimeout(() => {
      this.timers.delete(id);
      this.kick(id);
    }, Math.max(0, at - Date.now()));
    t.unref();
    this.timers.set(id, t);
  }

  private skipTo(id: string, seq: number, force = false): void {
    const prev = this.skipped.get(id);
    const now = Date.now();
    if (force || !prev || now - prev.storedAt >= 1_000) {
      this.deps.endpoints.skip(id, seq);
      this.skipped.set(id, { seq, storedAt: now });
    } else this.skipped.set(id, { seq, storedAt: prev.storedAt });
  }

  private async run(id: string): Promise<void> {
    const { endpoints, log, opts } = this.deps;
    for (;;) {
      // Never on the publish path: commits call notify(), and the acknowledgement must not wait for
      // an endpoint's reads. Each page yields, so a long catch-up cannot hold the event loop.
      await new Promise((r) => setImmediate(r));
      if (this.closed) return;
      const stored = endpoints.get(id);
      if (!stored) return;
      const ep = { ...stored, cursor: Math.max(stored.cursor, this.skipped.get(id)?.seq ?? 0) };
      const now = Date.now();
      if (ep.attempts > 0 && ep.nextAt > now) return this.schedule(id, ep.nextAt);
      if (ep.cursor < log.prunedThrough) {
        // Retention removed events this endpoint never got: say so in its dead-letter list, once.
        endpoints.dead(
          id,
          { seq: log.prunedThrough, webhook_id: webhookId(this.deps.hubId, log.prunedThrough), type: '(pruned)', attempts: ep.attempts, last_error: 'events this endpoint had not received yet were pruned by retention', last_status: null },
          now,
        );
        this.skipped.delete(id);
        continue;
      }
      // Read along the scope's index, in bounded steps: a sparse endpoint costs no full-log scan.
      const page = log.readAfter(ep.cursor, 100, (e) => inScope(ep.scope, e) && typeMatches(ep.types, e.type), { scope: ep.scope, filters: {} }, PAGE_MAX_BYTES);
      if (!page.events.length) {
        if (page.scannedTo > ep.cursor) {
          this.skipTo(id, page.scannedTo);
          continue;
        }
        // Caught up: whatever was skipped in memory is stored now.
        if (this.skipped.has(id) && this.skipped.get(id)!.seq > stored.cursor) this.skipTo(id, this.skipped.get(id)!.seq, true);
        return;
      }
      let attempts = ep.attempts;
      for (const { event } of page.events) {
        const msgId = webhookId(this.deps.hubId, event.seq);
        const payload = webhookPayload(event);
        const r = await attempt(ep.url, payload, signedHeaders(ep.secret, msgId, payload, new Date()), opts.timeoutMs, this.abort.signal);
        if (this.closed) return;
        if (!endpoints.get(id)) return;
        if (r.ok) {
          endpoints.delivered(id, event.seq, Date.now());
          this.skipped.delete(id);
          attempts = 0;
          continue;
        }
        // The cursor stands just before the event being retried, so retention pruning other events
        // below it is not mistaken for losing this one, and the retry count stays with it.
        if (attempts === 0) endpoints.skip(id, event.seq - 1);
        this.skipped.delete(id);
        attempts++;
        if (attempts >= opts.maxAttempts) {
          this.skipped.delete(id);
          endpoints.dead(id, { seq: event.seq, webhook_id: msgId, type: event.type, attempts, last_error: r.error, last_status: r.status }, Date.now());
          this.deps.warn?.({ endpoint: id, seq: event.seq, attempts, error: r.error }, 'webhook gave up on an event; it is in the dead-letter list');
          attempts = 0;
          continue;
        }
        const next = Date.now() + retryDelay(attempts, opts, this.random);
        endpoints.failed(id, attempts, next, r.error ?? 'failed', r.status);
        return this.schedule(id, next);
      }
      if (page.scannedTo > ep.cursor) this.skipTo(id, page.scannedTo);
    }
  }
}
