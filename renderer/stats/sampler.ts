import type { Stats } from '../../shared/api.ts';
import type { DeadLetter, WebhookEndpoint } from '../../shared/webhooks.ts';
import { HttpError, hubCall, type HubConnection } from '../app/connection.ts';
import type { ConsoleStore } from '../stream/store.ts';

export const SAMPLES = 60;
export const EVERY_MS = 2_000;

export interface Sample {
  at: number;
  connections: number;
  publish: number;
  delivery: number;
  drops: number;
  /** Events per second this window received (works for every role). */
  window: number;
}

/**
 * Samples from the moment the window opens, so the charts already have two minutes of history
 * when someone switches to the Stats view. Hub stats are only asked for with an admin token.
 */
export class StatsSampler {
  samples: Sample[] = [];
  stats: Stats | null = null;
  /** Webhook endpoints and their latest dead letters (admin): delivery failures show here. */
  webhooks: WebhookEndpoint[] = [];
  dead: DeadLetter[] = [];
  error: string | null = null;
  private last: { n: number; at: number };
  private timer: ReturnType<typeof setInterval> | null = null;
  private listeners = new Set<() => void>();
  version = 0;

  constructor(
    private readonly conn: HubConnection,
    private readonly store: ConsoleStore,
    private readonly admin: boolean,
  ) {
    this.last = { n: store.received, at: Date.now() };
  }

  start(): void {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), EVERY_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  subscribe = (l: () => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  private async tick(): Promise<void> {
    const now = Date.now();
    const window = ((this.store.received - this.last.n) * 1000) / Math.max(1, now - this.last.at);
    this.last = { n: this.store.received, at: now };
    let s: Stats | null = null;
    if (this.admin) {
      try {
        const [stats, hooks, dead] = await Promise.all([
          hubCall(this.conn, 'getStats'),
          hubCall(this.conn, 'listWebhooks'),
          hubCall(this.conn, 'listDeadLetters', { query: { limit: 20 } }),
        ]);
        s = stats;
        this.webhooks = hooks.webhooks;
        this.dead = dead.dead;
        this.error = null;
      } catch (err) {
        this.error = err instanceof HttpError ? err.message : 'cannot read stats from the hub';
      }
    }
    if (s) this.stats = s;
    this.samples = [
      ...this.samples,
      { at: now, connections: s?.connections.total ?? 0, publish: s?.rates?.publish_per_s ?? 0, delivery: s?.rates?.delivery_per_s ?? 0, drops: s?.connections.slow_consumer_disconnects ?? 0, window },
    ].slice(-SAMPLES);
    this.version++;
    for (const l of this.listeners) l();
  }
}
