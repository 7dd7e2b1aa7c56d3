import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { DESKTOP_CONSOLE_KEEP_REVOKED, DESKTOP_CONSOLE_LABEL, EmbeddedConsoleSignIn } from '../../../electron/shell/console-signin.ts';
import { ADMIN, api, createToken, startTestHub, type TestHub } from '../../helpers/hub.ts';

let t: TestHub | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

/** Open a login link as a browser does; the session cookie the hub set, or null. */
async function exchange(link: string): Promise<{ status: number; cookie: string | null; location: string | null }> {
  const res = await fetch(link, { redirect: 'manual' });
  const set = res.headers.getSetCookie()[0] ?? null;
  return { status: res.status, cookie: set ? set.split(';')[0]! : null, location: res.headers.get('location') };
}

describe('the desktop window signs in to its embedded hub with a one-time link (real hub)', () => {
  it('the link is a one-time code for an operator token of its own, answered with an HttpOnly cookie', async () => {
    t = await startTestHub();
    const s = new EmbeddedConsoleSignIn(() => t!.url, () => ADMIN);
    const link = await s.loginLink();
    expect(link).toMatch(new RegExp(`^${t.url}/auth/exchange\\?code=rdc_`));
    expect(link).not.toContain(ADMIN);
    const res = await fetch(link, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    const set = res.headers.getSetCookie()[0]!;
    expect(set).toMatch(/^rd_session=rds_[^;]+; HttpOnly; SameSite=Strict/);
    const cookie = set.split(';')[0]!;
    const me = await api(t.url, '/v1/whoami', { token: null, headers: { cookie } });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ token_id: s.consoleTokenId, role: 'operator', scope: {} });
    // Used once: the same link opens nothing the second time.
    expect((await exchange(link)).status).toBe(401);
    // Each call is a new code for the same token.
    const again = await s.loginLink();
    expect(again).not.toBe(link);
    expect((await exchange(again)).status).toBe(303);
  });

  it("rotate() replaces the console token: the earlier run's sessions stop working", async () => {
    t = await startTestHub();
    const first = new EmbeddedConsoleSignIn(() => t!.url, () => ADMIN);
    const old = (await exchange(await first.loginLink())).cookie!;
    expect((await api(t.url, '/v1/whoami', { token: null, headers: { cookie: old } })).status).toBe(200);

    const next = new EmbeddedConsoleSignIn(() => t!.url, () => ADMIN);
    const id = await next.rotate();
    expect(id).not.toBe(first.consoleTokenId);
    expect((await api(t.url, '/v1/whoami', { token: null, headers: { cookie: old } })).status).toBe(401);
    const fresh = (await exchange(await next.loginLink())).cookie!;
    expect((await api(t.url, '/v1/whoami', { token: null, headers: { cookie: fresh } })).body.token_id).toBe(id);
    const live = (await api(t.url, '/v1/tokens')).body.tokens.filter((x: { label: string; revoked_at: string | null }) => x.label === DESKTOP_CONSOLE_LABEL && !x.revoked_at);
    expect(live.map((x: { id: string }) => x.id)).toEqual([id]);
  });

  it('a wrong admin secret is a clear error, not a window signed in as nobody', async () => {
    t = await startTestHub();
    const s = new EmbeddedConsoleSignIn(() => t!.url, () => 'not-the-admin');
    await expect(s.rotate()).rejects.toThrow(/GET \/v1\/tokens failed \(401\): token is unknown or revoked/);
  });

  it('revoked console tokens of earlier runs do not pile up: the last few stay as a record, the rest are deleted from the database', async () => {
    t = await startTestHub();
    // Another token with its own label, revoked: not the console's to prune.
    const other = await api(t.url, '/v1/tokens', { body: { role: 'subscriber', label: 'ci' } });
    await api(t.url, `/v1/tokens/${other.body.id}`, { method: 'DELETE' });
    const ids: string[] = [];
    // Seven desktop starts on the same hub database.
    for (let i = 0; i < 7; i++) ids.push(await new EmbeddedConsoleSignIn(() => t!.url, () => ADMIN).rotate());

    // What is on disk, read from the SQLite file itself (the hub keeps it open; WAL readers are fine).
    const db = new Database(t.dbFile, { readonly: true });
    try {
      const rows = db.prepare('SELECT id, revoked_at FROM tokens WHERE label = ? ORDER BY rowid').all(DESKTOP_CONSOLE_LABEL) as { id: string; revoked_at: string | null }[];
      expect(DESKTOP_CONSOLE_KEEP_REVOKED).toBe(3);
      // This run's token, live, and the three runs before it, revoked; the three oldest are gone.
      expect(rows.map((r) => r.id)).toEqual(ids.slice(-4));
      expect(rows.map((r) => r.revoked_at === null)).toEqual([false, false, false, true]);
      expect(db.prepare('SELECT revoked_at IS NOT NULL AS revoked FROM tokens WHERE id = ?').get(other.body.id)).toEqual({ revoked: 1 });
      expect(db.prepare("SELECT COUNT(*) AS n FROM tokens WHERE id = 'tok_admin' AND revoked_at IS NULL").get()).toEqual({ n: 1 });
    } finally {
      db.close();
    }
    // The API lists the same: no row of a deleted token is left anywhere it could be read back.
    const listed = (await api(t.url, '/v1/tokens')).body.tokens.filter((x: { label: string }) => x.label === DESKTOP_CONSOLE_LABEL).map((x: { id: string }) => x.id);
    expect(listed).toEqual(ids.slice(-4));
  });

  it('POST /v1/tokens/prune deletes only revoked tokens, and only for an unscoped admin', async () => {
    t = await startTestHub();
    const live = await api(t.url, '/v1/tokens', { body: { role: 'operator', label: 'kiosk' } });
    const gone = await api(t.url, '/v1/tokens', { body: { role: 'operator', label: 'kiosk' } });
    await api(t.url, `/v1/tokens/${gone.body.id}`, { method: 'DELETE' });
    const scoped = await createToken(t.url, 'admin', { store_ids: ['12'] });
    const refused = await api(t.url, '/v1/tokens/prune', { body: { label: 'kiosk' }, token: scoped });
    expect(refused.status).toBe(403);
    const r = await api(t.url, '/v1/tokens/prune', { body: { label: 'kiosk' } });
    expect(r).toMatchObject({ status: 200, body: { deleted: 1 } });
    const kiosk = (await api(t.url, '/v1/tokens')).body.tokens.filter((x: { label: string }) => x.label === 'kiosk');
    expect(kiosk.map((x: { id: string; revoked_at: string | null }) => [x.id, x.revoked_at])).toEqual([[live.body.id, null]]);
    expect((await api(t.url, '/v1/tokens/prune', { body: { label: 'kiosk', keep: -1 } })).status).toBe(400);
  });
});
