import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hubSettingsAccess, portFree, startDesktopHub, type DesktopHub } from '../../../electron/shell/hub-runner.ts';
import { api, startTestHub, type TestHub } from '../../helpers/hub.ts';
import { settingsSchema } from '../../../shared/settings.ts';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'relaydesk-shell-'));
  cleanup.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function occupy(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen({ port: 0, host: '127.0.0.1' }, () => r()));
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.address() as { port: number }).port, server };
}

async function start(dataDir: string, portOverride?: number): Promise<DesktopHub> {
  const d = await startDesktopHub({ dataDir, logLevel: 'silent', portOverride });
  cleanup.push(() => d.hub.close());
  return d;
}

describe('settings round-trip through a real hub', () => {
  let t: TestHub;
  afterEach(async () => t?.stop());

  it('the shell writes through PUT /v1/settings and reads in-process; the HTTP API sees the same', async () => {
    t = await startTestHub();
    const access = hubSettingsAccess(t.hub, () => t.url, () => 'test-admin-token');
    const defaults = access.get();
    expect(defaults).toEqual(settingsSchema.parse({}));
    const next = { ...defaults, port: 7811, retention_days: 3, notifications: { ...defaults.notifications, muted: true, desktop_min_priority: 'high' as const } };
    expect(await access.put(next)).toEqual(next);
    expect(access.get()).toEqual(next);
    expect((await api(t.url, '/v1/settings')).body).toEqual(next);
    // The hub applies retention live when settings change through its API.
    expect(t.hub.opts.retention.maxAgeMs).toBe(3 * 24 * 3600_000);
    await expect(access.put({ ...next, port: -1 })).rejects.toThrow();
    await t.restart();
    expect(hubSettingsAccess(t.hub, () => t.url, () => 'test-admin-token').get()).toEqual(next);
  });
});

describe('starting the desktop hub', () => {
  it('puts the database in the data folder and listens on the port from settings', async () => {
    const dir = tempDir();
    const first = await start(dir, 0);
    expect(first.hub.opts.dbFile).toBe(join(dir, 'relaydesk.db'));
    const { port: free } = await occupy();
    await cleanup.pop()!(); // release it again: we only wanted a number that is very likely free
    const access = hubSettingsAccess(first.hub, () => first.url, () => first.adminToken);
    await access.put({ ...access.get(), port: free, retention_days: 2 });
    await first.hub.close();
    const second = await start(dir);
    expect(second.port).toEqual({ wanted: free, actual: free, fellBack: false, reason: undefined });
    expect(second.url).toBe(`http://127.0.0.1:${free}`);
    expect(second.hub.opts.retention.maxAgeMs).toBe(2 * 24 * 3600_000);
    // The connection the preload hands the renderer works against the hub.
    expect((await api(second.url, '/v1/settings', { token: second.adminToken })).status).toBe(200);
  });

  it('falls back to a free port when the stored one is taken', async () => {
    const dir = tempDir();
    const { port: taken } = await occupy();
    expect(await portFree(taken)).toBe(false);
    const d = await start(dir, taken);
    expect(d.port.wanted).toBe(taken);
    expect(d.port.fellBack).toBe(true);
    expect(d.port.actual).not.toBe(taken);
    expect(d.port.reason).toMatch(/in use/);
    expect((await api(d.url, '/v1/settings', { token: d.adminToken })).status).toBe(200);
  });

  it('refuses a second hub on the same data folder with a message naming the holder; the first keeps serving', async () => {
    const dir = tempDir();
    const first = await start(dir, 0);
    await expect(startDesktopHub({ dataDir: dir, logLevel: 'silent', portOverride: 0 })).rejects.toThrow(
      `database ${join(dir, 'relaydesk.db')} is in use by another RelayDesk hub (pid ${process.pid}, ${first.url}); stop it or pass --db for a separate log`,
    );
    expect((await api(first.url, '/v1/settings', { token: first.adminToken })).status).toBe(200);
    await first.hub.close();
    expect((await start(dir, 0)).hub.opts.dbFile).toBe(join(dir, 'relaydesk.db'));
  });

  it('graceful close refuses publishes and closes the port', async () => {
    const d = await start(tempDir(), 0);
    const port = d.port.actual;
    await d.hub.close();
    await expect(d.hub.publish([])).rejects.toMatchObject({ status: 503 });
    expect(await portFree(port)).toBe(true);
  });
});

describe('the desktop hub speaks Mercure as the settings say, with keys from the environment', () => {
  it('is off without a key, and on with one, anonymous and subscriptions as stored', async () => {
    const dir = tempDir();
    const off = await startDesktopHub({ dataDir: dir, logLevel: 'silent', portOverride: 0 });
    expect(off.hub.mercure).toBeUndefined();
    const access = hubSettingsAccess(off.hub, () => off.url, () => off.adminToken);
    await access.put({ ...access.get(), mercure: { alg: 'HS256', anonymous: true, subscriptions: true } });
    await off.hub.close();

    const on = await startDesktopHub({ dataDir: dir, logLevel: 'silent', portOverride: 0, mercureKeys: { publisher: 'desktop-mercure-key-desktop-mercure-key' } });
    cleanup.push(() => on.hub.close());
    expect(on.hub.mercure?.opts).toMatchObject({ anonymous: true, subscriptions: true, alg: 'HS256' });
    // An anonymous subscriber is let in, as the stored setting says.
    const res = await fetch(`${on.url}/.well-known/mercure?topic=x`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    // The key is nowhere in what any token can read.
    expect(JSON.stringify((await api(on.url, '/v1/settings', { token: on.adminToken })).body)).not.toContain('desktop-mercure-key');
  });
});
