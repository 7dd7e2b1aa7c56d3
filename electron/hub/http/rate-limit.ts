import type { FastifyInstance, FastifyRequest } from 'fastify';
import fastifyRateLimit from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import { createRequire } from 'node:module';
import { HubError } from '../errors.ts';
import type { Principal } from '../tokens.ts';

/** What a read costs beyond its request: one unit per 100 rows examined and per 16 KB sent. */
export const ROWS_PER_UNIT = 100;
export const BYTES_PER_UNIT = 16 * 1024;
export function readCost(rows: number, bytes: number): number {
  return rows / ROWS_PER_UNIT + bytes / BYTES_PER_UNIT;
}

/**
 * The limit is counted in fixed windows of two seconds holding twice the per-second rate: a token
 * averages its rate and may burst to two seconds' worth, as a token bucket of that size would.
 */
export const RATE_WINDOW_MS = 2_000;

interface StoreResult {
  current: number;
  ttl: number;
}
type StoreCallback = (err: Error | null, res: StoreResult | null) => void;
interface LibraryStore {
  incr(key: string, cb: StoreCallback, timeWindow: number, max: number): void;
  read?(key: string, cb: StoreCallback, timeWindow: number, max: number): void;
}

// The library's own stores (counting one per request) are not exported from its entry point.
const require = createRequire(import.meta.url);
const LocalStore = require('@fastify/rate-limit/store/LocalStore.js') as new (continueExceeding: boolean, exponentialBackoff: boolean, cache?: number) => LibraryStore & {
  lru: { get(key: string): { current: number; ttl: number; iterationStartMs: number } | undefined; set(key: string, v: unknown): void };
};
const RedisStore = require('@fastify/rate-limit/store/RedisStore.js') as new (continueExceeding: boolean, exponentialBackoff: boolean, redis: Redis, key?: string) => LibraryStore;

/**
 * A read is charged for the work it did after it is done, which @fastify/rate-limit cannot express
 * (its stores add exactly one per request). So this wraps the library's store, which still counts
 * and refuses every request, and adds `charge`: the same counter raised by a weight, in the same
 * window (starting one when none is open), in memory or in Redis alike.
 */
export interface WeightedStore extends LibraryStore {
  charge(key: string, units: number): Promise<void>;
  child(): WeightedStore;
}

/** Counting and refusing stay the library store's; a subclass adds only how to charge a weight. */
abstract class WeightedOver<S extends LibraryStore> implements WeightedStore {
  constructor(protected readonly inner: S) {}
  incr(key: string, cb: StoreCallback, timeWindow: number, max: number) {
    this.inner.incr(key, cb, timeWindow, max);
  }
  read(key: string, cb: StoreCallback, timeWindow: number, max: number) {
    this.inner.read!(key, cb, timeWindow, max);
  }
  child() {
    return this;
  }
  abstract charge(key: string, units: number): Promise<void>;
}

class WeightedLocalStore extends WeightedOver<InstanceType<typeof LocalStore>> {
  constructor() {
    super(new LocalStore(false, false, 10_000));
  }
  async charge(key: string, units: number) {
    const now = Date.now();
    const e = this.inner.lru.get(key);
    if (!e || e.iterationStartMs + RATE_WINDOW_MS <= now) this.inner.lru.set(key, { current: units, ttl: RATE_WINDOW_MS, iterationStartMs: now });
    else e.current += units;
  }
}

const CHARGE_LUA = `
local current = redis.call('INCRBY', KEYS[1], ARGV[1])
if current == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return current`;

class WeightedRedisStore extends WeightedOver<LibraryStore> {
  constructor(
    private readonly redis: Redis & { rdRateCharge?: (key: string, units: number, windowMs: number) => Promise<number> },
    private readonly prefix: string,
  ) {
    super(new RedisStore(false, false, redis, prefix));
    if (!redis.rdRateCharge) redis.defineCommand('rdRateCharge', { numberOfKeys: 1, lua: CHARGE_LUA });
  }
  async charge(key: string, units: number) {
    // Redis counts whole units; the work is still charged, rounded to the nearest unit.
    const n = Math.round(units);
    if (n > 0) await this.redis.rdRateCharge!(this.prefix + key, n, RATE_WINDOW_MS);
  }
}

export interface RateLimitOptions {
  /** Requests per second for a token without its own rate (and per IP without a token); 0 turns limiting off. */
  defaultPerSecond: number;
  /** A Redis connection that fails fast when Redis is away: the limit is then shared by every hub on it. */
  redis?: Redis;
  redisPrefix?: string;
}

const rateOf = (p: Principal | null | undefined, defaultPerSecond: number) => p?.rateLimit ?? defaultPerSecond;
const keyOf = (p: Principal | null | undefined, ip: string) => (p ? `tok:${p.tokenId}` : `ip:${ip}`);

/**
 * What a route charges after the fact (a read's rows and bytes): the same counter the request
 * was let in by.
 */
export class RateCharger {
  constructor(
    private readonly store: WeightedStore,
    private readonly defaultPerSecond: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  charge(p: Principal, units: number): void {
    if (rateOf(p, this.defaultPerSecond) <= 0 || !(units > 0)) return;
    this.store.charge(keyOf(p, ''), units).catch(this.onError);
  }
}

/**
 * @fastify/rate-limit on every route of `app` (a route opts out with `config: { rateLimit: false }`),
 * keyed on the authenticated token (the auth hook runs first), or the client's IP on a route that
 * takes none. With Redis the counters live there, so N hubs behind a balancer allow the limit once,
 * not N times. If Redis cannot answer, requests are let through (a limiter outage must not become
 * an API outage) and the error is logged.
 */
export async function registerRateLimit(app: FastifyInstance, opts: RateLimitOptions): Promise<RateCharger> {
  const store: WeightedStore = opts.redis ? new WeightedRedisStore(opts.redis, opts.redisPrefix ?? 'relaydesk:rate:') : new WeightedLocalStore();
  await app.register(fastifyRateLimit, {
    global: true,
    hook: 'onRequest',
    timeWindow: RATE_WINDOW_MS,
    max: (req: FastifyRequest) => Math.max(1, Math.round(rateOf(req.principal, opts.defaultPerSecond) * (RATE_WINDOW_MS / 1000))),
    allowList: (req: FastifyRequest) => rateOf(req.principal, opts.defaultPerSecond) <= 0,
    keyGenerator: (req: FastifyRequest) => keyOf(req.principal, req.ip),
    store: function Store() {
      return store;
    } as unknown as never,
    skipOnError: true,
    errorResponseBuilder: (req, ctx) => {
      const rate = rateOf(req.principal, opts.defaultPerSecond);
      const wait = Math.max(1, Math.ceil(ctx.ttl / 1000));
      const who = req.principal ? `token ${req.principal.tokenId}` : `client ${req.ip}`;
      return new HubError(
        429,
        'rate_limited',
        `${who} exceeded ${rate} requests/s (a read costs 1 more per ${ROWS_PER_UNIT} rows examined and per ${BYTES_PER_UNIT / 1024} KB sent); retry in ${wait} s`,
        undefined,
        { 'retry-after': String(wait) },
      );
    },
  });
  return new RateCharger(store, opts.defaultPerSecond, (err) => app.log.warn({ err }, 'rate limit charge failed'));
}
