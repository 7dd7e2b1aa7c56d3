import { createServer } from 'node:net';
import { join } from 'node:path';
import { Hub } from '../hub/hub.ts';
import type { HubOptions } from '../hub/config.ts';
import { settingsSchema, type Settings } from '../../shared/settings.ts';

/**
 * Starting the hub inside the desktop app: the database lives in the user-data folder, the port and
 * retention come from the settings the hub itself stores, and a port that is already taken (a
 * headless `relaydesk serve`, another program) falls back to a free one instead of failing.
 * Plain Node: unit-tested against a real hub.
 */
export interface DesktopHubOptions {
  dataDir: string;
  rendererDir?: string;
  logLevel?: HubOptions['logLevel'];
  logDestination?: NodeJS.WritableStream;
  /** Tests and RELAYDESK_PORT override the stored port. */
  portOverride?: number;
  adminToken?: string;
  /** Mercure JWT keys (from the environment, never stored); with one, the hub speaks Mercure as the settings say. */
  mercureKeys?: { publisher?: string; subscriber?: string };
}

export interface DesktopHub {
  hub: Hub;
  url: string;
  adminToken: string;
  /** The port the settings asked for and what happened to it. */
  port: { wanted: number; actual: number; fellBack: boolean; reason?: string };
}

export function dbFileIn(dataDir: string): string {
  return join(dataDir, 'relaydesk.db');
}

/** Is a TCP port free on loopback right now? (Racy by nature; start() still handles EADDRINUSE.) */
export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  if (port === 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

function withSettings(opts: HubOptions, s: Settings, port: number, keys: DesktopHubOptions['mercureKeys'] = {}): HubOptions {
  return {
    ...opts,
    port,
    retention: { ...opts.retention, maxAgeMs: s.retention_days * 24 * 3600_000, maxEvents: s.retention_max_events },
    ...(keys.publisher || keys.subscriber ? { mercure: { publisherKey: keys.publisher, subscriberKey: keys.subscriber, ...s.mercure } } : {}),
  };
}

export async function startDesktopHub(o: DesktopHubOptions): Promise<DesktopHub> {
  const base: Partial<HubOptions> = {
    host: '127.0.0.1',
    dbFile: dbFileIn(o.dataDir),
    rendererDir: o.rendererDir,
    logLevel: o.logLevel ?? 'info',
    ...(o.logDestination ? { logDestination: o.logDestination } : {}),
    ...(o.adminToken ? { adminToken: o.adminToken } : {}),
  };
  let settings = settingsSchema.parse({});
  let wanted = 0;
  let port = 0;
  let reason: string | undefined;
  try {
    const hub = await Hub.start(base, {
      // The port and retention are the ones the hub's own database stores.
      configure: async (opts, stored) => {
        try {
          settings = stored.settings.get();
        } catch {
          /* unreadable settings: the defaults */
        }
        wanted = port = o.portOverride ?? settings.port;
        if (!(await portFree(wanted))) {
          reason = `port ${wanted} is in use`;
          port = 0;
        }
        return withSettings(opts, settings, port, o.mercureKeys);
      },
    });
    return { hub, url: hub.url, adminToken: hub.adminToken, port: { wanted, actual: hub.port, fellBack: port !== wanted, reason } };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw err;
    // Lost the race for the port between the probe and listen (that hub closed itself): take any port.
    const hub = await Hub.start(base, { configure: (opts) => withSettings(opts, settings, 0, o.mercureKeys) });
    return { hub, url: hub.url, adminToken: hub.adminToken, port: { wanted, actual: hub.port, fellBack: true, reason: `port ${wanted} is in use` } };
  }
}

/**
 * Settings for the shell: read in-process (cheap, always current, even after the console changed
 * them over HTTP); written through the hub's own PUT /v1/settings so validation and the live
 * retention update happen exactly as for any other client.
 */
export function hubSettingsAccess(hub: Hub, url: () => string, adminToken: () => string) {
  return {
    get(): Settings {
      return hub.settings.get();
    },
    async put(next: Settings): Promise<Settings> {
      const res = await fetch(`${url()}/v1/settings`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${adminToken()}`, 'content-type': 'application/json' },
        body: JSON.stringify(settingsSchema.parse(next)),
      });
      const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
      if (!res.ok) throw new Error(`saving settings failed (${res.status}): ${body?.error?.message ?? 'no detail'}`);
      return settingsSchema.parse(body);
    },
  };
}
