import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Hub } from '../../../electron/hub/hub.ts';

const dirs: string[] = [];
const hubs: Hub[] = [];
let blocker: Server | undefined;
afterEach(async () => {
  for (const h of hubs.splice(0)) await h.close();
  blocker?.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const dbIn = () => {
  const d = mkdtempSync(join(tmpdir(), 'relaydesk-start-'));
  dirs.push(d);
  return join(d, 'hub.db');
};

describe('Hub.start', () => {
  it('returns a hub that is whole and listening: engine started, URL, admin token', async () => {
    const hub = await Hub.start({ port: 0, dbFile: dbIn(), logLevel: 'silent' });
    hubs.push(hub);
    expect(hub.url).toBe(`http://127.0.0.1:${hub.port}`);
    expect(hub.generatedAdminToken).toBe(true);
    expect(hub.adminToken).toMatch(/^rdk_/);
    expect(hub.engine.kind).toBe('local');
    expect(hub.engine.status().connected).toBe(true);
    expect(hub.tokens.authenticate(hub.adminToken, 'bearer')?.role).toBe('admin');
  });

  it('a start that fails (port taken) closes what it made and releases the database for the next one', async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker!.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as { port: number }).port;
    const dbFile = dbIn();
    await expect(Hub.start({ port: taken, dbFile, logLevel: 'silent', adminToken: 'a' })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const hub = await Hub.start({ port: 0, dbFile, logLevel: 'silent', adminToken: 'a' });
    hubs.push(hub);
    expect(hub.port).not.toBe(taken);
  });

  it('configure sees the settings the database stores before the hub is built, and sets its options', async () => {
    const dbFile = dbIn();
    const first = await Hub.start({ port: 0, dbFile, logLevel: 'silent', adminToken: 'a' });
    first.settings.put({ ...first.settings.get(), retention_max_events: 1234 });
    await first.close();
    let seen: number | undefined;
    const hub = await Hub.start(
      { port: 0, dbFile, logLevel: 'silent', adminToken: 'a' },
      {
        configure: (opts, stored) => {
          seen = stored.settings.get().retention_max_events;
          return { ...opts, retention: { ...opts.retention, maxEvents: seen }, heartbeatMs: 4321 };
        },
      },
    );
    hubs.push(hub);
    expect(seen).toBe(1234);
    expect(hub.opts.retention.maxEvents).toBe(1234);
    expect(hub.broker.limits.heartbeatMs).toBe(4321);
  });
});
