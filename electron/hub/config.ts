import { homedir } from 'node:os';
import { join } from 'node:path';
import { SNAPSHOT_CAPS, SNAPSHOT_KIND_MAX_BYTES } from '../../shared/state.ts';
import type { AnyDomain } from '../../shared/domains/index.ts';
import { SCAN_BUDGET_ROWS } from './scan-window.ts';
import { defaultMaxConnections } from './http/connections.ts';
import { WEBHOOK_DEFAULTS, type WebhookOptions } from './webhooks/dispatcher.ts';
import { ACTION_DEFAULTS, type ActionOptions } from './actions.ts';
import type { MercureOptions } from './mercure/auth.ts';

export interface HubOptions {
  host: string;
  port: number;
  dbFile: string;
  /** From RELAYDESK_ADMIN_TOKEN; when absent one is minted and reported by `start()`. */
  adminToken?: string;
  heartbeatMs: number;
  /** The SSE `retry:` hint sent on connect. */
  retryMs: number;
  retention: { maxAgeMs?: number; maxEvents?: number; chunk: number; intervalMs: number };
  queue: { maxEvents: number; maxBytes: number; stallTimeoutMs: number };
  /**
   * Most rows of each kind in a stream's `initial` snapshot (newest first; `counts` report the rest).
   * Defaults to SNAPSHOT_CAPS (a kind not named here: its domain's cap); lower it for small devices,
   * or in tests to exceed it with a few rows. GET /v1/state pages are not affected.
   */
  snapshotCaps: Record<string, number>;
  /**
   * Domains this hub knows besides the built-in ones (shared/domains/define.ts): their types are
   * validated, projected and summarized like the built-in ones. Each hub builds its own registry
   * from these, so hubs in one process never share domains.
   */
  domains: AnyDomain[];
  /** Most row JSON of each kind in an `initial` snapshot (newest first; `counts` say it was cut by bytes). */
  snapshotMaxBytes: number;
  bodyLimitBytes: number;
  rateLimitPerSecond: number;
  /**
   * Most rows one GET /v1/events or GET /v1/state request examines; a page the budget cuts comes back
   * short, marked `partial`, with a cursor to continue from (see scan-window.ts).
   */
  scanBudgetRows: number;
  /**
   * Open TCP connections at most (SSE streams included). At the cap, the connections idle the
   * longest are closed to let a new one in. Default: the open-file soft limit minus 64, else 4096.
   */
  maxConnections: number;
  allowedHosts: string[];
  corsOrigins: string[];
  /** The built console (vite output); served at `/` when present. */
  rendererDir?: string;
  redisUrl?: string;
  hubId?: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Where structured logs go; stderr by default so stdout stays for people. */
  logDestination?: NodeJS.WritableStream;
  /** Webhook delivery: attempt timeout and the retry schedule before an event is dead-lettered. */
  webhooks: WebhookOptions;
  /** Actions: how long a backend has to answer before the hub marks the action timed out. */
  actions: ActionOptions;
  /** The Mercure protocol on /.well-known/mercure; off unless a publisher or subscriber key is set. */
  mercure?: MercureOptions;
}

/** Same folder Electron's app.getPath('userData') uses, so desktop and headless share one log. */
export function defaultDataDir(): string {
  const home = homedir();
  if (process.platform === 'darwin') return join(home, 'Library', 'Application Support', 'RelayDesk');
  if (process.platform === 'win32') return join(process.env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'RelayDesk');
  return join(process.env.XDG_CONFIG_HOME ?? join(home, '.config'), 'RelayDesk');
}

export const DEFAULT_PORT = 7700;

export function hubDefaults(overrides: Partial<HubOptions> = {}): HubOptions {
  const base: HubOptions = {
    host: '127.0.0.1',
    port: DEFAULT_PORT,
    dbFile: join(defaultDataDir(), 'relaydesk.db'),
    heartbeatMs: 15_000,
    retryMs: 2_000,
    retention: { maxAgeMs: 7 * 24 * 3600_000, maxEvents: 1_000_000, chunk: 2_000, intervalMs: 1_000 },
    queue: { maxEvents: 5_000, maxBytes: 4 * 1024 * 1024, stallTimeoutMs: 30_000 },
    snapshotCaps: { ...SNAPSHOT_CAPS },
    domains: [],
    snapshotMaxBytes: SNAPSHOT_KIND_MAX_BYTES,
    bodyLimitBytes: 1024 * 1024,
    rateLimitPerSecond: 1_000,
    scanBudgetRows: SCAN_BUDGET_ROWS,
    maxConnections: overrides.maxConnections ?? defaultMaxConnections(),
    allowedHosts: [],
    corsOrigins: [],
    logLevel: 'info',
    webhooks: { ...WEBHOOK_DEFAULTS },
    actions: { ...ACTION_DEFAULTS },
  };
  return {
    ...base,
    ...overrides,
    retention: { ...base.retention, ...overrides.retention },
    queue: { ...base.queue, ...overrides.queue },
    snapshotCaps: { ...base.snapshotCaps, ...overrides.snapshotCaps },
    webhooks: { ...base.webhooks, ...overrides.webhooks },
    actions: { ...base.actions, ...overrides.actions },
  };
}
