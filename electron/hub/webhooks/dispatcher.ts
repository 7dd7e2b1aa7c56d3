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

export const WEBHOOK_DEFAULTS: WebhookOptions = { timeoutMs: 10_000, maxAttempts: 12, baseDelayMs: 1_000, maxDelayMs: 5 * 60_000 };

/** What the dispatcher reads of the log: narrow, so it is testable on a bare EventLog. */
export interface WebhookLog {
  readAfter(seq: number, limit: number, visible: (e: HubEvent) => boolean, scoped?: { scope: TokenScope; filters: object }): { events: LoggedEvent[]; scannedTo: number };
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

/**
 * One delivery attempt. Redirects are not followed (a signed request must not be replayed to
 * another host) and only a 2xx counts as delivered.
 */
async function attempt(url: string, payload: string, headers: Record<string, string>, timeoutMs: number, abort: AbortSignal): Promise<AttemptResult> {
  try {
    const res = await fetch(url, { method: 'POST', body: payload, headers, redirect: 'manual', signal: AbortSignal.any([abort, AbortSignal.timeout(timeoutMs)]) });
    // Drain the answer so the connection can be reused; its content is only kept for the error.
    const text = (await res.text().catch(() => '')).slice(0, 200);
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, error: null };
    return { ok: false, status: res.status, error: `HTTP ${res.status}${text ? `: ${text}` : ''}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const reason = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { ok: false, status: null, error: reason };
  }
}

/**
 * Delivers the log to webhook endpoints. Each endpoint follows the log with its own durable cursor,
 * one event at a time in log order; a failing endpoint retries with backoff and, out of attempts,
 * moves the event to its dead-letter list and goes on. Delivery is at least once: a crash between a
 * 2xx and the cursor write repeats that one event with the same webhook-id.
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

  private async run(id: string): Promise<void> {
    const { endpoints, log, opts } = this.deps;
    for (;;) {
      if (this.closed) return;
      const ep = endpoints.get(id);
      if (!ep) return;
      const now = Date.now();
      if (ep.attempts > 0 && ep.nextAt > now) return this.schedule(id, ep.nextAt);
      if (ep.cursor < log.prunedThrough) {
        // Retention removed events this endpoint never got: say so in its dead-letter list, once.
        endpoints.dead(
          id,
          { seq: log.prunedThrough, webhook_id: webhookId(this.deps.hubId, log.prunedThrough), type: '(pruned)', attempts: ep.attempts, last_error: `events ${ep.cursor + 1}..${log.prunedThrough} were pruned by retention before delivery`, last_status: null },
          now,
        );
        continue;
      }
      // Read along the scope's index, in bounded steps: a sparse endpoint costs no full-log scan.
      const page = log.readAfter(ep.cursor, 100, (e) => inScope(ep.scope, e) && typeMatches(ep.types, e.type), { scope: ep.scope, filters: {} });
      if (!page.events.length) {
        if (page.scannedTo > ep.cursor) {
          endpoints.skip(id, page.scannedTo);
          continue;
        }
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
          attempts = 0;
          continue;
        }
        attempts++;
        if (attempts >= opts.maxAttempts) {
          endpoints.dead(id, { seq: event.seq, webhook_id: msgId, type: event.type, attempts, last_error: r.error, last_status: r.status }, Date.now());
          this.deps.warn?.({ endpoint: id, seq: event.seq, attempts, error: r.error }, 'webhook gave up on an event; it is in the dead-letter list');
          attempts = 0;
          continue;
        }
        const next = Date.now() + retryDelay(attempts, opts, this.random);
        endpoints.failed(id, attempts, next, r.error ?? 'failed', r.status);
        return this.schedule(id, next);
      }
      endpoints.skip(id, page.scannedTo);
    }
  }
}
