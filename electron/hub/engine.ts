import type { Redis } from 'ioredis';
import type { ControlPlane, ControlReplicator } from './control.ts';
import type { ValidEvent } from '../../shared/events.ts';
import type { ForceDisconnect } from '../../shared/wire.ts';
import type { DB } from './db.ts';
import { IdConflictError, type AppendResult, type EventLog, type LoggedEvent } from './log.ts';
import type { Projections } from './projections.ts';
import type { BusFork } from '../../shared/api.ts';
import { HubError, isStorageError, storageUnavailable } from './errors.ts';

/**
 * How published events become ordered, durable and delivered. The local engine numbers and commits
 * them itself; the Redis engine (bus/redis.ts) gets one global order from Redis and applies it here.
 */
export interface BusEngine {
  readonly kind: 'local' | 'redis';
  start(): Promise<void>;
  /** Resolves only after the events are committed to the local log (and, for Redis, to the bus). */
  publish(events: ValidEvent[]): Promise<AppendResult[]>;
  /** `fork`: this hub's log left the shared history (Redis); it refuses publishes and readiness. */
  status(): { connected: boolean; lag_ms: number | null; fork?: BusFork | null };
  /**
   * Wait (bounded) until this hub's log holds `seq`. Engines whose log can trail the global order
   * (Redis) implement it, so a client resuming on a hub that is a moment behind waits instead of
   * being told to reset.
   */
  whenApplied?(seq: number, timeoutMs: number): Promise<boolean>;
  /**
   * Wait (bounded) until this hub's log knows `epoch`: a client coming from a hub that already
   * follows a new epoch (Redis) waits for this one to follow it too instead of being told to reset.
   */
  whenEpoch?(epoch: string, timeoutMs: number): Promise<boolean>;
  /** Engines shared by several hubs spread token and strategy changes to all of them. */
  readonly control?: ControlReplicator;
  /**
   * Engines shared by several hubs keep the API rate limits there too (a fail-fast connection and
   * a key prefix), so a token gets its limit once across all hubs, not once per hub.
   */
  rateLimitStore?(): { redis: Redis; prefix: string };
  close(): Promise<void>;
}

/** What committing needs: the log and state written in one transaction, and where committed events go. */
export interface CommitContext {
  db: DB;
  log: EventLog;
  projections: Projections;
  /** Runs inside the commit turn, so a strategy deactivated a moment ago is seen. */
  admit: (events: ValidEvent[]) => HubError | null;
  /** Hands events to delivery (the broker, webhooks, metrics), only after their transaction committed. */
  committed: (events: LoggedEvent[]) => void;
}

/** Structured logging, as pino's methods take it. */
export interface EngineLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Everything an engine gets from its hub: no more than this. */
export interface EngineContext {
  /** Names this hub to the others (connection names, epoch reports). */
  hubId: string;
  commit: CommitContext;
  /** Applies token and strategy changes on this hub (engines that replicate them call it per change). */
  control: ControlPlane;
  /** Close every stream on this hub; they reconnect and resume from the log. Returns how many. */
  dropStreams: (payload: ForceDisconnect) => number;
  logger: EngineLogger;
  /** How often the hub prunes its log by retention (engines keeping a copy trim it as often). */
  retentionIntervalMs: number;
}

/** Makes the engine a hub runs on; the hub starts it after construction and closes it at shutdown. */
export type EngineFactory = (ctx: EngineContext) => BusEngine;

interface Pending {
  events: ValidEvent[];
  resolve: (r: AppendResult[]) => void;
  reject: (e: Error) => void;
}

/**
 * Group commit: every publish that arrives in one event-loop turn is written in one SQLite
 * transaction (one fsync), each request in its own savepoint so a bad request cannot take its
 * neighbours down. Replies go out only after the commit returned.
 */
export class LocalEngine implements BusEngine {
  readonly kind = 'local' as const;
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly appendRequest: (events: ValidEvent[], receivedAt: string) => AppendResult[];

  constructor(private readonly ctx: CommitContext) {
    this.appendRequest = ctx.log.transaction((events: ValidEvent[], receivedAt: string) =>
      events.map((ev, i) => {
        try {
          const r = ctx.log.appendNext(ev, receivedAt);
          if (r.logged) ctx.projections.apply(r.logged.event);
          return r;
        } catch (err) {
          if (err instanceof IdConflictError) err.index = i;
          throw err;
        }
      }),
    );
  }

  async start(): Promise<void> {}

  publish(events: ValidEvent[]): Promise<AppendResult[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    const outcomes = commitGroup(this.ctx, batch.map((p) => p.events), this.appendRequest);
    if (outcomes instanceof Error) {
      for (const p of batch) p.reject(outcomes);
      return;
    }
    outcomes.forEach((o, i) => (o instanceof Error ? batch[i]!.reject(o) : batch[i]!.resolve(o)));
  }

  status() {
    return { connected: true, lag_ms: null };
  }

  async close(): Promise<void> {
    if (this.queue.length) this.flush();
  }
}

/** The engine of a hub on its own: it numbers and commits events itself. */
export const localEngine: EngineFactory = (env) => new LocalEngine(env.commit);

/**
 * Commit several requests in one transaction. Returns per-request results or errors, or one error
 * for all when the transaction itself failed (then nothing was stored and the head is restored).
 * `appendRequest` must be a `log.transaction` (a savepoint here), so a request that fails takes back
 * its own seqs and no other's.
 */
function commitGroup(
  ctx: CommitContext,
  requests: ValidEvent[][],
  appendRequest: (events: ValidEvent[], receivedAt: string) => AppendResult[],
): (AppendResult[] | HubError)[] | HubError {
  const outcomes: (AppendResult[] | HubError)[] = [];
  try {
    ctx.log.transaction(() => {
      const receivedAt = new Date().toISOString();
      for (const events of requests) {
        const refused = ctx.admit(events);
        if (refused) {
          outcomes.push(refused);
          continue;
        }
        try {
          outcomes.push(appendRequest(events, receivedAt));
        } catch (err) {
          const path = events.length > 1 ? `${err instanceof IdConflictError ? err.index : 0}.id` : 'id';
          if (err instanceof IdConflictError) outcomes.push(new HubError(409, 'id_conflict', err.message, [{ path, reason: 'id already used for a different event' }]));
          // The disk refusing fails the whole group; anything else fails only this request (its
          // savepoint is rolled back), so one bad request cannot take its neighbours down.
          else if (isStorageError(err)) throw err;
          else outcomes.push(new HubError(500, 'internal', `this request could not be stored: ${(err as Error).message}`));
        }
      }
    })();
  } catch (err) {
    if (isStorageError(err)) return storageUnavailable(err);
    return err instanceof HubError ? err : new HubError(500, 'internal', `commit failed: ${(err as Error).message}`);
  }
  const committed: LoggedEvent[] = [];
  for (const o of outcomes) if (!(o instanceof Error)) for (const r of o) if (r.logged) committed.push(r.logged);
  ctx.committed(committed);
  return outcomes;
}
