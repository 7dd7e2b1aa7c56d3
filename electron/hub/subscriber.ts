import { randomBytes } from 'node:crypto';
import { inScope, describeScope, type TokenScope } from '../../shared/scope.ts';
import { typeMatches, type HubEvent } from '../../shared/events.ts';
import { sseFrame, CONTROL, type ForceDisconnect, type streamEventModes } from '../../shared/wire.ts';
import type { LoggedEvent } from './log.ts';
import { matchesFilters, type KeyFilters } from './scope-sql.ts';

/**
 * Where a subscriber's frames go. A `net.Socket` is one as it is (the hub writes SSE frames straight
 * to the socket); any Node `Writable` is one too, which is how the delivery rules are tested without
 * HTTP. Only what back-pressure needs: write, how much is still held, drain and close.
 */
export interface FrameSink {
  write(chunk: string | Buffer): unknown;
  /** Write a last chunk and close. */
  end(chunk: string | Buffer): unknown;
  destroy(): unknown;
  /** Node's signal that the peer is not taking what was written ("wait for drain"). */
  readonly writableNeedDrain: boolean;
  /** Bytes written but not yet taken by the peer. */
  readonly writableLength: number;
  readonly destroyed: boolean;
  on(event: 'drain' | 'close', fn: () => void): unknown;
  once(event: 'drain' | 'close', fn: () => void): unknown;
  off(event: 'drain' | 'close', fn: () => void): unknown;
}

/** Who is subscribed: the token, its scope and the filters asked for (listings, targeted disconnects, stats). */
export interface StreamSpec {
  tokenId: string;
  scope: TokenScope;
  filters: KeyFilters;
  types?: string[];
}

/** How an event becomes a frame. Frames are cached per event and format `name`, so name formats uniquely. */
export interface FrameFormat {
  readonly name: string;
  frame(e: LoggedEvent): string;
  /**
   * The heartbeat for dialects that know no `heartbeat` event (a comment, e.g. `:\n\n`); absent,
   * the hub's own: a comment and a `heartbeat` event carrying the connection's head.
   */
  readonly heartbeat?: string;
}

/**
 * What a subscriber receives and how: any stream protocol (the hub's `/v1/stream`, other SSE
 * dialects) is a match predicate and a frame format. Subscriptions with equal `key`s must match and
 * frame alike: the broker builds each flush's frames once per key.
 */
export interface Subscription {
  spec: StreamSpec;
  key: string;
  match(e: HubEvent): boolean;
  format: FrameFormat;
}

export type StreamEventMode = (typeof streamEventModes)[number];

/** `/v1/stream` frames: the SSE id is `<seq>@<epoch>`, the event name the type (or none, `events=message`). */
const streamFormats: Record<StreamEventMode, FrameFormat> = {
  named: { name: 'named', frame: (e) => sseFrame(e.event.type, e.json, { seq: e.event.seq, epoch: e.epoch }) },
  message: { name: 'message', frame: (e) => sseFrame(null, e.json, { seq: e.event.seq, epoch: e.epoch }) },
};

/** Is `e` for this stream: in its token's scope, its key filters and its type filter. */
export function visibleTo(spec: Pick<StreamSpec, 'scope' | 'filters' | 'types'>, e: HubEvent): boolean {
  return inScope(spec.scope, e) && matchesFilters(spec.filters, e) && typeMatches(spec.types, e.type);
}

/** The subscription a `/v1/stream` request asks for. */
export function streamSubscription(spec: StreamSpec, mode: StreamEventMode): Subscription {
  return {
    spec,
    key: JSON.stringify([spec.scope, spec.filters, spec.types ?? null, mode]),
    match: (e) => visibleTo(spec, e),
    format: streamFormats[mode],
  };
}

/** A frame per event and format, built once however many subscribers receive it. */
interface FramedEvent extends LoggedEvent {
  frames?: Record<string, string>;
}

export function frameOf(e: LoggedEvent, format: FrameFormat): string {
  const f = ((e as FramedEvent).frames ??= {});
  return (f[format.name] ??= format.frame(e));
}

export interface QueueLimits {
  /** Events written while the sink could not take them, before the client counts as slow. */
  maxQueueEvents: number;
  /** Bytes the sink holds for one connection, before the client counts as slow. */
  maxQueueBytes: number;
  /** How long a connection may stay unable to drain before it counts as stalled. */
  stallTimeoutMs: number;
}

/** What a subscriber tells whoever tracks it (the broker). */
export interface SubscriberHooks {
  /** It is closed (disconnected, or the peer went away): stop delivering to it. Called once. */
  gone(sub: Subscriber): void;
  /** It was cut for being too slow. */
  slow(sub: Subscriber): void;
}

/** How long a disconnected peer gets to take its `force_disconnect` frame before its socket is destroyed. */
const DISCONNECT_GRACE_MS = 2000;

/**
 * One connection's delivery state and its back-pressure rules. The sink's own buffer is the queue:
 * while the sink says "wait for drain", every write counts against the connection's bound (events
 * and bytes); past the bound, or when it made no progress for `stallTimeoutMs`, the client gets
 * `force_disconnect` with reason `slow_consumer` and is closed. It resumes from the log with
 * Last-Event-ID, so nothing is lost and nobody else waits for it.
 */
export class Subscriber {
  readonly id = `c_${randomBytes(6).toString('hex')}`;
  readonly connectedAt = Date.now();
  /** The seq everything up to which this connection has been sent or was skipped as not its own. */
  lastSeq = 0;
  /**
   * The newest seq this connection may be told about: its scope's head when it connected, then the
   * last event it was sent. Heartbeats carry it; `lastSeq` can be a global position (how far replay
   * scanned), which would tell a scoped client how busy the other scopes are.
   */
  headSeq = 0;
  live = false;
  closed = false;
  /** Events handed to the sink while it was backed up; reset when it drains. */
  backlog = 0;
  stalledSince: number | null = null;
  delivered = 0;

  constructor(
    readonly subscription: Subscription,
    readonly sink: FrameSink,
    private readonly limits: QueueLimits,
    private readonly hooks: SubscriberHooks,
  ) {
    sink.on('drain', () => {
      this.backlog = 0;
      this.stalledSince = null;
    });
    sink.on('close', () => this.markGone());
  }

  get spec(): StreamSpec {
    return this.subscription.spec;
  }
  get groupKey(): string {
    return this.subscription.key;
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
    const tenant = this.spec.filters.tenant_id?.length ? this.spec.filters.tenant_id.join('|') : this.spec.scope.tenant_id;
    const topics = this.spec.filters.topic?.length ? this.spec.filters.topic : this.spec.scope.subscribe_topics;
    return describeScope({ user_id: this.users?.join('|'), strategy_ids: this.strategies, store_ids: this.stores, tenant_id: tenant, subscribe_topics: topics });
  }

  /** Events framed in this subscription's format, concatenated (a page read from the log). */
  framesOf(events: readonly LoggedEvent[]): string {
    let out = '';
    for (const e of events) out += frameOf(e, this.subscription.format);
    return out;
  }

  /**
   * Write a chunk holding `count` events (0 for control frames), enforcing the queue bound. `lastSeq`
   * moves the connection's position. Returns false when the connection is gone, or was just cut.
   */
  write(chunk: string | Buffer, count: number, lastSeq?: number): boolean {
    if (this.closed || this.sink.destroyed) return false;
    this.sink.write(chunk);
    if (lastSeq !== undefined) this.lastSeq = lastSeq;
    this.delivered += count;
    if (this.sink.writableNeedDrain) {
      this.backlog += count;
      this.stalledSince ??= Date.now();
      if (this.backlog > this.limits.maxQueueEvents || this.sink.writableLength > this.limits.maxQueueBytes) {
        this.cutSlow(`queue limit exceeded (${this.backlog} events, ${this.sink.writableLength} bytes buffered)`);
        return false;
      }
    }
    return true;
  }

  /** Cut the connection if it has been unable to drain for longer than the stall timeout. Returns true if cut. */
  checkStall(now: number): boolean {
    if (this.closed || this.stalledSince === null || now - this.stalledSince <= this.limits.stallTimeoutMs) return false;
    this.cutSlow(`no progress for ${Math.round((now - this.stalledSince) / 1000)} s`);
    return true;
  }

  /**
   * Resolves once the sink drained, closed, or `stallTimeoutMs` passed (a reader that never reads is
   * then cut by the stall check). Counts as stalled from now if it was not already.
   */
  waitDrain(): Promise<void> {
    if (!this.sink.writableNeedDrain || this.closed) return Promise.resolve();
    this.stalledSince ??= Date.now();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.sink.off('drain', done);
        this.sink.off('close', done);
        resolve();
      };
      const t = setTimeout(done, this.limits.stallTimeoutMs);
      this.sink.once('drain', done);
      this.sink.once('close', done);
    });
  }

  private cutSlow(why: string): void {
    if (this.closed) return;
    this.hooks.slow(this);
    this.disconnect({
      reason: 'slow_consumer',
      message: `disconnected: the client could not keep up (${why}); reconnect with Last-Event-ID to catch up from the log`,
      retry_ms: 1000,
    });
  }

  /** Send `force_disconnect` and close. A sink that will not take it is destroyed after a grace period. */
  disconnect(payload: ForceDisconnect): void {
    if (this.closed) return;
    this.markGone();
    if (!this.sink.destroyed) {
      this.sink.end(sseFrame(CONTROL.forceDisconnect, JSON.stringify(payload)));
      const sink = this.sink;
      setTimeout(() => sink.destroy(), DISCONNECT_GRACE_MS).unref();
    }
  }

  private markGone(): void {
    if (this.closed) return;
    this.closed = true;
    this.live = false;
    this.hooks.gone(this);
  }
}
