import { setImmediate as nextTurn } from 'node:timers/promises';
import { sseFrame, CONTROL, type ForceDisconnect } from '../../shared/wire.ts';
import type { LoggedEvent } from './log.ts';
import { Subscriber, frameOf, type FrameSink, type QueueLimits, type Subscription } from './subscriber.ts';

export interface BrokerLimits extends QueueLimits {
  heartbeatMs: number;
}

/** Where a subscriber catches up from: the log, read after a position in pages bounded by bytes. */
export interface ReplaySource {
  /** Events after `cursor` the subscriber may see, their JSON at most `maxBytes` (at least one event). */
  readAfter(cursor: number, maxBytes: number): ReplayPage;
}

export interface ReplayPage {
  events: LoggedEvent[];
  /** Every seq up to this one was examined (the next page starts after it). */
  scannedTo: number;
  /** The read reached the newest committed event: nothing committed is left to replay. */
  caughtUp: boolean;
  /** Rows examined, for the reader's cost. */
  scanned: number;
}

export interface BrokerCounters {
  slowDisconnects: number;
}

type Group = { subscription: Subscription; subs: Set<Subscriber> };

/**
 * Fan-out to subscribers. Committed events are coalesced per event-loop turn and, per group of
 * subscribers with the same subscription key, matched, framed and concatenated once; each
 * subscriber then gets a single write. Subscribers that cannot keep up are cut (see Subscriber)
 * instead of growing memory; they resume from the log.
 *
 * A subscriber starts catching up (`catchUp`: pages from the log, each written only once the sink
 * took the previous one) and joins the live set in the same synchronous turn as its last log read.
 * Commits and `publish` also happen in single turns, so no event can fall between the last read
 * and going live; events it already got from the log are skipped by seq.
 */
export class Broker {
  private groups = new Map<string, Group>();
  private all = new Set<Subscriber>();
  private pending: LoggedEvent[] = [];
  private flushScheduled = false;
  /** Earliest time for the next flush; see `publish`. */
  private nextFlushAt = 0;
  private heartbeat: NodeJS.Timeout;
  readonly counters: BrokerCounters = { slowDisconnects: 0 };
  onDelivered?: (n: number) => void;
  onSlowDisconnect?: () => void;
  /** After each flush: how long it took, and how long its oldest event waited since commit (ms). */
  onFlushed?: (flushMs: number, lagMs: number) => void;
  /** The number of subscribers changed (one connected or went away). */
  onSize?: (size: number) => void;
  private pendingSince = 0;
  /**
   * Connections a heartbeat writes per event-loop turn. A socket write costs 10–60 µs (most of it the
   * kernel's), so one synchronous pass over 50,000 connections would hold the loop for 0.5–3 s with
   * publishes and deliveries waiting behind it; in slices the loop serves them in between.
   */
  heartbeatSlice = 250;
  private beating = false;
  private closing = false;
  private readonly hooks = {
    gone: (sub: Subscriber) => this.remove(sub),
    slow: () => {
      this.counters.slowDisconnects++;
      this.onSlowDisconnect?.();
    },
  };

  constructor(readonly limits: BrokerLimits) {
    this.heartbeat = setInterval(() => void this.beat(), limits.heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.all.size;
  }

  subscribers(): Iterable<Subscriber> {
    return this.all;
  }

  /**
   * A new subscriber writing to `sink`: it gets heartbeats and control frames at once, and events
   * once `catchUp` (or `goLive`) puts it in the live set.
   */
  subscribe(subscription: Subscription, sink: FrameSink): Subscriber {
    const sub = new Subscriber(subscription, sink, this.limits, this.hooks);
    if (sink.destroyed) {
      sub.disconnect({ reason: 'shutdown', message: 'the connection closed before it was subscribed', retry_ms: null });
      return sub;
    }
    this.all.add(sub);
    this.onSize?.(this.all.size);
    return sub;
  }

  /**
   * Replay from `source` after `cursor` until caught up, then go live in the same turn as the last
   * read: that read saw every committed event, and everything committed later reaches the broker
   * after it, so nothing falls in between (what the read had, the flush skips by seq). Going live on
   * the read that reaches the head, rather than on an empty read after it, means a subscriber
   * catches up even while something commits in every turn.
   *
   * A page holds at most a quarter of the queue bound of event JSON (at least one event), and the
   * next is read only once the sink took it: a reader that stops reading costs its queue bound, not
   * the log. `onPage` sees each page (the reader's cost). Resolves true once live, false when the
   * subscriber went away (or was cut as slow) first.
   */
  async catchUp(sub: Subscriber, cursor: number, source: ReplaySource, onPage?: (page: ReplayPage) => void): Promise<boolean> {
    // Whatever was written before (a snapshot can be larger than the queue bound, by design) must be
    // taken first, or the first page written on top would count the client as slow.
    await sub.waitDrain();
    const pageBytes = this.limits.maxQueueBytes / 4;
    for (;;) {
      if (sub.closed) return false;
      const page = source.readAfter(cursor, pageBytes);
      onPage?.(page);
      cursor = page.scannedTo;
      if (page.events.length) {
        if (!sub.write(sub.framesOf(page.events), page.events.length, cursor)) return false;
        const last = page.events[page.events.length - 1]!.event.seq;
        if (last > sub.headSeq) sub.headSeq = last;
      }
      if (page.caughtUp) {
        this.goLive(sub, cursor);
        return !sub.closed;
      }
      sub.lastSeq = cursor;
      if (sub.sink.writableNeedDrain) await sub.waitDrain();
      else await nextTurn();
    }
  }

  /** Switch a caught-up subscriber to live delivery. Must run in the same turn as its last log read. */
  goLive(sub: Subscriber, lastSeq: number): void {
    if (sub.closed) return;
    sub.lastSeq = lastSeq;
    sub.live = true;
    let g = this.groups.get(sub.groupKey);
    if (!g) this.groups.set(sub.groupKey, (g = { subscription: sub.subscription, subs: new Set() }));
    g.subs.add(sub);
  }

  private remove(sub: Subscriber): void {
    if (!this.all.delete(sub)) return;
    const g = this.groups.get(sub.groupKey);
    if (g) {
      g.subs.delete(sub);
      if (!g.subs.size) this.groups.delete(sub.groupKey);
    }
    this.onSize?.(this.all.size);
  }

  /** Called after a commit; delivery happens once per event-loop turn for everything committed in it. */
  publish(events: LoggedEvent[]): void {
    if (!events.length) return;
    if (!this.pending.length) this.pendingSince = performance.now();
    for (const e of events) this.pending.push(e);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Self-tuning batching: after a flush that took d ms, wait at least d ms before the next.
      // Idle or light load flushes on the next turn; heavy fan-out gets bigger, fewer writes per
      // socket instead of a growing queue, so delivery never takes more than about half the CPU.
      const wait = this.nextFlushAt - performance.now();
      if (wait > 0.5) setTimeout(() => this.flush(), wait);
      else setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    const started = performance.now();
    this.flushScheduled = false;
    const events = this.pending;
    this.pending = [];
    let delivered = 0;
    // Groups differ by their filters, yet many select the same events (every tablet of a store, each
    // with its own topic list): they share one encoded chunk instead of building and encoding it
    // once per group. Keyed by format and the exact events selected.
    const chunks = new Map<string, Buffer>();
    for (const g of this.groups.values()) {
      const { match, format } = g.subscription;
      const matching = events.filter((e) => match(e.event));
      if (!matching.length) continue;
      const key = matching.length === events.length ? `${format.name}:all` : `${format.name}:${matching.map((e) => e.event.seq).join(',')}`;
      let chunk = chunks.get(key);
      // Encoded once: a string would be UTF-8 encoded again for every socket it is written to.
      if (!chunk) chunks.set(key, (chunk = Buffer.from(matching.map((e) => frameOf(e, format)).join(''))));
      const lastSeq = matching[matching.length - 1]!.event.seq;
      for (const sub of g.subs) {
        if (sub.lastSeq >= lastSeq) continue;
        if (sub.lastSeq >= matching[0]!.event.seq) {
          // It read some of these from the log while catching up: send only the rest.
          const rest = matching.filter((e) => e.event.seq > sub.lastSeq);
          sub.write(sub.framesOf(rest), rest.length, lastSeq);
          delivered += rest.length;
        } else {
          sub.write(chunk, matching.length, lastSeq);
          delivered += matching.length;
        }
        if (lastSeq > sub.headSeq) sub.headSeq = lastSeq;
      }
    }
    this.onDelivered?.(delivered);
    const now = performance.now();
    this.nextFlushAt = now + Math.min(now - started, 50);
    if (delivered) this.onFlushed?.(now - started, now - this.pendingSince);
  }

  /**
   * A control frame to every open stream of one token (the desktop window, browsers and tablets
   * signed in with it), whether live or still catching up. Returns how many got it.
   */
  toToken(tokenId: string, event: string, payload: unknown): number {
    let frame: Buffer | null = null;
    let n = 0;
    for (const sub of this.all) {
      if (sub.spec.tokenId !== tokenId || sub.closed) continue;
      frame ??= Buffer.from(sseFrame(event, JSON.stringify(payload)));
      if (sub.write(frame, 0)) n++;
    }
    return n;
  }

  disconnectWhere(pred: (s: Subscriber) => boolean, payload: ForceDisconnect): number {
    let n = 0;
    for (const sub of [...this.all]) {
      if (pred(sub)) {
        sub.disconnect(payload);
        n++;
      }
    }
    return n;
  }

  /**
   * One heartbeat to every connection (and the stall check), `heartbeatSlice` connections per turn.
   * Resolves when all are written; a beat still writing when the next is due makes that one a no-op.
   */
  async beat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      const now = Date.now();
      const time = new Date(now).toISOString();
      // Each connection hears its own head; connections at the same head share one encoded frame.
      const frames = new Map<number, Buffer>();
      // A snapshot: connections that close between slices are skipped, new ones were just greeted.
      const subs = [...this.all];
      for (let i = 0; i < subs.length; i += this.heartbeatSlice) {
        if (i > 0) await nextTurn();
        if (this.closing) return;
        for (const sub of subs.slice(i, i + this.heartbeatSlice)) {
          if (sub.closed || sub.checkStall(now)) continue;
          const own = sub.subscription.format.heartbeat;
          if (own !== undefined) {
            sub.write(own, 0);
            continue;
          }
          let frame = frames.get(sub.headSeq);
          if (!frame) frames.set(sub.headSeq, (frame = Buffer.from(`: heartbeat\n` + sseFrame(CONTROL.heartbeat, JSON.stringify({ time, head_seq: sub.headSeq })))));
          sub.write(frame, 0);
        }
      }
    } finally {
      this.beating = false;
    }
  }

  /** Connection figures, of every connection or of those `which` selects (a scoped admin's). */
  stats(which?: (s: Subscriber) => boolean) {
    const byScope: Record<string, number> = {};
    let maxDepth = 0;
    let bytes = 0;
    let total = 0;
    for (const s of this.all) {
      if (which && !which(s)) continue;
      total++;
      byScope[s.scopeLabel] = (byScope[s.scopeLabel] ?? 0) + 1;
      if (s.backlog > maxDepth) maxDepth = s.backlog;
      bytes += s.sink.writableLength;
    }
    return { total, by_scope: byScope, queue_depth_max: maxDepth, queue_bytes_total: bytes };
  }

  close(payload: ForceDisconnect): void {
    this.closing = true;
    clearInterval(this.heartbeat);
    this.disconnectWhere(() => true, payload);
  }
}
