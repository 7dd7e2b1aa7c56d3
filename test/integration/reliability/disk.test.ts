import { describe, it, expect, afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, openSync, writeSync, closeSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestHub, api, publish, until, type TestHub } from '../../helpers/hub.ts';
import { openRawSse } from '../../helpers/reliability.ts';

/**
 * Disk trouble: the log cannot be written (disk full, database refusing writes). Publishes get a 503
 * with a reason and Retry-After, nothing acknowledged is lost, reads keep working, and the hub
 * recovers by itself when space returns. The real-disk case mounts a tiny tmpfs, which needs
 * CAP_SYS_ADMIN (root in this container); without it that case is skipped and the simulated
 * cases (max_page_count, query_only) still run.
 */
let t: TestHub | undefined;
let mounted: string | undefined;
afterEach(async () => {
  const dir = t?.dir;
  await t?.stop().catch(() => {});
  if (dir) rmSync(dir, { recursive: true, force: true });
  t = undefined;
  if (mounted) {
    try {
      execFileSync('umount', ['-l', mounted]);
    } catch {
      /* already gone */
    }
    rmSync(mounted, { recursive: true, force: true });
    mounted = undefined;
  }
});

function canMountTmpfs(): boolean {
  if (process.platform !== 'linux') return false;
  const probe = mkdtempSync(join(tmpdir(), 'relaydesk-mnt-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}
const REAL_DISK = canMountTmpfs();
// Said out loud, as vitest's skip shows no reason: the real-disk case needs a tmpfs it can fill.
if (!REAL_DISK) console.log('[disk.test] "real disk full" skipped: mounting a 1 MB tmpfs needs Linux and root (mount -t tmpfs); the other disk cases still run');

const ev = (i: number, tag: string) => ({ id: `${tag}-${i}`, type: 'x.disk.e', data: { i, pad: 'd'.repeat(1500) } });

/** Publish until the hub refuses; returns what was acked and the first refusal. */
async function publishUntilRefused(url: string, tag: string, max: number) {
  const acked: string[] = [];
  for (let i = 0; i < max; i++) {
    const batch = [ev(i * 2, tag), ev(i * 2 + 1, tag)];
    const r = await publish(url, batch);
    if (r.status === 201) acked.push(...batch.map((e) => e.id));
    else return { acked, refusal: r, attempts: i + 1 };
  }
  return { acked, refusal: undefined, attempts: max };
}

function expect503(r: Awaited<ReturnType<typeof publish>>) {
  expect(r.status).toBe(503);
  expect(r.body.error.code).toBe('storage_unavailable');
  expect(r.body.error.message).toMatch(/SQLITE_(FULL|IOERR|READONLY)/);
  expect(r.body.error.message).toContain('nothing from this request was stored');
  expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
}

async function verifyAllAcked(hub: TestHub, acked: string[]) {
  const rows = hub.hub.db.prepare(`SELECT id FROM events WHERE type = 'x.disk.e'`).all() as { id: string }[];
  const ids = new Set(rows.map((r) => r.id));
  expect(rows.length).toBe(ids.size);
  expect(acked.filter((id) => !ids.has(id))).toEqual([]);
  expect(hub.hub.db.pragma('integrity_check', { simple: true })).toBe('ok');
  return rows.length;
}

describe('disk trouble', () => {
  it.skipIf(!REAL_DISK)('real disk full (tiny tmpfs): 503 with a reason, nothing acked lost, recovers when space returns', async () => {
    mounted = mkdtempSync(join(tmpdir(), 'relaydesk-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mounted]);
    t = await startTestHub({ dbFile: join(mounted, 'hub.db'), rateLimitPerSecond: 0 });
    const sub = openRawSse(t.url, '/v1/stream?events=message&type=x.disk.*');
    await sub.ready;

    const phase0 = await publishUntilRefused(t.url, 'pre', 100);
    expect(phase0.refusal).toBeUndefined();
    // Fill the file system with a filler file, leaving the hub no room.
    const filler = join(mounted, 'filler');
    const fd = openSync(filler, 'w');
    const chunk = Buffer.alloc(16 * 1024, 1);
    let filled = 0;
    try {
      for (;;) filled += writeSync(fd, chunk);
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      closeSync(fd);
    }
    const phase1 = await publishUntilRefused(t.url, 'full', 3000);
    expect(phase1.refusal, 'the hub never refused a publish on a full disk').toBeDefined();
    expect503(phase1.refusal!);
    // Still refusing, still serving reads and health.
    for (let i = 0; i < 5; i++) expect503(await publish(t.url, ev(100_000 + i, 'refused')));
    expect((await api(t.url, '/v1/events?type=x.disk.*&limit=5')).status).toBe(200);
    expect((await api(t.url, '/healthz')).status).toBe(200);
    // Other writes fail cleanly too (503, not 500).
    const tok = await api(t.url, '/v1/tokens', { body: { role: 'subscriber', scope: {} } });
    expect(tok.status).toBe(503);

    // Space returns: the very next publish succeeds without a restart.
    rmSync(filler);
    const phase2 = await publishUntilRefused(t.url, 'after', 50);
    expect(phase2.refusal).toBeUndefined();
    const acked = [...phase0.acked, ...phase1.acked, ...phase2.acked];
    const stored = await verifyAllAcked(t, acked);
    await until(() => sub.events().length >= acked.length, 'subscriber to see every acked event');
    expect(sub.events().map((e) => e.id)).toEqual(acked);
    expect(sub.parse().violations).toEqual([]);
    sub.destroy();
    await t.restart();
    await verifyAllAcked(t, acked);
    console.log(JSON.stringify({ disk_full_tmpfs: { fs_size_mb: 24, filler_bytes: filled, acked_before_fill: phase0.acked.length, acked_while_filling: phase1.acked.length, attempts: phase1.attempts, acked_after_recovery: phase2.acked.length, stored, lost: 0 } }));
  });

  it('simulated full database (PRAGMA max_page_count): 503, nothing acked lost, recovers when the limit is raised', async () => {
    t = await startTestHub({ rateLimitPerSecond: 0 });
    const db = t.hub.db;
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages + 20}`);
    const phase1 = await publishUntilRefused(t.url, 'cap', 2000);
    expect(phase1.refusal).toBeDefined();
    expect503(phase1.refusal!);
    expect(phase1.refusal!.body.error.message).toMatch(/SQLITE_FULL/);
    // A small write may still fit in a free page; if it does not, it is a 503, never a 500.
    const tok = await api(t.url, '/v1/tokens', { body: { role: 'subscriber', scope: {} } });
    expect([201, 503]).toContain(tok.status);
    db.pragma('max_page_count = 1073741823');
    const phase2 = await publishUntilRefused(t.url, 'cap-after', 20);
    expect(phase2.refusal).toBeUndefined();
    const acked = [...phase1.acked, ...phase2.acked];
    const stored = await verifyAllAcked(t, acked);
    await t.restart();
    await verifyAllAcked(t, acked);
    console.log(JSON.stringify({ disk_full_simulated: { acked_before_full: phase1.acked.length, acked_after: phase2.acked.length, stored, lost: 0 } }));
  });

  it('simulated unwritable database (PRAGMA query_only): 503, then recovers', async () => {
    t = await startTestHub({ rateLimitPerSecond: 0 });
    const ok = await publishUntilRefused(t.url, 'ro-before', 10);
    t.hub.db.pragma('query_only = 1');
    const refused = await publish(t.url, ev(0, 'ro'));
    expect503(refused);
    t.hub.db.pragma('query_only = 0');
    const after = await publishUntilRefused(t.url, 'ro-after', 10);
    expect(after.refusal).toBeUndefined();
    await verifyAllAcked(t, [...ok.acked, ...after.acked]);
    expect(existsSync(t.dbFile)).toBe(true);
  });
});
