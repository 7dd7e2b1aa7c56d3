import { statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { ValidEvent } from '../../shared/events.ts';
import { openDatabase, claimDatabase, getMeta, setMeta, HOLDER_KEY, type DB, type DbClaim } from './db.ts';
import { EventLog, type AppendResult, type LoggedEvent } from './log.ts';
import { Projections } from './projections.ts';
import { builtinRegistry, type DomainRegistry } from '../../shared/domains/index.ts';
import { InboxStore } from './inbox.ts';
import { TokenStore, BOOTSTRAP_ADMIN_ID } from './tokens.ts';
import { Strategies } from './strategies.ts';
import { Broker } from './broker.ts';
import { ControlPlane } from './control.ts';
import { localEngine, type BusEngine, type EngineFactory } from './engine.ts';
import { HubError } from './errors.ts';
import { createMetrics, RateMeter, type Metrics } from './metrics.ts';
import { hubDefaults, type HubOptions } from './config.ts';
import { buildApp } from './http/app.ts';
import { SettingsStore } from './settings.ts';
import { SnapshotQueue } from './snapshot-queue.ts';
import { WebhookEndpoints } from './webhooks/endpoints.ts';
import { WebhookDispatcher } from './webhooks/dispatcher.ts';
import { ActionLog, timedOutEvent } from './actions.ts';
import { MercureService, mercureEnabled } from './mercure/service.ts';
import type { FastifyInstance } from 'fastify';

/** How a hub is put together beyond its options. */
export interface HubSetup {
  /** The engine (default: the local engine, or Redis when `redisUrl` is set). */
  engineFactory?: EngineFactory;
  /**
   * Options that depend on what the hub's own database holds (the desktop shell's stored port and
   * retention): given the options and the stored settings once the database is claimed, before
   * anything else is built, it returns the options the hub runs with.
   */
  configure?: (opts: HubOptions, stored: { settings: SettingsStore }) => HubOptions | Promise<HubOptions>;
}

/** The database a hub runs on, claimed for it (no other hub may write it) and named. */
interface ClaimedDb {
  db: DB;
  claim: DbClaim;
  hubId: string;
}

function claimAndOpen(dbFile: string, hubId: string | undefined): ClaimedDb {
  // Claimed before the first write (hub_id below): a second hub must not touch a log in use.
  const claim = claimDatabase(dbFile);
  let db: DB | undefined;
  try {
    db = openDatabase(dbFile);
    const id = hubId ?? getMeta(db, 'hub_id') ?? `hub-${randomBytes(4).toString('hex')}`;
    setMeta(db, 'hub_id', id);
    // Who holds the claim, so a hub refused on this file can name us (the URL follows once listening).
    setMeta(db, HOLDER_KEY, JSON.stringify({ pid: process.pid, hub_id: id }));
    return { db, claim, hubId: id };
  } catch (err) {
    db?.close();
    claim.release();
    throw err;
  }
}

/**
 * One RelayDesk hub: the log, state, auth, broker and HTTP API. Plain Node, so the Electron main
 * process and `relaydesk serve` run exactly the same code. `Hub.start` makes one and returns it
 * listening; every part exists from construction on.
 */
export class Hub {
  readonly opts: HubOptions;
  readonly db: DB;
  readonly log: EventLog;
  readonly projections: Projections;
  /** The domains this hub knows: the built-in ones and HubOptions.domains. */
  readonly registry: DomainRegistry;
  readonly tokens: TokenStore;
  readonly strategies: Strategies;
  readonly inbox: InboxStore;
  readonly settings: SettingsStore;
  readonly webhooks: WebhookEndpoints;
  readonly dispatcher: WebhookDispatcher;
  /** Actions' state, read from their events in the log. */
  readonly actions: ActionLog;
  readonly broker: Broker;
  /** Token and strategy changes: the admin routes make them here, so every hub on the bus gets them. */
  readonly control: ControlPlane;
  readonly metrics: Metrics;
  /** snapshot=1 builds: one per event-loop turn, shared by identical requests, none for gone clients. */
  readonly snapshots: SnapshotQueue;
  readonly publishRate = new RateMeter();
  readonly deliveryRate = new RateMeter();
  readonly logger: pino.Logger;
  readonly hubId: string;
  readonly startedAt = Date.now();
  readonly engine: BusEngine;
  readonly app: FastifyInstance;
  /** The Mercure protocol on /.well-known/mercure, when a Mercure key is configured. */
  readonly mercure?: MercureService;
  /** The bootstrap admin's token: `opts.adminToken`, or one generated for this run. */
  readonly adminToken: string;
  readonly generatedAdminToken: boolean;
  /** Set during shutdown: publishes are refused (503) so nothing is accepted that cannot be flushed. */
  draining = false;
  private pruneTimer?: NodeJS.Timeout;
  private pruning = false;
  private actionTimer?: NodeJS.Timeout;
  private sweeping = false;
  private readonly claim: DbClaim;

  /**
   * A hub listening on `opts.host:opts.port`, its engine started. If any step fails, whatever was
   * made is closed again (the database claim too) before the error is thrown.
   */
  static async start(opts: Partial<HubOptions> = {}, setup: HubSetup = {}): Promise<Hub> {
    const claimed = claimAndOpen(hubDefaults(opts).dbFile, opts.hubId);
    let hub: Hub | undefined;
    try {
      const defaults = hubDefaults(opts);
      const options = setup.configure ? await setup.configure(defaults, { settings: new SettingsStore(claimed.db) }) : defaults;
      // opts.redisUrl without a factory must not silently fall back to a standalone hub.
      const factory = setup.engineFactory ?? (options.redisUrl ? (await import('./bus/redis.ts')).redisEngineFactory(options.redisUrl) : localEngine);
      hub = new Hub(options, claimed, factory);
      await hub.listen();
      return hub;
    } catch (err) {
      if (hub) await hub.close().catch(() => undefined);
      else {
        claimed.db.close();
        claimed.claim.release();
      }
      throw err;
    }
  }

  private constructor(opts: HubOptions, claimed: ClaimedDb, engineFactory: EngineFactory) {
    this.opts = opts;
    this.db = claimed.db;
    this.claim = claimed.claim;
    this.hubId = claimed.hubId;
    this.logger = pino(
      {
        level: this.opts.logLevel,
        base: { hub: opts.hubId },
        redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'token', 'adminToken'], censor: '[redacted]' },
      },
      this.opts.logDestination ?? pino.destination(2),
    );
    this.log = new EventLog(this.db);
    this.registry = builtinRegistry.with(...this.opts.domains);
    this.projections = new Projections(this.db, this.registry);
    this.tokens = new TokenStore(this.db);
    this.strategies = new Strategies(this.db);
    this.inbox = new InboxStore(this.db);
    this.settings = new SettingsStore(this.db);
    this.webhooks = new WebhookEndpoints(this.db, { warn: (obj, msg) => this.logger.warn(obj, msg) });
    this.actions = new ActionLog(this.db);
    this.dispatcher = new WebhookDispatcher({
      endpoints: this.webhooks,
      log: this.log,
      hubId: this.hubId,
      opts: this.opts.webhooks,
      warn: (obj, msg) => this.logger.warn(obj, msg),
    });
    this.metrics = createMetrics();
    this.snapshots = new SnapshotQueue((outcome, n) => this.metrics.snapshots.inc({ outcome }, n));
    this.broker = new Broker({
      maxQueueEvents: this.opts.queue.maxEvents,
      maxQueueBytes: this.opts.queue.maxBytes,
      stallTimeoutMs: this.opts.queue.stallTimeoutMs,
      heartbeatMs: this.opts.heartbeatMs,
    });
    this.broker.onDelivered = (n) => {
      this.metrics.delivered.inc(n);
      this.deliveryRate.add(n);
    };
    this.broker.onSlowDisconnect = () => this.metrics.slowDisconnects.inc();
    this.broker.onSize = (n) => this.metrics.connections.set(n);
    this.broker.onFlushed = (flushMs, lagMs) => {
      this.metrics.flushSeconds.observe(flushMs / 1000);
      this.metrics.deliveryLag.observe(lagMs / 1000);
    };
    // The engine replicates control changes when it is shared (Redis); the plane asks it per change.
    this.control = new ControlPlane(this.tokens, this.strategies, this.broker, () => this.engine.control);
    this.engine = engineFactory({
      hubId: this.hubId,
      commit: {
        db: this.db,
        log: this.log,
        projections: this.projections,
        admit: (events) => this.admit(events),
        committed: (events) => this.committed(events),
      },
      control: this.control,
      dropStreams: (payload) => this.broker.disconnectWhere(() => true, payload),
      logger: this.logger,
      retentionIntervalMs: this.opts.retention.intervalMs,
    });
    this.generatedAdminToken = !this.opts.adminToken;
    this.adminToken = this.tokens.bootstrapAdmin(this.opts.adminToken);
    if (mercureEnabled(this.opts.mercure)) this.mercure = new MercureService(this.opts.mercure, this.db, this.log, (events) => this.publish(events));
    this.app = buildApp(this);
  }

  /** Where the hub listens (`http://127.0.0.1:<port>` for a wildcard address), or '' before it does. */
  get url(): string {
    const addr = this.app.server.address() as AddressInfo | null;
    if (!addr || typeof addr === 'string') return '';
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${addr.port}`;
  }

  /** Who holds the claim, so a hub refused on this file can name us. */
  private recordHolder(): void {
    setMeta(this.db, HOLDER_KEY, JSON.stringify({ pid: process.pid, url: this.url || undefined, hub_id: this.hubId }));
  }

  private admit(events: ValidEvent[]): HubError | null {
    for (let i = 0; i < events.length; i++) {
      const sid = events[i]!.strategy_id;
      if (!this.strategies.isActive(sid))
        return new HubError(409, 'strategy_inactive', `strategy ${sid} is deactivated (${this.strategies.reasonFor(sid!) ?? 'no reason given'}); nothing from this request was stored`, [
          { path: events.length > 1 ? `${i}.strategy_id` : 'strategy_id', reason: 'strategy is inactive' },
        ]);
    }
    return null;
  }

  private committed(events: LoggedEvent[]): void {
    if (!events.length) return;
    for (const e of events) this.metrics.published.inc({ domain: e.event.type.split('.')[0] });
    this.publishRate.add(events.length);
    this.mercure?.observe(events);
    this.broker.publish(events);
    this.dispatcher.notify();
  }

  async publish(events: ValidEvent[]): Promise<AppendResult[]> {
    if (this.draining) throw new HubError(503, 'shutting_down', 'the hub is shutting down; retry against the restarted hub', undefined, { 'retry-after': '2' });
    return this.engine.publish(events);
  }

  /** Start the engine, listen, and start the timers. */
  private async listen(): Promise<void> {
    // A Mercure key that is not one (an RS256 key that is no PEM) stops the hub here, not at a request.
    await this.mercure?.auth.ready;
    await this.engine.start();
    await this.app.listen({ host: this.opts.host, port: this.opts.port });
    this.pruneTimer = setInterval(() => void this.prune(), this.opts.retention.intervalMs);
    this.pruneTimer.unref();
    this.actionTimer = setInterval(() => void this.sweepActions(), this.opts.actions.sweepIntervalMs);
    this.actionTimer.unref();
    // Endpoints pick up where their cursors stopped: events acknowledged before a crash go out now.
    this.dispatcher.notify();
    try {
      this.recordHolder();
    } catch (err) {
      // Only a message for someone else depends on it; a disk refusing this write refuses publishes too.
      this.logger.warn({ err }, 'could not record this hub as the holder of its database');
    }
    this.logger.info({ url: this.url, db: this.opts.dbFile, engine: this.engine.kind, head: this.log.head }, 'hub started');
  }

  get port(): number {
    return (this.app.server.address() as AddressInfo).port;
  }

  /** A one-time console link for the bootstrap admin (or another token). */
  loginUrl(tokenId = BOOTSTRAP_ADMIN_ID): string {
    return `${this.url}/auth/exchange?code=${encodeURIComponent(this.tokens.createLoginCode(tokenId))}`;
  }

  /**
   * Prune in chunks, yielding between them, until retention is met. Each chunk is its own short
   * transaction, so publishes interleave instead of waiting for one large delete.
   */
  async prune(): Promise<number> {
    if (this.pruning) return 0;
    this.pruning = true;
    let total = 0;
    try {
      const r = this.opts.retention;
      for (;;) {
        const n = this.log.pruneChunk({ maxAgeMs: r.maxAgeMs, maxEvents: r.maxEvents, chunk: r.chunk, now: Date.now() });
        total += n;
        if (n < r.chunk) break;
        await new Promise((res) => setImmediate(res));
      }
      if (total) {
        this.projections.pruneBefore(this.log.prunedThrough + 1);
        this.webhooks.pruneDeadBefore(this.log.prunedThrough + 1);
        this.logger.debug({ pruned: total, through: this.log.prunedThrough }, 'retention pruned');
      }
    } catch (err) {
      this.logger.warn({ err }, 'retention pruning failed; will retry');
    } finally {
      this.pruning = false;
    }
    return total;
  }

  /**
   * Mark actions no backend answered within `actions.timeoutMs` as `action.timed_out`. The event's
   * id is derived from the action's, so a sweep repeated after a crash, or by another hub on the
   * same bus, stores it once. Each is published on its own: one refused (a deactivated strategy)
   * does not hold back the others.
   */
  async sweepActions(now = Date.now()): Promise<number> {
    if (this.sweeping || this.draining) return 0;
    this.sweeping = true;
    let n = 0;
    try {
      const { timeoutMs } = this.opts.actions;
      for (const req of this.actions.overdue(new Date(now - timeoutMs).toISOString())) {
        try {
          const [r] = await this.publish([timedOutEvent(req, timeoutMs)]);
          if (r && !r.duplicate) n++;
        } catch (err) {
          this.logger.warn({ err, action_id: req.data.action_id }, 'could not mark an action timed out; will retry');
        }
      }
    } catch (err) {
      this.logger.warn({ err }, 'action timeout sweep failed; will retry');
    } finally {
      this.sweeping = false;
    }
    return n;
  }

  logBytes(): number {
    let n = 0;
    for (const f of [this.opts.dbFile, `${this.opts.dbFile}-wal`]) {
      try {
        n += statSync(f).size;
      } catch {
        /* the WAL may not exist yet */
      }
    }
    return n;
  }

  /**
   * Graceful stop: refuse new publishes, let queued commits finish, tell every stream to come back
   * (with a retry hint), then close the server and the database.
   */
  async close(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    clearInterval(this.pruneTimer);
    clearInterval(this.actionTimer);
    try {
      await this.engine.close();
      this.snapshots.close();
      await this.dispatcher.close();
      this.broker.close({ reason: 'shutdown', message: 'the hub is shutting down; reconnect with Last-Event-ID', retry_ms: this.opts.retryMs });
      await this.app.close();
      this.tokens.flushLastUsed();
    } finally {
      // Even a failed shutdown must hand the file back, or no hub could open it until we exit.
      this.db.close();
      this.claim.release();
    }
    this.logger.info('hub stopped');
  }
}
