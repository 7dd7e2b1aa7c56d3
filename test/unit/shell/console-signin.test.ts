import { afterEach, describe, expect, it } from 'vitest';
import { DESKTOP_CONSOLE_LABEL, EmbeddedConsoleSignIn } from '../../../electron/shell/console-signin.ts';
import { ADMIN, api, startTestHub, type TestHub } from '../../helpers/hub.ts';

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
});
