import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hub } from '../../electron/hub/hub.ts';
import { startTestHub, publish, ADMIN, type TestHub } from '../helpers/hub.ts';
import { spawnCliHub, type ChildHub } from '../helpers/reliability.ts';

/**
 * One hub per database file: each hub numbers events from its own in-memory head, so a second hub
 * on the same log would reuse sequence numbers. It is refused at start with a message naming the
 * file and the hub that holds it; a graceful close or a crash hands the file back.
 */
const ev = (id: string) => ({ id, type: 'x.claim.e', data: {} });
const inUse = (file: string, pid: number, url: string) =>
  `database ${file} is in use by another RelayDesk hub (pid ${pid}, ${url}); stop it or pass --db for a separate log`;

let t: TestHub | undefined;
const children: ChildHub[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) await c.kill('SIGKILL');
  await t?.stop();
  t = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function seqOf(url: string, id: string): Promise<number> {
  const r = await publish(url, ev(id));
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.results[0].seq as number;
}

describe('one hub per database file', () => {
  it('a second hub in the same process is refused while the first keeps serving; after the first closes, the file opens', async () => {
    t = await startTestHub();
    expect(await seqOf(t.url, 'a-1')).toBe(1);
    const second = Hub.start({ port: 0, dbFile: t.dbFile, adminToken: ADMIN, logLevel: 'silent' });
    await expect(second).rejects.toMatchObject({ code: 'database_in_use', message: inUse(t.dbFile, process.pid, t.url) });
    // The refused attempt must not have weakened the claim (its own lock connection was closed).
    await expect(Hub.start({ port: 0, dbFile: t.dbFile, adminToken: ADMIN, logLevel: 'silent' })).rejects.toMatchObject({ code: 'database_in_use' });
    expect(await seqOf(t.url, 'a-2')).toBe(2);
    await t.restart(); // close, then a new hub on the same file
    expect(await seqOf(t.url, 'a-3')).toBe(3);
  });

  it('a hub in another process holds the file until it is SIGKILLed; then the next hub opens it and continues the log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relaydesk-claim-'));
    dirs.push(dir);
    const db = join(dir, 'hub.db');
    const first = await spawnCliHub({ db });
    children.push(first);
    expect(await seqOf(first.url, 'b-1')).toBe(1);
    await expect(Hub.start({ port: 0, dbFile: db, adminToken: ADMIN, logLevel: 'silent' })).rejects.toThrow(inUse(db, first.pid, first.url));
    expect(await seqOf(first.url, 'b-2')).toBe(2);

    await first.kill('SIGKILL');
    const next = await spawnCliHub({ db });
    children.push(next);
    expect(await seqOf(next.url, 'b-3')).toBe(3);
  });
});
