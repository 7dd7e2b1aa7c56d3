import { hubEventSchema, type HubEvent } from '../../shared/events.ts';
import {
  CONTROL,
  connectionEventSchema,
  forceDisconnectSchema,
  heartbeatSchema,
  resetEventSchema,
  type ConnectionEvent,
  type ForceDisconnect,
  type ResetEvent,
} from '../../shared/wire.ts';
import { snapshotSchema, type Snapshot } from '../../shared/state.ts';
import { inboxChangeSchema, type InboxChange } from '../../shared/inbox.ts';
import { backoffDelay, MAX_AUTO_ATTEMPTS, SHOW_RETRY_FROM } from './backoff.ts';

/** Minimum time between two batches handed to the UI under sustained load. */
export const MIN_FLUSH_MS = 50;

export type LinkState = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface LinkStatus {
  state: LinkState;
  /** Reconnect attempt in progress (0 while live). */
  attempt: number;
  /** When the current outage began (ms epoch), null while live. */
  downSince: number | null;
  /** When the next automatic attempt fires, if one is scheduled. */
  nextAttemptAt: number | null;
  lastHeartbeatAt: number | null;
  /** Why we are offline or reconnecting, in words a user can act on. */
  reason: string | null;
  /** Offer a manual Retry button. */
  canRetry: boolean;
  hubId: string | null;
  lastSeq: number | null;
  /** The hub's id for lastSeq (`<seq>@<epoch>`): what a resume sends, so a replaced log is noticed. */
  lastId: string | null;
}

export interface StreamHandlers {
  onConnection(c: ConnectionEvent): void;
  onSnapshot(s: Snapshot): void;
  onEvents(evs: HubEvent[]): void;
  onReset(r: ResetEvent): void;
  onForceDisconnect(f: ForceDisconnect): void;
  /** The token's inbox marks changed (in this window or another signed in with the same token). */
  onInbox?(c: InboxChange): void;
  onStatus(s: LinkStatus): void;
  /** Frames that failed validation; shown as a count, never silently dropped. */
  onInvalid(reason: string): void;
}

/** The part of the WHATWG EventSource the client uses: the browser's, or the `eventsource` package under Node. */
export interface EventSourceLike {
  onmessage: ((m: MessageEvent) => void) | null;
  onerror: ((e: Event) => void) | null;
  addEventListener(type: string, listener: (m: MessageEvent) => void): void;
  close(): void;
}
export type EventSourceFactory = (url: string) => EventSourceLike;

export interface StreamClientOptions {
  /** Build the URL for a connection; `lastId` (the last event id, as the hub sent it) is null on the very first connect. */
  url(lastId: string | null): string;
  /** Asked after a failure that happened before the hub said hello: is it our credentials? */
  probeAuth?(): Promise<string | null>;
  /** Recent-seq window used for dedupe (ids are global, so a Set of seqs is exact). */
  dedupeWindow?: number;
  rand?: () => number;
  /**
   * Opens the stream. The page's EventSource by default, with the session cookie (withCredentials);
   * tests pass the `eventsource` package's, which sends the cookie through its fetch.
   */
  eventSource?: EventSourceFactory;
}

const browserEventSource: EventSourceFactory = (url) => new EventSource(url, { withCredentials: true }) as unknown as EventSourceLike;

/**
 * One EventSource at a time, with reconnects managed here rather than by the browser: the browser's
 * built-in retry has no backoff, no jitter and no ceiling, and it keeps hammering a hub that rejects
 * our session. We resume with `lastEventId` (the query twin of Last-Event-ID) so nothing published
 * during the outage is lost, and drop any seq we already hold so nothing appears twice.
 */
export class StreamClient {
  private es: EventSourceLike | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private lastFrameAt = 0;
  private heartbeatMs = 15_000;
  private helloSeen = false;
  private stopped = false;
  private seen = new Set<number>();
  private pending: HubEvent[] = [];
  private flushScheduled = false;
  private status: LinkStatus = {
    state: 'connecting',
    attempt: 0,
    downSince: null,
    nextAttemptAt: null,
    lastHeartbeatAt: null,
    reason: null,
    canRetry: false,
    hubId: null,
    lastSeq: null,
    lastId: null,
  };

  constructor(
    private readonly opts: StreamClientOptions,
    private readonly h: StreamHandlers,
  ) {}

  get lastSeq(): number | null {
    return this.status.lastSeq;
  }

  start(): void {
    this.stopped = false;
    this.open();
    this.watchdog = setInterval(() => this.checkAlive(), 1_000);
    // The network came back: no reason to sit out the rest of a 15 s backoff. (No window under Node.)
    globalThis.window?.addEventListener('online', this.onOnline);
  }

  private onOnline = () => {
    if (this.status.state === 'reconnecting' || (this.status.state === 'offline' && this.forcedOff === false)) this.retryNow();
  };
  /** Offline because the hub told us not to come back (revoked, deactivated): 'online' must not undo that. */
  private forcedOff = false;

  stop(): void {
    this.stopped = true;
    globalThis.window?.removeEventListener('online', this.onOnline);
    this.closeSource();
    if (this.timer) clearTimeout(this.timer);
    if (this.watchdog) clearInterval(this.watchdog);
    this.timer = this.watchdog = null;
  }

  /** The user pressed Retry: connect now and start the schedule over. */
  retryNow(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.setStatus({ attempt: Math.max(1, this.status.attempt), nextAttemptAt: null, state: 'reconnecting' });
    this.open();
  }

  private setStatus(patch: Partial<LinkStatus>): void {
    this.status = { ...this.status, ...patch };
    this.h.onStatus(this.status);
  }

  private closeSource(): void {
    if (!this.es) return;
    this.es.onmessage = this.es.onerror = null;
    this.es.close();
    this.es = null;
  }

  private open(): void {
    this.closeSource();
    this.helloSeen = false;
    this.lastFrameAt = Date.now();
    const es = (this.opts.eventSource ?? browserEventSource)(this.opts.url(this.status.lastId));
    this.es = es;
    const parse = (raw: string): unknown => {
      try {
        return JSON.parse(raw);
      } catch {
        this.h.onInvalid('frame is not JSON');
        return undefined;
      }
    };
    es.addEventListener(CONTROL.connection, (m) => {
      this.touch();
      const c = connectionEventSchema.safeParse(parse((m as MessageEvent).data));
      if (!c.success) return this.h.onInvalid('connection frame does not match the schema');
      this.helloSeen = true;
      this.forcedOff = false;
      this.heartbeatMs = c.data.heartbeat_ms;
      this.setStatus({ state: 'live', attempt: 0, downSince: null, nextAttemptAt: null, reason: null, canRetry: false, hubId: c.data.hub_id, lastHeartbeatAt: Date.now() });
      this.h.onConnection(c.data);
    });
    es.addEventListener(CONTROL.initial, (m) => {
      this.touch();
      const s = snapshotSchema.safeParse(parse((m as MessageEvent).data));
      if (!s.success) return this.h.onInvalid('snapshot does not match the schema');
      this.flush();
      this.bumpSeq(s.data.seq, (m as MessageEvent).lastEventId);
      this.h.onSnapshot(s.data);
    });
    es.addEventListener(CONTROL.reset, (m) => {
      this.touch();
      const r = resetEventSchema.safeParse(parse((m as MessageEvent).data));
      if (!r.success) return this.h.onInvalid('reset frame does not match the schema');
      this.flush();
      // The log we were following is gone or is another hub's: forget what we held, the snapshot follows.
      this.seen.clear();
      this.setStatus({ lastSeq: null, lastId: null });
      this.h.onReset(r.data);
    });
    es.addEventListener(CONTROL.heartbeat, (m) => {
      this.touch();
      const hb = heartbeatSchema.safeParse(parse((m as MessageEvent).data));
      if (hb.success) this.setStatus({ lastHeartbeatAt: Date.now() });
    });
    es.addEventListener(CONTROL.inbox, (m) => {
      this.touch();
      const c = inboxChangeSchema.safeParse(parse((m as MessageEvent).data));
      if (!c.success) return this.h.onInvalid('inbox frame does not match the schema');
      this.h.onInbox?.(c.data);
    });
    es.addEventListener(CONTROL.forceDisconnect, (m) => {
      const f = forceDisconnectSchema.safeParse(parse((m as MessageEvent).data));
      this.flush();
      this.closeSource();
      if (!f.success) return this.fail('the hub closed the stream');
      this.h.onForceDisconnect(f.data);
      this.forcedOff = f.data.retry_ms === null;
      if (f.data.retry_ms === null) {
        // Revoked, deactivated or closed by an admin: reconnecting would only be refused again.
        this.setStatus({ state: 'offline', reason: f.data.message, canRetry: true, downSince: Date.now(), nextAttemptAt: null });
      } else {
        this.schedule(f.data.message, f.data.retry_ms);
      }
    });
    es.onmessage = (m) => {
      this.touch();
      const ev = hubEventSchema.safeParse(parse(m.data));
      if (!ev.success) return this.h.onInvalid('event does not match the envelope schema');
      const seq = ev.data.seq;
      if (this.seen.has(seq)) return;
      this.remember(seq);
      this.bumpSeq(seq, m.lastEventId);
      this.pending.push(ev.data);
      this.scheduleFlush();
    };
    es.onerror = () => {
      if (this.es !== es) return;
      this.flush();
      this.closeSource();
      if (!this.helloSeen && this.opts.probeAuth) {
        // EventSource hides the HTTP status; ask a plain endpoint whether we are still signed in.
        void this.opts.probeAuth().then((authProblem) => {
          if (this.stopped || this.es) return;
          if (authProblem) this.setStatus({ state: 'offline', reason: authProblem, canRetry: true, downSince: this.status.downSince ?? Date.now(), nextAttemptAt: null });
          else this.fail('cannot reach the hub');
        });
      } else this.fail('connection to the hub was lost');
    };
  }

  private touch(): void {
    this.lastFrameAt = Date.now();
  }

  /** `id` is the frame's id: `<seq>@<epoch>` from hubs with epochs, the plain seq from older ones. */
  private bumpSeq(seq: number, id: string): void {
    if (this.status.lastSeq === null || seq > this.status.lastSeq) this.status = { ...this.status, lastSeq: seq, lastId: id || String(seq) };
  }

  private remember(seq: number): void {
    this.seen.add(seq);
    const cap = this.opts.dedupeWindow ?? 20_000;
    if (this.seen.size > cap) {
      // Sets iterate in insertion order: drop the oldest quarter in one go.
      let n = cap / 4;
      for (const s of this.seen) {
        this.seen.delete(s);
        if (--n <= 0) break;
      }
    }
  }

  /**
   * Events are handed over in batches: on the next frame when things are quiet (a lone order shows
   * at once), but no more than every MIN_FLUSH_MS under load, so 1,000 events/s cost ~20 renders/s
   * instead of 60 and the main thread keeps room for input.
   */
  private lastFlushAt = 0;
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const wait = this.lastFlushAt + MIN_FLUSH_MS - performance.now();
    const run = () => this.flush();
    if (wait > 0) setTimeout(run, wait);
    else {
      // rAF stops in background tabs; the timeout keeps state current there (notifications, counters).
      if (typeof requestAnimationFrame === 'function') requestAnimationFrame(run);
      setTimeout(run, 100);
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (!this.pending.length) return;
    this.lastFlushAt = performance.now();
    const batch = this.pending;
    this.pending = [];
    this.h.onEvents(batch);
  }

  private fail(reason: string): void {
    const attempt = this.status.attempt + 1;
    if (attempt > MAX_AUTO_ATTEMPTS) {
      this.setStatus({ state: 'offline', reason: `${reason}; stopped after ${MAX_AUTO_ATTEMPTS} attempts`, canRetry: true, nextAttemptAt: null });
      return;
    }
    this.schedule(reason, backoffDelay(attempt, this.opts.rand), attempt);
  }

  private schedule(reason: string, delayMs: number, attempt = this.status.attempt + 1): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.setStatus({
      state: 'reconnecting',
      attempt,
      reason,
      downSince: this.status.downSince ?? Date.now(),
      nextAttemptAt: Date.now() + delayMs,
      canRetry: attempt >= SHOW_RETRY_FROM,
    });
    this.timer = setTimeout(() => {
      this.timer = null;
      this.setStatus({ nextAttemptAt: null });
      this.open();
    }, delayMs);
  }

  /** A half-open TCP connection delivers nothing and raises no error; heartbeats expose it. */
  private checkAlive(): void {
    if (!this.es || !this.helloSeen) return;
    const limit = Math.max(this.heartbeatMs * 2.5, 5_000);
    if (Date.now() - this.lastFrameAt > limit) {
      this.flush();
      this.closeSource();
      this.fail(`no heartbeat for ${Math.round(limit / 1000)} s`);
    }
  }
}
