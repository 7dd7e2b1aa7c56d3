import { setTimeout as sleep } from 'node:timers/promises';
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { eventContentKey, generatedEventId, type ValidEvent } from '../../../shared/events.ts';
import { scopeNamespace } from '../../../shared/state-keys.ts';
import type { BusEngine, CommitContext, EngineContext, EngineFactory, EngineLogger } from '../engine.ts';
import { IdConflictError, type AppendResult, type LoggedEvent } from '../log.ts';
import { HubError, isStorageError } from '../errors.ts';
import { RedisControl } from './redis-control.ts';
import type { BusFork } from '../../../shared/api.ts';
import { chainContains, epochChainSchema, newEpochId, type EpochLink } from '../epoch.ts';

/**
 * Several hubs, one system: the Redis Streams engine (docs/scaling.md).
 *
 * - Publish: one Lua script checks publisher ids (per scope namespace, with a TTL), allocates consecutive
 *   global sequence numbers and XADDs one entry per event with the stream id `<seq>-0`. Redis is the
 *   single point of ordering, so there is exactly one order and one sequence for every hub.
 * - Every hub, the publishing one included, tails the stream from its local head (XREAD BLOCK) and
 *   applies the entries to its own SQLite log with the global seq, then hands them to its broker
 *   through the same `committed()` path the local engine uses. The local log is the replica that
 *   serves history, snapshots and Last-Event-ID replay.
 * - A publish is acknowledged only when Redis accepted it AND this hub's consumer has committed it
 *   to the local log. When Redis is unreachable publishes are refused with 503 (no local outbox:
 *   an outbox would have to assign an order before the global order exists).
 * - Epochs (../epoch.ts): Redis holds an epoch record (`<prefix>:epoch`: id, parent, base, chain),
 *   and every publish checks, in the same script, that it is still the epoch this hub follows, and
 *   tags its entries with it. A Redis that lost its data (restarted without persistence) has no
 *   record: nobody can publish into it until the hubs agreed where the log continues. Each hub
 *   that notices says how far it got (`<prefix>:epoch-peers`), waits `epochSettleMs` for the others,
 *   and one of them starts a new epoch whose parent is the old one and whose seqs continue after
 *   the highest head any of them reported. A hub whose log went further in the old epoch than that
 *   base (it was away while the others settled) holds a history the shared log left: it is forked,
 *   and refuses publishes (503 log_forked) and readiness instead of acknowledging into it.
 */

export interface RedisEngineOptions {
  /** Key prefix; the `{...}` hash tag keeps all keys in one Redis Cluster slot. */
  prefix?: string;
  /** How long a publisher id is remembered in Redis for global idempotency. */
  idTtlMs?: number;
  /** How long a publish waits for this hub's own consumer to commit before answering 503. */
  commitTimeoutMs?: number;
  /** Entries per XREAD (one SQLite transaction each). */
  readCount?: number;
  /** XREAD BLOCK timeout. */
  blockMs?: number;
  /** How long start() waits for the first catch-up before letting the hub listen anyway. */
  startTimeoutMs?: number;
  /** How often the stream is trimmed to the local log's retention. */
  trimIntervalMs?: number;
  /**
   * With replicas (Sentinel failover): acknowledge only after this many replicas confirmed the
   * write (WAIT), so a failover cannot lose an acknowledged event. Default 0, or
   * RELAYDESK_REDIS_MIN_REPLICAS.
   */
  minReplicas?: number;
  /** WAIT timeout for minReplicas. */
  replicaTimeoutMs?: number;
  /**
   * After noticing that Redis lost its data, how long to wait for the other hubs to report their
   * heads before starting the new epoch (a hub reporting later than that may find itself forked).
   */
  epochSettleMs?: number;
}

/** Why this hub stopped publishing: its log holds a history the shared stream no longer has. */
export type ForkInfo = BusFork;

/**
 * `redis://` / `rediss://` URLs go to ioredis as they are. Sentinel: `redis-sentinel://[:password@]
 * host:26379,host2:26379/mastername` (failover is then followed by ioredis).
 */
export function redisTarget(url: string): string | RedisOptions {
  const m = /^redis-sentinel:\/\/(?:(?:[^:@/]*):([^@/]*)@)?([^/]+)\/([^/?#]+)$/.exec(url);
  if (!m) return url;
  const sentinels = m[2]!.split(',').map((hp) => {
    const i = hp.lastIndexOf(':');
    return i > 0 ? { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) } : { host: hp, port: 26379 };
  });
  return { sentinels, name: decodeURIComponent(m[3]!), ...(m[1] ? { password: decodeURIComponent(m[1]) } : {}) };
}

const DAY = 24 * 3600_000;

/**
 * KEYS[1] counter, KEYS[2] stream, KEYS[3] epoch record. ARGV[1] n, ARGV[2] id TTL ms, ARGV[3] id key
 * prefix, ARGV[4] the publishing hub's applied seq (a floor: never reuse a seq a hub holds), ARGV[5]
 * the epoch the hub follows, then per event: `<scope namespace>/<publisher id>` ('' when none),
 * fingerprint of the event's content (shared eventContentKey), payload JSON.
 * Returns per event the new seq, or minus the seq of the earlier event with the same id; or
 * {'conflict', index, priorSeq} when an id was used for different content; or {'epoch', current}
 * when the record is missing (Redis lost its data) or is another epoch (nothing is written then).
 * Entries carry their epoch, and the record its last seq, written in the same script.
 */
const PUBLISH_LUA = `
local ep = redis.call('HGET', KEYS[3], 'id')
if ep ~= ARGV[5] then return {'epoch', ep or ''} end
local n = tonumber(ARGV[1])
local ttl = ARGV[2]
local idp = ARGV[3]
local seen = {}
for i = 1, n do
  local b = 5 + (i - 1) * 3
  local id, fp = ARGV[b + 1], ARGV[b + 2]
  if id ~= '' then
    local prior = seen[id]
    if prior then
      if prior.fp ~= fp then return {'conflict', i, prior.seq or 0} end
    else
      local v = redis.call('GET', idp .. id)
      if v then
        local sep = string.find(v, ':', 1, true)
        local pseq = tonumber(string.sub(v, 1, sep - 1))
        if string.sub(v, sep + 1) ~= fp then return {'conflict', i, pseq} end
        seen[id] = {fp = fp, seq = pseq}
      else
        seen[id] = {fp = fp, seq = false}
      end
    end
  end
end
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local floor = tonumber(ARGV[4])
if floor > cur then cur = floor end
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if last[1] then
  local ls = tonumber(string.match(last[1][1], '^(%d+)'))
  if ls > cur then cur = ls end
end
local out = {}
for i = 1, n do
  local b = 5 + (i - 1) * 3
  local id, fp, payload = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3]
  if id ~= '' and seen[id].seq then
    out[i] = -seen[id].seq
  else
    cur = cur + 1
    local s = string.format('%d', cur)
    redis.call('XADD', KEYS[2], s .. '-0', 'e', payload, 'ep', ep)
    if id ~= '' then
      seen[id].seq = cur
      redis.call('SET', idp .. id, s .. ':' .. fp, 'PX', ttl)
    end
    out[i] = cur
  end
end
redis.call('SET', KEYS[1], string.format('%d', cur))
redis.call('HSET', KEYS[3], 'head', string.format('%d', cur))
return out
`;

/**
 * KEYS[1] epoch record, KEYS[2] counter, KEYS[3] peers. ARGV[1] the record id expected now ('' for
 * none), ARGV[2] new id, ARGV[3] parent ('' for none), ARGV[4] base, ARGV[5] chain JSON, ARGV[6] by,
 * ARGV[7] at, ARGV[8] '1' when the caller has no history (then it waits while others are settling).
 * Returns {1} when written, or {0, current id} when the record is not what the caller expected.
 */
const EPOCH_LUA = `
local cur = redis.call('HGET', KEYS[1], 'id') or ''
if cur ~= ARGV[1] then return {0, cur} end
if ARGV[8] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then return {0, 'settling'} end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'id', ARGV[2], 'parent', ARGV[3], 'base', ARGV[4], 'chain', ARGV[5], 'by', ARGV[6], 'at', ARGV[7], 'head', ARGV[4])
local c = tonumber(redis.call('GET', KEYS[2]) or '0')
if c < tonumber(ARGV[4]) then redis.call('SET', KEYS[2], ARGV[4]) end
return {1}
`;

type PublishReply = number[] | ['conflict', number, number] | ['epoch', string];
interface ScriptedRedis extends Redis {
  rdPublish(counter: string, stream: string, epoch: string, ...args: (string | number)[]): Promise<PublishReply>;
  rdEpoch(record: string, counter: string, peers: string, ...args: string[]): Promise<[1] | [0, string]>;
}

interface EpochRecord {
  id: string;
  base: number;
  chain: EpochLink[];
}
type XReadReply = [string, [string, string[]][]][] | null;
interface TailEntry {
  seq: number;
  ev: ValidEvent;
  receivedAt: string;
  epoch: string;
}

interface Waiter {
  upTo: number;
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const fingerprint = (ev: ValidEvent) => createHash('sha1').update(eventContentKey(ev)).digest('base64');

const forked = (f: ForkInfo) =>
  new HubError(503, 'log_forked', `${f.message}; nothing from this request was acknowledged, publish to another hub`, undefined, { 'retry-after': '30' });

const unavailable = (why: string) =>
  new HubError(503, 'redis_unavailable', `the Redis bus is unavailable (${why}); nothing from this request was acknowledged, retry later with the same event ids`, undefined, {
    'retry-after': '2',
  });

export class RedisEngine implements BusEngine {
  readonly kind = 'redis' as const;
  private readonly cmd: ScriptedRedis;
  private readonly sub: Redis;
  /** Tails the control stream; XREAD BLOCK holds its connection, so it cannot share the event tail's. */
  private readonly controlTail: Redis;
  readonly control: RedisControl;
  private readonly o: Required<RedisEngineOptions>;
  private readonly keys: { counter: string; stream: string; idPrefix: string; epoch: string; peers: string };
  /**
   * 'ok' once this hub knows the epoch it follows is Redis's: only then does the tail apply and do
   * publishes go out. 'unknown' after a (re)connect until checked; 'settling' while agreeing on a
   * new epoch with the other hubs; 'forked' for good (this log left the shared history).
   */
  private epochState: 'unknown' | 'settling' | 'ok' | 'forked' = 'unknown';
  private checking?: Promise<void>;
  private forkInfo: ForkInfo | null = null;
  /** Highest global seq applied to the local log (including entries skipped as local duplicates). */
  private cursor: number;
  private closing = false;
  private loopDone: Promise<void> = Promise.resolve();
  private waiters: Waiter[] = [];
  /** Local outcomes that differ from "stored as new" (rare: the Redis id TTL expired). */
  private odd = new Map<number, AppendResult | HubError>();
  private caughtUp = false;
  private caughtUpAt = 0;
  private lastLatencyMs: number | null = null;
  private trimTimer?: NodeJS.Timeout;
  private trimmedBelow = 0;
  private lastWarn = 0;
  private readonly applyBatch: (entries: TailEntry[]) => LoggedEvent[];
  readonly counters = { applied: 0, gaps: 0, reconnects: 0 };

  private readonly ctx: CommitContext;
  private readonly logger: EngineLogger;
  private readonly hubId: string;
  private readonly dropStreams: EngineContext['dropStreams'];

  constructor(
    env: EngineContext,
    readonly url: string,
    opts: RedisEngineOptions = {},
  ) {
    const ctx = (this.ctx = env.commit);
    const hubId = (this.hubId = env.hubId);
    const logger = (this.logger = env.logger);
    this.dropStreams = env.dropStreams;
    this.o = {
      prefix: opts.prefix ?? process.env.RELAYDESK_REDIS_PREFIX ?? '{relaydesk}',
      idTtlMs: opts.idTtlMs ?? DAY,
      commitTimeoutMs: opts.commitTimeoutMs ?? 10_000,
      readCount: opts.readCount ?? 1000,
      blockMs: opts.blockMs ?? 2000,
      startTimeoutMs: opts.startTimeoutMs ?? 5000,
      trimIntervalMs: opts.trimIntervalMs ?? Math.max(1000, env.retentionIntervalMs),
      minReplicas: opts.minReplicas ?? Number(process.env.RELAYDESK_REDIS_MIN_REPLICAS ?? 0),
      replicaTimeoutMs: opts.replicaTimeoutMs ?? 2000,
      epochSettleMs: opts.epochSettleMs ?? 1500,
    };
    this.keys = {
      counter: `${this.o.prefix}:seq`,
      stream: `${this.o.prefix}:stream`,
      idPrefix: `${this.o.prefix}:id:`,
      epoch: `${this.o.prefix}:epoch`,
      peers: `${this.o.prefix}:epoch-peers`,
    };
    const base: RedisOptions = {
      // Fail fast instead of queueing: a command that cannot be sent now must not run later,
      // after we already told the publisher 503.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
      connectTimeout: 2000,
      keepAlive: 10_000,
      lazyConnect: true,
    };
    const target = redisTarget(url);
    const make = (extra: RedisOptions) => (typeof target === 'string' ? new Redis(target, { ...base, ...extra }) : new Redis({ ...target, ...base, ...extra }));
    this.cmd = make({ commandTimeout: 5000 + this.o.replicaTimeoutMs, connectionName: `relaydesk-${hubId}-cmd` }) as ScriptedRedis;
    this.sub = make({ commandTimeout: this.o.blockMs + 5000, connectionName: `relaydesk-${hubId}-tail` });
    this.controlTail = make({ commandTimeout: this.o.blockMs + 5000, connectionName: `relaydesk-${hubId}-control` });
    this.control = new RedisControl(this.cmd, this.controlTail, `${this.o.prefix}:control`, ctx.db, env.control, logger, this.o);
    this.cmd.defineCommand('rdPublish', { numberOfKeys: 3, lua: PUBLISH_LUA });
    this.cmd.defineCommand('rdEpoch', { numberOfKeys: 3, lua: EPOCH_LUA });
    for (const [name, c] of [['cmd', this.cmd], ['tail', this.sub], ['control', this.controlTail]] as const) {
      c.on('error', (err: Error) => this.warn({ err: err.message, conn: name }, 'redis connection error'));
      c.on('ready', () => logger.info({ conn: name }, 'redis connected'));
      c.on('reconnecting', () => {
        this.caughtUp = false;
        if (name === 'tail') this.counters.reconnects++;
        // Whatever Redis comes back may have lost its data: check the epoch before going on.
        if (this.epochState !== 'forked') this.epochState = 'unknown';
      });
    }
    this.cmd.on('ready', () => void this.checkEpoch());

    const meta = ctx.db.prepare("INSERT INTO meta(key, value) VALUES ('redis_applied', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    const row = ctx.db.prepare("SELECT value FROM meta WHERE key = 'redis_applied'").get() as { value: string } | undefined;
    this.cursor = Math.max(ctx.log.head, Number(row?.value ?? 0));
    this.applyBatch = ctx.log.transaction((entries: TailEntry[]) => {
      const out: LoggedEvent[] = [];
      for (const { seq, ev, receivedAt, epoch } of entries) {
        try {
          const r = ctx.log.append(ev, seq, receivedAt, epoch);
          if (r.logged) {
            ctx.projections.apply(r.logged.event);
            out.push(r.logged);
          } else this.remember(seq, { ...r });
        } catch (err) {
          if (!(err instanceof IdConflictError)) throw err;
          // Same id, different content, and Redis no longer remembers the id: every hub holding
          // the earlier event skips this one the same way.
          this.logger.warn({ seq, id: ev.id, prior: err.existingSeq }, 'redis entry conflicts with a local event id; skipped');
          this.remember(seq, new HubError(409, 'id_conflict', err.message, [{ path: 'id', reason: err.message }]));
        }
      }
      meta.run(String(entries[entries.length - 1]!.seq));
      return out;
    });
  }

  async start(): Promise<void> {
    await Promise.allSettled([this.cmd.connect(), this.sub.connect(), this.controlTail.connect()]);
    this.loopDone = this.loop();
    this.control.start();
    this.trimTimer = setInterval(() => void this.trim(), this.o.trimIntervalMs);
    this.trimTimer.unref();
    // Catch up before the hub listens, so a reconnecting client sees a current head; but never
    // refuse to start just because Redis is down: local history and streams still work.
    const end = Date.now() + this.o.startTimeoutMs;
    // Tokens and strategy states too: a client whose token another hub made must not get a 401 here.
    while (!(this.caughtUp && this.control.caughtUp) && !this.forkInfo && Date.now() < end) await sleep(20);
    if (this.forkInfo) this.logger.error({ fork: this.forkInfo }, 'this hub is forked from the shared log; publishes and readiness are refused');
    else if (!this.caughtUp || !this.control.caughtUp) this.logger.warn({ url: this.url, head: this.cursor }, 'redis not reachable or not caught up at start; continuing, publishes are refused until it is');
  }

  status() {
    const connected = this.cmd.status === 'ready' && this.sub.status === 'ready' && this.controlTail.status === 'ready';
    const fork = this.forkInfo;
    if (this.caughtUp && connected) return { connected, lag_ms: this.lastLatencyMs ?? 0, fork };
    return { connected, lag_ms: this.caughtUpAt ? Date.now() - this.caughtUpAt : null, fork };
  }

  /** The highest global seq this hub has applied. */
  get applied(): number {
    return this.cursor;
  }

  /**
   * Resolves true once this hub has applied `seq` (false after the timeout). For a client that
   * resumes here with a Last-Event-ID from a hub that was a few milliseconds ahead.
   */
  async whenApplied(seq: number, timeoutMs: number): Promise<boolean> {
    if (this.cursor >= seq) return true;
    const end = Date.now() + timeoutMs;
    while (this.cursor < seq && Date.now() < end && !this.closing) await sleep(10);
    return this.cursor >= seq;
  }

  async whenEpoch(epoch: string, timeoutMs: number): Promise<boolean> {
    const known = () => this.ctx.log.epochs.chain.some((l) => l.id === epoch);
    if (known() || this.forkInfo || this.cmd.status !== 'ready') return known();
    // Redis may already be in that epoch while this hub has not looked yet. Only an epoch Redis
    // really holds sends this hub to check: a made-up one must not pause its tail and publishes.
    const rec = await this.readRecord().catch(() => null);
    if (!rec?.chain.some((l) => l.id === epoch)) return false;
    if (this.epochState === 'ok') {
      this.epochState = 'unknown';
      void this.checkEpoch();
    }
    const end = Date.now() + timeoutMs;
    while (!known() && !this.forkInfo && Date.now() < end && !this.closing) await sleep(10);
    return known();
  }

  async publish(events: ValidEvent[]): Promise<AppendResult[]> {
    if (this.closing) throw new HubError(503, 'shutting_down', 'the hub is shutting down; retry against another hub', undefined, { 'retry-after': '2' });
    if (this.cmd.status !== 'ready') throw unavailable(`not connected: ${this.cmd.status}`);
    const refused = this.ctx.admit(events);
    if (refused) throw refused;
    const receivedAt = new Date().toISOString();
    // Ids are unique per scope namespace, as in the log (log.ts#append): the Redis key is `<namespace>/<id>`.
    const payloads = events.map((ev) => [ev.id === undefined ? '' : `${scopeNamespace(ev)}/${ev.id}`, fingerprint(ev), JSON.stringify({ ...ev, received_at: receivedAt })]).flat();
    let reply: PublishReply | undefined;
    // Twice at most: a publish that finds another epoch (the record was lost or replaced since the
    // last check) wrote nothing; it waits for the check and goes again in the epoch agreed.
    for (let attempt = 0; attempt < 2; attempt++) {
      await this.epochReady();
      const args: string[] = [String(events.length), String(this.o.idTtlMs), this.keys.idPrefix, String(this.cursor), this.ctx.log.epochs.current, ...payloads];
      try {
        reply = await this.cmd.rdPublish(this.keys.counter, this.keys.stream, this.keys.epoch, ...args);
      } catch (err) {
        const msg = (err as Error).message;
        // Not written vs written-but-unanswered cannot be told apart once the command was sent;
        // either way nothing is acknowledged, and a retry with the same ids is deduplicated.
        if ((err as Error).name === 'ReplyError') throw new HubError(503, 'redis_error', `Redis refused the publish (${msg}); nothing was acknowledged`, undefined, { 'retry-after': '2' });
        throw unavailable(msg);
      }
      if (reply[0] !== 'epoch') break;
      this.logger.warn({ followed: this.ctx.log.epochs.current, redis: reply[1] || null }, 'the Redis epoch is not the one this hub follows (Redis lost data, or a new epoch began); checking before publishing');
      if (this.epochState === 'ok') this.epochState = 'unknown';
      void this.checkEpoch();
    }
    if (!reply || reply[0] === 'epoch') throw unavailable('the Redis epoch changed twice while publishing');
    if (reply[0] === 'conflict') {
      const [, i, prior] = reply as ['conflict', number, number];
      const id = events[i - 1]!.id!;
      const msg = `id "${id}" was already used for a different event${prior ? ` (seq ${prior})` : ' in this request'}`;
      throw new HubError(409, 'id_conflict', msg, [{ path: events.length > 1 ? `${i - 1}.id` : 'id', reason: msg }]);
    }
    const seqs = reply as number[];
    const upTo = Math.max(...seqs.map(Math.abs));
    if (this.o.minReplicas > 0) {
      // WAIT covers every write this connection made so far, the script's included.
      let why = '';
      const got = await this.cmd.wait(this.o.minReplicas, this.o.replicaTimeoutMs).catch((err: Error) => ((why = `: ${err.message}`), -1));
      if (got < this.o.minReplicas)
        throw new HubError(503, 'redis_not_replicated', `Redis stored the events (through seq ${upTo}) but only ${Math.max(got, 0)} of ${this.o.minReplicas} replica(s) confirmed them within ${this.o.replicaTimeoutMs} ms${why}; not acknowledged, retry with the same ids`, undefined, {
          'retry-after': '2',
        });
    }
    await this.waitApplied(upTo);
    const results: AppendResult[] = [];
    for (let i = 0; i < seqs.length; i++) {
      const s = seqs[i]!;
      const ev = events[i]!;
      if (s < 0) {
        results.push({ seq: -s, id: ev.id!, duplicate: true });
        continue;
      }
      const odd = this.odd.get(s);
      if (odd instanceof HubError) throw odd;
      results.push(odd ?? { seq: s, id: ev.id ?? generatedEventId(s), duplicate: false });
    }
    return results;
  }

  rateLimitStore(): { redis: Redis; prefix: string } {
    // The command connection fails fast while Redis is away (no offline queue), so a request is
    // never held waiting for the limiter; the limiter then lets it through.
    return { redis: this.cmd, prefix: `${this.o.prefix}:rate:` };
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.trimTimer);
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new HubError(503, 'shutting_down', 'the hub shut down before applying this publish; it may still be delivered, retry with the same ids', undefined, { 'retry-after': '2' }));
    }
    this.sub.disconnect();
    this.controlTail.disconnect();
    const controlDone = this.control.close();
    this.cmd.disconnect();
    await this.loopDone;
    await controlDone;
  }

  private waitApplied(upTo: number): Promise<void> {
    if (this.cursor >= upTo) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        upTo,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(
            new HubError(503, 'redis_apply_timeout', `Redis stored the events (through seq ${upTo}) but this hub has not applied them within ${this.o.commitTimeoutMs} ms; not acknowledged, retry with the same ids`, undefined, {
              'retry-after': '2',
            }),
          );
        }, this.o.commitTimeoutMs),
      };
      this.waiters.push(w);
    });
  }

  private remember(seq: number, r: AppendResult | HubError): void {
    this.odd.set(seq, r);
    if (this.odd.size > 10_000) this.odd.delete(this.odd.keys().next().value!);
  }

  /** The fork this hub is in, if any (stats `bus.fork`, /healthz). */
  get fork(): ForkInfo | null {
    return this.forkInfo;
  }

  /** Wait (bounded) until this hub follows Redis's epoch; refuse when forked or when it takes too long. */
  private async epochReady(): Promise<void> {
    const end = Date.now() + this.o.commitTimeoutMs;
    while (this.epochState !== 'ok') {
      if (this.forkInfo) throw forked(this.forkInfo);
      if (this.closing) throw new HubError(503, 'shutting_down', 'the hub is shutting down; retry against another hub', undefined, { 'retry-after': '2' });
      if (this.cmd.status !== 'ready') throw unavailable(`not connected: ${this.cmd.status}`);
      if (Date.now() > end)
        throw new HubError(503, 'log_settling', `Redis lost its data and the hubs have not agreed where the log continues within ${this.o.commitTimeoutMs} ms; nothing was acknowledged, retry with the same ids`, undefined, {
          'retry-after': '2',
        });
      if (this.epochState === 'unknown' && !this.checking) void this.checkEpoch();
      await sleep(20);
    }
  }

  /** One check at a time; every (re)connect, epoch mismatch and stray entry asks for one. */
  private checkEpoch(): Promise<void> {
    this.checking ??= this.runEpochCheck()
      .catch((err: Error) => {
        if (this.epochState !== 'forked') this.epochState = 'unknown';
        this.warn({ err: err.message }, 'redis epoch check failed; will retry');
      })
      .finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async readRecord(): Promise<EpochRecord | null> {
    const h = await this.cmd.hgetall(this.keys.epoch);
    if (!h.id) return null;
    const chain = epochChainSchema.safeParse(JSON.parse(h.chain ?? 'null'));
    if (!chain.success) throw new Error(`the Redis epoch record ${this.keys.epoch} is malformed`);
    return { id: h.id, base: Number(h.base ?? 0), chain: chain.data };
  }

  private async writeRecord(expected: string, chain: EpochLink[], fresh: boolean): Promise<boolean> {
    const last = chain[chain.length - 1]!;
    const parent = chain.length > 1 ? chain[chain.length - 2]!.id : '';
    const [ok] = await this.cmd.rdEpoch(this.keys.epoch, this.keys.counter, this.keys.peers, expected, last.id, parent, String(last.base), JSON.stringify(chain), this.hubId, new Date().toISOString(), fresh ? '1' : '0');
    return ok === 1;
  }

  /**
   * Is the epoch Redis holds the one this hub follows? Follow it when our history is part of its
   * chain; start the first epoch on an empty Redis; after a loss, settle a new epoch with the others;
   * or find ourselves forked.
   */
  private async runEpochCheck(): Promise<void> {
    const epochs = this.ctx.log.epochs;
    for (let round = 0; !this.closing && this.epochState !== 'forked'; round++) {
      if (this.cmd.status !== 'ready') return;
      const rec = await this.readRecord();
      if (rec) {
        if (rec.id === epochs.current && epochs.source === 'redis') {
          this.epochState = 'ok';
          return;
        }
        this.follow(rec);
        return;
      }
      const [streamLen, counter] = await Promise.all([this.cmd.xlen(this.keys.stream), this.cmd.get(this.keys.counter)]);
      const redisHasData = streamLen > 0 || counter !== null;
      if (epochs.source === 'local' && (redisHasData || this.cursor === 0)) {
        // First hub with epochs on this Redis (its stream is from hubs before epochs, so our log is
        // that stream), or a fresh start with nothing anywhere: our epoch becomes the shared one.
        if (!(await this.writeRecord('', [...epochs.chain], !redisHasData))) await sleep(Math.min(250, this.o.epochSettleMs));
        continue;
      }
      // Redis has no record but we followed one (or hold events Redis never had): Redis lost its
      // data. Say how far we got, give the other hubs time to say the same, then start the epoch
      // after the highest head, unless one of them did so first.
      this.epochState = 'settling';
      const report = JSON.stringify({ epoch: epochs.current, head: this.cursor, at: new Date().toISOString() });
      await this.cmd.multi().hset(this.keys.peers, this.hubId, report).pexpire(this.keys.peers, this.o.epochSettleMs * 4 + 5000).exec();
      this.logger.error({ epoch: epochs.current, head: this.cursor, settleMs: this.o.epochSettleMs }, 'the Redis epoch record is gone (Redis lost its data?): waiting for the other hubs before starting a new epoch');
      await sleep(this.o.epochSettleMs);
      if (this.closing || this.cmd.status !== 'ready') return;
      const again = await this.readRecord();
      if (again) {
        this.follow(again);
        return;
      }
      const peers = Object.values(await this.cmd.hgetall(this.keys.peers)).map((v) => JSON.parse(v) as { head: number });
      const base = Math.max(this.cursor, ...peers.map((p) => p.head));
      const chain = [...epochs.chain, { id: newEpochId(), base }];
      if (await this.writeRecord('', chain, false)) {
        await this.cmd.del(this.keys.peers);
        this.logger.error({ epoch: chain[chain.length - 1]!.id, parent: epochs.current, base, peers: peers.length }, 'started a new Redis epoch: the log continues after the highest head the hubs reported');
      }
      if (round > 20) throw new Error('could not agree on a Redis epoch');
    }
  }

  /** Redis holds another epoch than ours: follow it if our history is part of it, else we are forked. */
  private follow(rec: EpochRecord): void {
    const epochs = this.ctx.log.epochs;
    const mine = epochs.current;
    // A log not tied to Redis yet is the stream's first epoch (it came from hubs before epochs).
    const ours = epochs.source === 'local' ? rec.chain[0]!.id : mine;
    const fresh = epochs.source === 'local' && this.cursor === 0;
    if (!fresh && !chainContains(rec.chain, this.cursor, ours)) {
      const i = rec.chain.findIndex((l) => l.id === ours);
      const base = i >= 0 && i + 1 < rec.chain.length ? rec.chain[i + 1]!.base : null;
      this.forkInfo = {
        epoch: mine,
        head: this.cursor,
        redis_epoch: rec.id,
        redis_base: base,
        since: new Date().toISOString(),
        message:
          base !== null
            ? `this hub's log went to seq ${this.cursor} in epoch ${mine}, but the shared log left that epoch at seq ${base} (Redis lost data while this hub was away); this hub's log is a fork`
            : `this hub's log (epoch ${mine}, seq ${this.cursor}) is not part of the shared log's history (epoch ${rec.id}); this hub's log is a fork`,
      };
      this.epochState = 'forked';
      this.logger.error({ fork: this.forkInfo }, 'forked from the shared log: refusing publishes; the log keeps what it acknowledged, start this hub with a fresh database to rejoin');
      return;
    }
    const base = rec.chain[rec.chain.length - 1]!.base;
    epochs.adopt(rec.chain.map((l) => ({ ...l })));
    if (!fresh && base > this.cursor) {
      // The others got further before Redis lost it: those events are gone for this hub.
      this.gap(this.cursor + 1, base, []);
    }
    this.logger.info({ epoch: rec.id, chain: rec.chain.length }, 'following the Redis epoch');
    this.epochState = 'ok';
  }

  private async loop(): Promise<void> {
    let backoff = 50;
    while (!this.closing) {
      try {
        if (this.sub.status !== 'ready' || this.epochState !== 'ok') {
          // Nothing is applied until this hub knows the stream is the history it follows.
          if (this.epochState === 'unknown' && this.cmd.status === 'ready') void this.checkEpoch();
          this.caughtUp = false;
          await sleep(50);
          continue;
        }
        // Not caught up yet (start, reconnect): read without blocking, so an empty or idle stream
        // counts as caught up at once instead of after the block timeout.
        const from = `${this.cursor}-0`;
        const reply = (
          this.caughtUp
            ? await this.sub.xread('COUNT', this.o.readCount, 'BLOCK', this.o.blockMs, 'STREAMS', this.keys.stream, from)
            : await this.sub.xread('COUNT', this.o.readCount, 'STREAMS', this.keys.stream, from)
        ) as XReadReply;
        const now = Date.now();
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length) this.apply(entries);
        if (entries.length < this.o.readCount) {
          this.caughtUp = true;
          this.caughtUpAt = now;
        }
        backoff = 50;
      } catch (err) {
        if (this.closing) break;
        this.caughtUp = false;
        this.warn({ err: (err as Error).message }, 'redis tail failed; retrying');
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 1000);
      }
    }
  }

  private apply(raw: [string, string[]][]): void {
    const entries: TailEntry[] = [];
    const followed = this.ctx.log.epochs.current;
    for (const [id, fields] of raw) {
      const seq = Number(id.slice(0, id.indexOf('-')));
      // Entries from hubs before epochs carry none: they are the epoch the record says.
      const e = fields.indexOf('ep');
      const epoch = e >= 0 && e % 2 === 0 ? fields[e + 1]! : followed;
      if (epoch !== followed) {
        // Another epoch began since our check: stop here and check before applying anything of it.
        this.logger.warn({ seq, epoch, followed }, 'redis stream entry from another epoch; checking the epoch before applying more');
        this.epochState = 'unknown';
        void this.checkEpoch();
        break;
      }
      const expected = (entries.length ? entries[entries.length - 1]!.seq : this.cursor) + 1;
      if (seq > expected) this.gap(expected, seq - 1, entries);
      const body = JSON.parse(fields[fields.indexOf('e') + 1]!) as ValidEvent & { received_at: string };
      const { received_at: receivedAt, ...ev } = body;
      entries.push({ seq, ev, receivedAt, epoch });
    }
    if (!entries.length) return;
    let logged: LoggedEvent[];
    try {
      logged = this.applyBatch(entries);
    } catch (err) {
      if (isStorageError(err)) this.logger.error({ err }, 'cannot write the local log; the Redis tail will retry');
      throw err;
    }
    const last = entries[entries.length - 1]!;
    this.cursor = last.seq;
    this.counters.applied += entries.length;
    this.lastLatencyMs = Math.max(0, Date.now() - Date.parse(last.receivedAt));
    this.ctx.committed(logged);
    if (this.waiters.length) {
      const done = this.waiters.filter((w) => w.upTo <= this.cursor);
      if (done.length) {
        this.waiters = this.waiters.filter((w) => w.upTo > this.cursor);
        for (const w of done) {
          clearTimeout(w.timer);
          w.resolve();
        }
      }
    }
  }

  /**
   * Entries from..to are gone from the stream (trimmed while this hub was away, or lost by Redis).
   * Never skip silently: record them as pruned so a resume from before them gets a `reset` with a
   * snapshot, and send live subscribers away so they resume (and get that reset) too.
   */
  private gap(from: number, to: number, pending: TailEntry[]): void {
    this.counters.gaps++;
    this.logger.error({ from, to }, 'events missing from the Redis stream (trimmed or lost); this hub cannot replay them');
    if (pending.length) {
      // Commit what precedes the gap first so the pruned marker stays below our own events.
      this.applyBatchSafe(pending.splice(0));
    }
    this.ctx.log.markGone(to);
    this.cursor = Math.max(this.cursor, to);
    this.dropStreams({
      reason: 'admin',
      message: `this hub missed events ${from}..${to} from the bus; reconnect with Last-Event-ID to get a reset and a fresh snapshot`,
      retry_ms: 1000,
    });
  }

  private applyBatchSafe(entries: TailEntry[]): void {
    const logged = this.applyBatch(entries);
    this.cursor = entries[entries.length - 1]!.seq;
    this.ctx.committed(logged);
  }

  /** Trim the stream below what the local log has pruned by the shared retention rules. */
  private async trim(): Promise<void> {
    const below = this.ctx.log.prunedThrough + 1;
    if (below <= this.trimmedBelow || this.cmd.status !== 'ready') return;
    try {
      await this.cmd.xtrim(this.keys.stream, 'MINID', '~', `${below}-0`);
      this.trimmedBelow = below;
    } catch (err) {
      this.warn({ err: (err as Error).message }, 'redis trim failed; will retry');
    }
  }

  private warn(obj: object, msg: string): void {
    const now = Date.now();
    if (now - this.lastWarn < 1000) return;
    this.lastWarn = now;
    this.logger.warn(obj, msg);
  }
}

/** `relaydesk serve --redis URL`: every hub started with the same URL (and prefix) is one system. */
export function redisEngineFactory(url: string, opts: RedisEngineOptions = {}): EngineFactory {
  return (env) => new RedisEngine(env, url, opts);
}
