import { Command, Option } from 'commander';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hub } from '../hub/hub.ts';
import { hubDefaults, DEFAULT_PORT } from '../hub/config.ts';
import type { HubOptions } from '../hub/config.ts';
import type { EngineFactory } from '../hub/engine.ts';
import { HubError } from '../hub/errors.ts';
import { DATABASE_IN_USE } from '../hub/db.ts';
import { CliError, EXIT } from './common.ts';
import { MERCURE_ALGS, type MercureAlg } from '../hub/mercure/auth.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const RENDERER_DIR = resolve(here, '../../dist/renderer');

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${v}"`);
  return n;
};
const collect = (v: string, prev: string[] = []) => [...prev, v];

export interface ServeFlags {
  host: string;
  port: number;
  db?: string;
  heartbeatMs: number;
  retentionDays: number;
  retentionMaxEvents: number;
  allowedHost: string[];
  corsOrigin: string[];
  redis?: string;
  demo: boolean;
  logLevel: HubOptions['logLevel'];
  rateLimit: number;
  maxConnections?: number;
  demoRate: number;
  demoSeed?: number;
  mercurePublisherJwtKey?: string;
  mercureSubscriberJwtKey?: string;
  mercureJwtAlg: MercureAlg;
  mercureAnonymous: boolean;
  mercureSubscriptions: boolean;
}

export function serveCommand(onDemo?: (url: string, adminToken: string, flags: ServeFlags) => Promise<() => Promise<void>>): Command {
  return new Command('serve')
    .description('run the hub headless: SSE stream, publish API and the console at http://HOST:PORT/')
    .addOption(new Option('--host <host>', 'address to bind (loopback by default; 0.0.0.0 for the LAN)').env('RELAYDESK_HOST').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'port to listen on (0 picks a free one)').env('RELAYDESK_PORT').default(DEFAULT_PORT).argParser(int('--port')))
    .addOption(new Option('--db <file>', 'SQLite event log (default: the user data folder)').env('RELAYDESK_DB'))
    .addOption(new Option('--heartbeat-ms <ms>', 'heartbeat interval').env('RELAYDESK_HEARTBEAT_MS').default(15_000).argParser(int('--heartbeat-ms')))
    .addOption(new Option('--retention-days <days>', 'keep events this many days').env('RELAYDESK_RETENTION_DAYS').default(7).argParser(Number))
    .addOption(new Option('--retention-max-events <n>', 'keep at most this many events').env('RELAYDESK_RETENTION_MAX_EVENTS').default(1_000_000).argParser(int('--retention-max-events')))
    .addOption(new Option('--allowed-host <name>', 'extra Host header name to accept (repeatable)').default([]).argParser(collect))
    .addOption(new Option('--cors-origin <origin>', 'extra browser origin allowed to call the API (repeatable)').default([]).argParser(collect))
    .addOption(new Option('--redis <url>', 'fan out through Redis Streams (several hubs, one system)').env('RELAYDESK_REDIS_URL'))
    .addOption(new Option('--rate-limit <n>', 'default requests per second per token').env('RELAYDESK_RATE_LIMIT').default(1000).argParser(int('--rate-limit')))
    .addOption(
      new Option('--max-connections <n>', 'open connections at most; idle ones are closed to let new ones in (default: open-file limit minus 64)')
        .env('RELAYDESK_MAX_CONNECTIONS')
        .argParser(int('--max-connections')),
    )
    .addOption(new Option('--log-level <level>', 'structured log level (stderr)').env('RELAYDESK_LOG_LEVEL').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'))
    .addOption(new Option('--mercure-publisher-jwt-key <key>', 'speak the Mercure protocol on /.well-known/mercure; verify publishers\' JWTs with this key (HS256 secret or RS256 PEM public key)').env('MERCURE_PUBLISHER_JWT_KEY'))
    .addOption(new Option('--mercure-subscriber-jwt-key <key>', 'verify Mercure subscribers\' JWTs with this key (default: the publisher key)').env('MERCURE_SUBSCRIBER_JWT_KEY'))
    .addOption(new Option('--mercure-jwt-alg <alg>', 'the Mercure keys\' algorithm').env('MERCURE_JWT_ALG').choices([...MERCURE_ALGS]).default('HS256'))
    .addOption(new Option('--mercure-anonymous', 'let Mercure subscribers without a JWT subscribe (public updates only)').env('MERCURE_ANONYMOUS').default(false))
    .addOption(new Option('--mercure-subscriptions', 'publish Mercure subscription events and serve /.well-known/mercure/subscriptions').env('MERCURE_SUBSCRIPTIONS').default(false))
    .option('--demo', 'run the demo publishers (a store, two trading strategies, a mailbox, the jobs of a script generator) through the HTTP API', false)
    .addOption(new Option('--demo-rate <x>', 'demo speed multiplier (1 = a few events per second)').env('RELAYDESK_DEMO_RATE').default(1).argParser((v: string) => {
      const n = Number(v);
      if (!(n > 0 && n <= 1000)) throw new Error(`--demo-rate must be a number in (0, 1000], got "${v}"`);
      return n;
    }))
    .addOption(new Option('--demo-seed <n>', 'seed the demo\'s randomness (reproducible runs)').argParser(int('--demo-seed')))
    .action(async (flags: ServeFlags) => {
      const opts: Partial<HubOptions> = {
        host: flags.host,
        port: flags.port,
        ...(flags.db ? { dbFile: resolve(flags.db) } : {}),
        adminToken: process.env.RELAYDESK_ADMIN_TOKEN || undefined,
        heartbeatMs: flags.heartbeatMs,
        retention: { ...hubDefaults().retention, maxAgeMs: flags.retentionDays * 24 * 3600_000, maxEvents: flags.retentionMaxEvents },
        allowedHosts: flags.allowedHost,
        corsOrigins: flags.corsOrigin,
        rendererDir: RENDERER_DIR,
        redisUrl: flags.redis,
        logLevel: flags.logLevel,
        rateLimitPerSecond: flags.rateLimit,
        ...(flags.maxConnections ? { maxConnections: flags.maxConnections } : {}),
        ...(flags.mercurePublisherJwtKey || flags.mercureSubscriberJwtKey
          ? {
              mercure: {
                publisherKey: flags.mercurePublisherJwtKey,
                subscriberKey: flags.mercureSubscriberJwtKey,
                alg: flags.mercureJwtAlg,
                anonymous: flags.mercureAnonymous,
                subscriptions: flags.mercureSubscriptions,
              },
            }
          : {}),
      };
      let engineFactory: EngineFactory | undefined;
      if (flags.redis) {
        const { redisEngineFactory } = await import('../hub/bus/redis.ts');
        engineFactory = redisEngineFactory(flags.redis);
      }
      const hub = await Hub.start(opts, { engineFactory }).catch((err: unknown) => {
        // The remedy is in the flags (another --db) or in stopping the other hub, as for a usage error.
        if (err instanceof HubError && err.code === DATABASE_IN_USE) throw new CliError(err.message, EXIT.usage);
        throw err;
      });
      const { url, adminToken, generatedAdminToken } = hub;
      const out = process.stdout;
      // The handlers go in before the first line is printed: whoever reads "Console:" may stop us at
      // once, and a stop while the demo publishers are still starting must close the log cleanly too.
      let demo: Promise<(() => Promise<void>) | undefined> = Promise.resolve(undefined);
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        out.write(`\n${signal}: stopping (flushing the log, closing streams)...\n`);
        const stopDemo = await demo.catch(() => undefined);
        await stopDemo?.();
        await hub.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
      out.write(`RelayDesk hub ${hub.hubId} listening on ${url}  (engine: ${hub.engine.kind}, db: ${hub.opts.dbFile})\n`);
      out.write(`Console: ${hub.loginUrl()}\n`);
      if (hub.mercure) out.write(`Mercure hub: ${url}/.well-known/mercure  (${flags.mercureJwtAlg}${flags.mercureAnonymous ? ', anonymous subscribers' : ''}${flags.mercureSubscriptions ? ', subscriptions' : ''})\n`);
      out.write(generatedAdminToken ? `Admin token: ${adminToken}\n  (generated for this run; set RELAYDESK_ADMIN_TOKEN to keep one)\n` : 'Admin token: from RELAYDESK_ADMIN_TOKEN\n');
      if (flags.demo && onDemo) demo = onDemo(url, adminToken, flags);
      await demo;
      await new Promise(() => {});
    });
}
