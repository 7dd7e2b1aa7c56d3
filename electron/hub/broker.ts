import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { inScope, describeScope, type TokenScope } from '../../shared/scope.ts';
import { typeMatches, type HubEvent } from '../../shared/events.ts';
import { sseFrame, CONTROL, type ForceDisconnect } from '../../shared/wire.ts';
import type { LoggedEvent } from './log.ts';
import { matchesFilters, type KeyFilters } from './scope-sql.ts';

export interface StreamSpec {
  tokenId: string;
  scope: TokenScope;
  filters: KeyFilters;
  types?: string[];
  mode: 'named' | 'message';
}

export interface BrokerLimits {
  /** Events written while the socket could not take them, before the client counts as slow. */
  maxQueueEvents: number;
  /** Bytes Node holds for one connection, before the client counts as slow. */
  maxQueueBytes: number;
  /** How long a connection may stay unable to drain before it counts as stalled. */
  stallTimeoutMs: number;
  heartbeatMs: number;
}

/** A frame per event and mode, built once however many subscribers receive it. */
interface FramedEvent extends LoggedEvent {
  named?: string;
  message?: string;
}

function frameOf(e: FramedEvent, mode: StreamSpec['mode']): string {
  if (mode === 'named') return (e.named ??= sseFrame(e.event.type, e.json, { seq: e.event.seq, epoch: e.epoch }));
  return (e.message ??= sseFrame(null, e.json, { seq: e.event.seq, epoch: e.epoch }));
}

export function visibleTo(spec: Pick<StreamSpec, 'scope' | 'filters' | 'types'>, e: HubEvent): boolean {
  return inScope(spec.scope, e) && matchesFilters(spec.filters, e) && typeMatches(spec.types, e.type);
}

export class Subscriber {
  readonly id = `c_${randomBytes(6).toString('hex')}`;
  readonly connectedAt = Date.now();
  lastSeq = 0;
  /**
   * The newest seq this connection may be told about: its scope's head when it connected, then the
   * last event it was sent. Heartbeats carry it; `lastSeq` can be a global position (how far replay
   * scanned), which would tell a scoped client how busy the other scopes are.
   */
  headSeq = 0;
  live = false;
  closed = false;
  /** Events handed to Node while the socket was backed up; reset when it drains. */
  backlog = 0;
  stalledSince: number | null = null;
  delivered = 0;
  groupKey: string;
  /**
   * Frames go straight to the socket: the response is sent without chunked encoding (an SSE body
   * ends when the connection does), which saves the three writes and a cork per frame that
   * ServerResponse.write costs. With 1,000 subscribers that is most of the fan-out CPU.
   */
  readonly sink: Socket;

  constructor(
    readonly spec: StreamSpec,
    readonly res: ServerResponse,
  ) {
    this.groupKey = JSON.stringify([spec.scope, spec.filters, spec.types ?? null, spec.mode]);
    this.sink = res.socket!;
    this.sink.on('drain', () => {
      this.backlog = 0;
      this.stalledSince = null;
    });
  }

  /** The strategies, users and stores this connection is bound to, for targeted disconnects. */
  get strategies(): string[] | undefined {
    return this.spec.filters.strategy_id?.length ? this.spec.filters.strategy_id : this.spec.scope.strategy_ids;
  }
  get users(): string[] | undefined {
    if (this.spec.filters.user_id?.length) return this.spec.filters.user_id;
    return this.spec.scope.user_id !== undefined ? [this.spec.scope.user_id] : undefined;
  }
  get stores(): string[] | undefined {
    return this.spec.filters.store_id?.length ? this.spec.filters.store_id : this.spec.scope.store_ids;
  }
  get scopeLabel(): string {
    return describeScope({ user_id: this.users?.join('|'), strategy_ids: this.strategies, store_ids: this.stores });
  }
}

export interface BrokerCounters {
  slowDisconnects: number;
}

type Group = { spec: StreamSpec; subs: Set<Subscriber> };

/**
 * Fan-out to SSE connections. Committed events are coalesced per event-loop turn and, per group of
 * connections with identical scope and filters, framed and concatenated once; each connection then
 * gets a single write. A connection whose socket cannot keep up is disconnected with a reason
 * instead of growing memory; it resumes from the log with Last-Event-ID.
 */
export class Broker {
  private groups = new Map<string, Group>();
  private all = new Set<Subscriber>();
  private pending: FramedEvent[] = [];
  private flushScheduled = false;
  /** Earliest time for the next flush; see `publish`. */
  private nextFlushAt = 0;
  private heartbeat: NodeJS.Timeout;
  readonly counters: BrokerCounters = { slowDisconnects: 0 };
  onDelivered?: (n: number) => void;
  onSlowDisconnect?: () => void;
  /** After each flush: how long it took, and how long its oldest event waited since commit (ms). */
  onFlushed?: (flushMs: number, lagMs: number) => void;
  private pendingSince = 0;
  /**
   * Connections a heartbeat writes per event-loop turn. A socket write costs 10–60 µs (most of it the
   * kernel's), so one synchronous pass over 50,000 connections would hold the loop for 0.5–3 s with
   * publishes and deliveries waiting behind it; in slices the loop serves them in between.
   */
  heartbeatSlice = 250;
  private beating = false;
  private closing = false;

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

  /** Track a connection that is still catching up; it receives heartbeats but no live events yet. */
  register(sub: Subscriber): void {
    this.all.add(sub);
    sub.res.on('close', () => this.remove(sub));
  }

  /** Switch a caught-up connection to live delivery. Must run in the same turn as its last log read. */
  goLive(sub: Subscriber, lastSeq: number): void {
    if (sub.closed) return;
    sub.lastSeq = lastSeq;
    sub.live = true;
    let g = this.groups.get(sub.groupKey);
    if (!g) this.groups.set(sub.groupKey, (g = { spec: sub.spec, subs: new Set() }));
    g.subs.add(sub);
  }

  private remove(sub: Subscriber): void {
    sub.closed = true;
    this.all.delete(sub);
    const g = this.groups.get(sub.groupKey);
    if (g) {
      g.subs.delete(sub);
      if (!g.subs.size) this.groups.delete(sub.groupKey);
    }
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
    for (const g of this.groups.values()) {
      const matching = events.filter((e) => visibleTo(g.spec, e.event));
      if (!matching.length) continue;
      // Encoded once: a string would be UTF-8 encoded again for every socket it is written to.
      const chunk = Buffer.from(matching.map((e) => frameOf(e, g.spec.mode)).join(''));
      const lastSeq = matching[matching.length - 1]!.event.seq;
      for (const sub of g.subs) {
        if (sub.lastSeq >= lastSeq) continue;
        if (sub.lastSeq >= matching[0]!.event.seq) {
          // It read some of these from the log while catching up: send only the rest.
          const rest = matching.filter((e) => e.event.seq > sub.lastSeq);
          this.write(sub, rest.map((e) => frameOf(e, g.spec.mode)).join(''), rest.length, lastSeq);
          delivered += rest.length;
        } else {
          this.write(sub, chunk, matching.length, lastSeq);
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

  /** Frame a page read from the log for one connection (replay). */
  framesFor(sub: Subscriber, events: LoggedEvent[]): string {
    return events.map((e) => frameOf(e, sub.spec.mode)).join('');
  }

  /** Write to a connection, enforcing its queue bound. Returns false if the connection is gone. */
  write(sub: Subscriber, chunk: string | Buffer, count: number, lastSeq?: number): boolean {
    if (sub.closed || sub.sink.destroyed) return false;
    sub.sink.write(chunk);
    if (lastSeq !== undefined) sub.lastSeq = lastSeq;
    sub.delivered += count;
    if (sub.sink.writableNeedDrain) {
      sub.backlog += count;
      sub.stalledSince ??= Date.now();
      if (sub.backlog > this.limits.maxQueueEvents || sub.sink.writableLength > this.limits.maxQueueBytes) {
        this.slow(sub, `queue limit exceeded (${sub.backlog} events, ${sub.sink.writableLength} bytes buffered)`);
        return false;
      }
    }
    return true;
  }

  private slow(sub: Subscriber, why: string): void {
    this.counters.slowDisconnects++;
    this.onSlowDisconnect?.();
    this.disconnect(sub, {
      reason: 'slow_consumer',
      message: `disconnected: the client could not keep up (${why}); reconnect with Last-Event-ID to catch up from the log`,
      retry_ms: 1000,
    });
  }

  /** Send force_disconnect and close. A socket that will not drain is destroyed after a grace period. */
  disconnect(sub: Subscriber, payload: ForceDisconnect): void {
    if (sub.closed) return;
    const sink = sub.sink;
    this.remove(sub);
    if (!sink.destroyed) {
      sink.end(sseFrame(CONTROL.forceDisconnect, JSON.stringify(payload)));
      setTimeout(() => sink.destroy(), 2000).unref();
    }
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
      if (this.write(sub, frame, 0)) n++;
    }
    return n;
  }

  disconnectWhere(pred: (s: Subscriber) => boolean, payload: ForceDisconnect): number {
    let n = 0;
    for (const sub of [...this.all]) {
      if (pred(sub)) {
        this.disconnect(sub, payload);
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
          if (sub.closed) continue;
          if (sub.stalledSince !== null && now - sub.stalledSince > this.limits.stallTimeoutMs) {
            this.slow(sub, `no progress for ${Math.round((now - sub.stalledSince) / 1000)} s`);
            continue;
          }
          let frame = frames.get(sub.headSeq);
          if (!frame) frames.set(sub.headSeq, (frame = Buffer.from(`: heartbeat\n` + sseFrame(CONTROL.heartbeat, JSON.stringify({ time, head_seq: sub.headSeq })))));
          this.write(sub, frame, 0);
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
