/**
 * The real bundled main process (dist-electron/main.js, built by scripts/build-electron.mjs) run
 * under plain Node with a fake `electron` module (fake-electron/). No Electron binary exists here,
 * so this is as close as the machine allows: the bundle loads as ESM with its external packages,
 * starts the real hub in the user-data folder, serves the console, wires the guarded IPC table,
 * hardens the session and the window, shows notifications, drives the tray, remembers the window,
 * honours the single-instance lock and shuts the hub down gracefully on quit.
 *
 * The stand-in window keeps cookies per origin like Electron's session (in the profile), follows
 * redirects through the real navigation guard, and makes the page's requests with those cookies, so
 * the tests see what the console would: how it signs in and what its requests carry.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IPC } from '../../../shared/desktop-bridge.ts';
import { DESKTOP_CSP } from '../../../electron/shell/csp.ts';
import { secureWebPreferences } from '../../../electron/shell/window-options.ts';
import { spawnCliHub } from '../../helpers/reliability.ts';
import { ADMIN as CLI_ADMIN, until } from '../../helpers/hub.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const register = fileURLToPath(new URL('./fake-electron/register.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'relaydesk-main-'));
const userData = join(dir, 'userData');
const rendererDir = join(dir, 'renderer');

class MainProcess {
  readonly child: ChildProcess;
  private next = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly exited: Promise<number | null>;
  stderr = '';
  readonly errorBoxes: { title: string; content: string }[] = [];

  constructor(env: Record<string, string>, args: string[] = []) {
    this.child = fork(join(root, 'dist-electron', 'main.js'), args, {
      cwd: root,
      execArgv: ['--import', register],
      env: { ...process.env, RELAYDESK_LOG_LEVEL: 'silent', RELAYDESK_RENDERER_DIR: rendererDir, FAKE_APPDATA: join(dir, 'appData'), ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child.stderr!.on('data', (d) => (this.stderr += d));
    this.child.on('message', (m: { id?: number; result?: unknown; error?: string; type?: string; title?: string; content?: string }) => {
      if (m.type === 'error-box') this.errorBoxes.push({ title: m.title!, content: m.content! });
      const p = m.id ? this.pending.get(m.id) : undefined;
      if (!p) return;
      this.pending.delete(m.id!);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.result);
    });
    this.exited = new Promise((r) => this.child.on('close', (code) => r(code)));
  }

  cmd<T = any>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, cmd, ...args });
      setTimeout(() => reject(new Error(`${cmd} timed out; stderr: ${this.stderr}`)), 10_000).unref();
    });
  }

  async until<T>(check: (s: any) => T, what: string): Promise<T> {
    const end = Date.now() + 15_000;
    for (;;) {
      const v = check(await this.cmd('state'));
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; stderr: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

let main: MainProcess;
let hubUrl = '';
/** The bootstrap admin secret of the embedded hub: known to this test and the main process only. */
const ADMIN_SECRET = 'rdk_desktop-bootstrap-secret-never-in-the-window';
const token = ADMIN_SECRET;
const baseEnv = { RELAYDESK_USER_DATA: userData, RELAYDESK_PORT: '0', RELAYDESK_ADMIN_TOKEN: ADMIN_SECRET };
const sessionCookie = (s: any, origin: string): { value: string; attributes: string[] } | undefined => s.cookies[origin]?.rd_session;

beforeAll(async () => {
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build-electron.mjs')], { cwd: root, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`build failed: ${b.stderr}`);
  mkdirSync(rendererDir, { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>RelayDesk</title><div id="root"></div>');
  main = new MainProcess(baseEnv);
  const page = await main.until((s) => s.pageUrl as string | null, 'the window to load the console');
  hubUrl = new URL(page!).origin;
}, 60_000);

afterAll(async () => {
  if (main && main.child.exitCode === null) main.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const page = () => `${hubUrl}/`;
const readJar = async () => ({ cookies: JSON.parse(readFileSync(join(userData, 'fake-electron-cookies.json'), 'utf8')) });

describe('the bundled main process (fake electron, real hub)', () => {
  it('starts the hub in the user-data folder; the window signs in with a one-time link and lands on the console', async () => {
    const s = await main.cmd('state');
    expect(s.paths.userData).toBe(userData);
    expect(existsSync(join(userData, 'relaydesk.db'))).toBe(true);
    expect(s.loaded).toHaveLength(1);
    expect(s.loaded[0]).toMatch(new RegExp(`^${hubUrl}/auth/exchange\\?code=rdc_`));
    expect(s.pageUrl).toBe(`${hubUrl}/`);
    // The hub answered the link with its session cookie, which the page's script cannot read.
    const cookie = sessionCookie(s, hubUrl)!;
    expect(cookie.value).toMatch(/^rds_/);
    expect(cookie.attributes).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict']));
    // The code was used up by that load.
    expect((await fetch(s.loaded[0], { redirect: 'manual' })).status).toBe(401);
    expect(s.sandbox).toBe(true);
    const res = await fetch(`${hubUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('opens one window with the secure preferences and the bundled CommonJS preload', async () => {
    const s = await main.cmd('state');
    expect(s.windowOptions.webPreferences).toEqual(secureWebPreferences(join(root, 'dist-electron', 'preload.cjs')));
    expect(existsSync(s.windowOptions.webPreferences.preload)).toBe(true);
    await main.until((x) => x.windowVisible, 'ready-to-show');
  });

  it('registers exactly the contract channels, each guarded', async () => {
    const s = await main.cmd('state');
    expect([...s.handle, ...s.on].sort()).toEqual(Object.values(IPC).filter((c) => c !== IPC.focusEvent).sort());
    for (const channel of s.handle) {
      await expect(main.cmd('invoke', { channel, senderUrl: 'https://evil.example/' })).rejects.toThrow(/sender/);
      await expect(main.cmd('invoke', { channel, senderUrl: page(), sub: true })).rejects.toThrow(/sender/);
    }
    await expect(main.cmd('invoke', { channel: IPC.signIn, senderUrl: page(), payload: 'http://127.0.0.1:1/v1/tokens' })).rejects.toThrow(/invalid payload: .*path \/v1\/tokens/);
  });

  it('the window never holds the admin secret: not in its URLs, its cookies or any IPC answer', async () => {
    const s = await main.cmd('state');
    const seen = JSON.stringify({ loaded: s.loaded, pageUrl: s.pageUrl, cookies: s.cookies, sent: s.sent });
    expect(seen).not.toContain(ADMIN_SECRET);
    const answers = [
      await main.cmd('invoke', { channel: IPC.notify, senderUrl: page(), payload: { title: 'High: x', body: '', seq: 1, priority: 'high' } }),
      await main.cmd('send', { channel: IPC.setUnreadUrgent, senderUrl: page(), payload: 0 }),
    ];
    expect(JSON.stringify(answers ?? null)).not.toContain(ADMIN_SECRET);
    // The session is not the bootstrap admin's: it belongs to a console token of its own.
    const me = await main.cmd('page-fetch', { path: '/v1/whoami' });
    expect(me.status).toBe(200);
    expect(me.body).not.toContain(ADMIN_SECRET);
    const who = JSON.parse(me.body);
    expect(who).toMatchObject({ role: 'operator' });
    expect(who.token_id).not.toBe('tok_admin');
    expect(who.scope).toEqual({});
  });

  it("the window's requests and its stream are authenticated by the session cookie, with an operator's rights", async () => {
    const r = await fetch(`${hubUrl}/v1/whoami`);
    expect(r.status).toBe(401); // the same request without the window's cookie
    expect((await main.cmd('page-fetch', { path: '/v1/state/orders' })).status).toBe(200);
    expect((await main.cmd('page-fetch', { path: '/v1/events?limit=1' })).status).toBe(200);
    expect((await main.cmd('page-fetch', { path: '/v1/inbox?min_priority=high&limit=5' })).status).toBe(200);
    const stream = await main.cmd('page-stream', { path: '/v1/stream?events=message&snapshot=1', ms: 300 });
    expect(stream.status).toBe(200);
    expect(stream.body).toMatch(/event: initial/);
    // What the console never does, the session cannot do: mint tokens, read hub-wide stats, change settings.
    expect((await main.cmd('page-fetch', { path: '/v1/tokens' })).status).toBe(403);
    expect((await main.cmd('page-fetch', { path: '/v1/stats' })).status).toBe(403);
    expect((await main.cmd('page-fetch', { path: '/v1/settings', method: 'PUT' })).status).toBe(403);
    const tokens = await (await fetch(`${hubUrl}/v1/tokens`, { headers: { authorization: `Bearer ${ADMIN_SECRET}` } })).json();
    expect(tokens.tokens.filter((t: any) => t.label === 'desktop console' && !t.revoked_at)).toHaveLength(1);
  });

  it('a crashed renderer reloads with a fresh login link', async () => {
    await main.cmd('crash');
    const s = await main.until((x) => (x.loaded.length === 2 ? x : null), 'the reload');
    expect(s.loaded[1]).toMatch(new RegExp(`^${hubUrl}/auth/exchange\\?code=rdc_`));
    expect(s.loaded[1]).not.toBe(s.loaded[0]);
    expect(s.pageUrl).toBe(`${hubUrl}/`);
    expect((await main.cmd('page-fetch', { path: '/v1/whoami' })).status).toBe(200);
  });

  it('blocks navigation away from the hub, new windows and webviews; links go to the system browser', async () => {
    expect(await main.cmd('navigate', { url: `${hubUrl}/#/alerts` })).toEqual({ prevented: false });
    expect(await main.cmd('navigate', { url: 'file:///etc/passwd' })).toEqual({ prevented: true });
    expect(await main.cmd('navigate', { url: 'https://example.com/docs' })).toEqual({ prevented: true });
    expect(await main.cmd('window-open', { url: 'https://example.com/new' })).toEqual({ action: 'deny' });
    expect(await main.cmd('window-open', { url: 'javascript:alert(1)' })).toEqual({ action: 'deny' });
    expect(await main.cmd('webview')).toEqual({ prevented: true });
    expect((await main.cmd('state')).opened).toEqual(['https://example.com/docs', 'https://example.com/new']);
  });

  it('denies permissions by default and adds the desktop CSP to hub responses', async () => {
    expect((await main.cmd('state')).hasPermissionHandlers).toBe(true);
    expect(await main.cmd('permission', { permission: 'media', url: page() })).toBe(false);
    expect(await main.cmd('permission', { permission: 'notifications', url: page() })).toBe(false);
    expect(await main.cmd('permission', { permission: 'clipboard-sanitized-write', url: page() })).toBe(true);
    expect(await main.cmd('permission', { permission: 'clipboard-sanitized-write', url: 'https://evil.example/' })).toBe(false);
    expect(await main.cmd('permission-check', { permission: 'geolocation', url: page() })).toBe(false);
    expect(await main.cmd('device')).toBe(false);
    const h = await main.cmd('headers', { url: page(), headers: { 'content-type': ['text/html'] } });
    expect(h['Content-Security-Policy']).toEqual([DESKTOP_CSP]);
  });

  it('raises native notifications per the stored rules; a click focuses that event in the console', async () => {
    const notify = (title: string, priority: string, seq: number) => main.cmd('invoke', { channel: IPC.notify, senderUrl: page(), payload: { title, body: 'b', seq, priority } });
    await notify('Urgent: payment failed', 'urgent', 7);
    await notify('High: slow', 'high', 8);
    let s = await main.cmd('state');
    expect(s.notifications.map((n: { title: string }) => n.title)).toEqual(['Urgent: payment failed']);
    expect(s.notifications[0].urgency).toBe('critical');
    await main.cmd('hide');
    await main.cmd('click-notification', { title: 'Urgent: payment failed' });
    s = await main.cmd('state');
    expect(s.sent).toEqual([{ channel: IPC.focusEvent, payload: { seq: 7 } }]);
    expect(s.windowVisible).toBe(true);
  });

  it('shows the unread urgent count in the tray, and the tray mutes notifications (stored in the hub)', async () => {
    await main.cmd('send', { channel: IPC.setUnreadUrgent, senderUrl: page(), payload: 3 });
    await main.cmd('send', { channel: IPC.setUnreadUrgent, senderUrl: 'https://evil.example/', payload: 99 });
    let s = await main.until((x) => (x.badge === 3 ? x : null), 'badge');
    expect(s.tray.labels[0]).toBe('3 unread urgent events');
    expect(s.tray.image.path).toMatch(/tray-urgent\.png$/);
    expect(existsSync(s.tray.image.path)).toBe(true);
    await main.cmd('tray', { label: 'Mute notifications' });
    s = await main.until((x) => (x.tray.checked[2] === true ? x : null), 'muted in the tray');
    const r = await fetch(`${hubUrl}/v1/settings`, { headers: { authorization: `Bearer ${token}` } });
    expect((await r.json()).notifications.muted).toBe(true);
    await main.cmd('invoke', { channel: IPC.notify, senderUrl: page(), payload: { title: 'Urgent: muted', body: '', seq: 9, priority: 'urgent' } });
    expect((await main.cmd('state')).notifications).toHaveLength(1);
  });

  it('a second launch exits at once and leaves the first running (single-instance lock)', async () => {
    const second = new MainProcess({ ...baseEnv, FAKE_LOCK: 'taken' });
    expect(await second.exited).toBe(0);
    expect((await fetch(`${hubUrl}/v1/settings`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it('a profile whose database another hub holds (relaydesk serve) shows why it cannot start and exits 1', async () => {
    const held = join(dir, 'held-user-data');
    const serve = await spawnCliHub({ db: join(held, 'relaydesk.db') });
    try {
      const refused = new MainProcess({ RELAYDESK_USER_DATA: held, RELAYDESK_PORT: '0' });
      expect(await refused.exited).toBe(1);
      expect(refused.errorBoxes).toEqual([
        {
          title: 'RelayDesk could not start',
          content: `database ${join(held, 'relaydesk.db')} is in use by another RelayDesk hub (pid ${serve.pid}, ${serve.url}); stop it or pass --db for a separate log\n\nThe log is in ${held}.`,
        },
      ]);
      expect((await fetch(`${serve.url}/healthz`)).status).toBe(200);
    } finally {
      await serve.kill('SIGKILL');
    }
  });

  it('quits gracefully: streams get a shutdown frame with a retry hint, the hub closes, the window is remembered', async () => {
    await main.cmd('move', { bounds: { x: 40, y: 50, width: 1000, height: 700 } });
    const ctl = new AbortController();
    const res = await fetch(`${hubUrl}/v1/stream?access_token=${encodeURIComponent(token)}`, { signal: ctl.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = '';
    const reading = (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        text += new TextDecoder().decode(value);
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    await main.cmd('quit');
    expect(await main.exited).toBe(0);
    await reading;
    expect(text).toMatch(/shutdown/);
    expect(text).toMatch(/retry/);
    await expect(fetch(`${hubUrl}/v1/settings`)).rejects.toThrow();
    const saved = JSON.parse(readFileSync(join(userData, 'window-state.json'), 'utf8'));
    expect(saved.bounds).toEqual({ x: 40, y: 50, width: 1000, height: 700 });
  });

  it('a relaunch reuses the same database and remembered window, and the last run\'s session is void', async () => {
    const before = sessionCookie(await readJar(), hubUrl)!.value;
    main = new MainProcess(baseEnv);
    const pageUrl = await main.until((s) => s.pageUrl as string | null, 'relaunch');
    const s = await main.cmd('state');
    expect(s.windowOptions).toMatchObject({ x: 40, y: 50, width: 1000, height: 700 });
    const origin = new URL(pageUrl!).origin;
    const r = await fetch(`${origin}/v1/settings`, { headers: { authorization: `Bearer ${token}` } });
    expect((await r.json()).notifications.muted).toBe(true); // set from the tray in the run before
    // Each start gets a new console token and revokes the last, so a cookie kept in the profile from
    // the run before opens nothing.
    expect((await fetch(`${origin}/v1/whoami`, { headers: { cookie: `rd_session=${before}` } })).status).toBe(401);
    expect((await main.cmd('page-fetch', { path: '/v1/whoami' })).status).toBe(200);
    await main.cmd('quit');
    expect(await main.exited).toBe(0);
  });

  it('with RELAYDESK_DEMO=1 (what npm start sets) the demo publishers fill every view, and stop on quit', async () => {
    const demoData = join(dir, 'demo-user-data');
    main = new MainProcess({ ...baseEnv, RELAYDESK_USER_DATA: demoData, RELAYDESK_DEMO: '1' });
    const loaded = await main.until((s) => s.pageUrl as string | null, 'demo launch');
    const origin = new URL(loaded!).origin;
    const auth = { headers: { authorization: `Bearer ${ADMIN_SECRET}` } };
    const end = Date.now() + 30_000;
    let domains = new Set<string>();
    while (domains.size < 5 && Date.now() < end) {
      const events = (await (await fetch(`${origin}/v1/events?limit=1000`, auth)).json()).events as { type: string }[];
      domains = new Set(events.map((e) => e.type.split('.')[0]!));
      await new Promise((r) => setTimeout(r, 250));
    }
    expect([...domains].sort()).toEqual(['job', 'mail', 'schedule', 'store', 'trading']);
    await main.cmd('quit');
    expect(await main.exited).toBe(0);
  }, 60_000);
});

/** A store event as a backend publishes it to the shared hub. */
const storeOrder = (store: number, n: number) => ({
  id: `pos-${store}-${n}`,
  type: 'store.order.created',
  store_id: store,
  data: { order_id: n, table_id: 'T1', items: [{ name: 'Ramen', quantity: 1, price: 9.5 }], total: 9.5 },
});

describe('a desktop on a shared hub (a `relaydesk serve` elsewhere, signed in with a login link)', () => {
  let serve: Awaited<ReturnType<typeof spawnCliHub>>;
  let link = '';
  const remoteData = join(dir, 'remote-user-data');
  const asAdmin = (path: string, init: RequestInit = {}) =>
    fetch(`${serve.url}${path}`, { ...init, headers: { authorization: `Bearer ${CLI_ADMIN}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers ?? {}) } });

  beforeAll(async () => {
    serve = await spawnCliHub({ db: join(dir, 'shared-hub', 'hub.db') });
    const created = await (await asAdmin('/v1/tokens', { method: 'POST', body: JSON.stringify({ role: 'operator', label: 'store 12 manager', scope: { store_ids: ['12'] } }) })).json();
    // The link a store manager is handed: `relaydesk login-url <token>` against the shared hub.
    const cli = spawnSync(process.execPath, ['bin/relaydesk.js', 'login-url', created.id, '--json', '--url', serve.url, '--token', CLI_ADMIN], { cwd: root, encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    link = JSON.parse(cli.stdout).url;
  }, 60_000);

  afterAll(async () => {
    if (main && main.child.exitCode === null) main.child.kill('SIGKILL');
    await serve?.kill('SIGKILL');
  });

  it('--hub-url <login link>: no hub starts here, the window signs in to that hub by cookie, scoped to its store', async () => {
    main = new MainProcess({ RELAYDESK_USER_DATA: remoteData, RELAYDESK_PORT: '0' }, ['--hub-url', link]);
    const pageUrl = await main.until((s) => s.pageUrl as string | null, 'the window on the shared hub');
    expect(pageUrl).toBe(`${serve.url}/`);
    const s = await main.cmd('state');
    expect(s.loaded).toEqual([link]);
    expect(existsSync(join(remoteData, 'relaydesk.db'))).toBe(false);
    expect(sessionCookie(s, serve.url)!.attributes).toContain('HttpOnly');
    // Only the hub's origin is kept in the profile, never the one-time code.
    expect(JSON.parse(readFileSync(join(remoteData, 'desktop.json'), 'utf8'))).toEqual({ hub_url: serve.url });
    const me = JSON.parse((await main.cmd('page-fetch', { path: '/v1/whoami' })).body);
    expect(me).toMatchObject({ role: 'operator', scope: { store_ids: ['12'] } });
    // The IPC guard now trusts that hub's pages, and only those.
    await main.cmd('send', { channel: IPC.setUnreadUrgent, senderUrl: `${serve.url}/`, payload: 2 });
    await main.until((x) => x.badge === 2, 'the badge from the remote page');
  });

  it("stream events and history of another store do not reach that window", async () => {
    const streaming = main.cmd('page-stream', { path: '/v1/stream?events=message', ms: 1_500 });
    await new Promise((r) => setTimeout(r, 400));
    const pub = await asAdmin('/v1/events', { method: 'POST', body: JSON.stringify([storeOrder(12, 1), storeOrder(13, 2), storeOrder(12, 3)]) });
    expect(pub.status).toBe(201);
    const got = await streaming;
    expect(got.status).toBe(200);
    const ids = [...got.body.matchAll(/"id":"(pos-[^"]+)"/g)].map((m: RegExpMatchArray) => m[1]);
    expect(ids).toEqual(['pos-12-1', 'pos-12-3']);
    const history = JSON.parse((await main.cmd('page-fetch', { path: '/v1/events?limit=50' })).body);
    expect(history.events.map((e: { id: string }) => e.id).sort()).toEqual(['pos-12-1', 'pos-12-3']);
    expect((await main.cmd('page-fetch', { path: '/v1/events?store_id=13' })).status).toBe(403);
  });

  it('the tray mutes notifications in the profile (a store manager cannot change the shared hub)', async () => {
    await main.cmd('tray', { label: 'Mute notifications' });
    await main.until((x) => (x.tray.checked[2] === true ? x : null), 'muted in the tray');
    expect(JSON.parse(readFileSync(join(remoteData, 'desktop.json'), 'utf8')).notifications.muted).toBe(true);
    expect((await (await asAdmin('/v1/settings')).json()).notifications.muted).toBe(false);
  });

  it('a relaunch goes back to that hub, signed in by the cookie the profile kept; quitting stops nothing there', async () => {
    await main.cmd('quit');
    expect(await main.exited).toBe(0);
    expect((await fetch(`${serve.url}/healthz`)).status).toBe(200);
    main = new MainProcess({ RELAYDESK_USER_DATA: remoteData, RELAYDESK_PORT: '0' });
    await main.until((s) => s.pageUrl as string | null, 'relaunch on the saved hub');
    const s = await main.cmd('state');
    expect(s.loaded).toEqual([`${serve.url}/`]);
    expect(JSON.parse((await main.cmd('page-fetch', { path: '/v1/whoami' })).body).scope).toEqual({ store_ids: ['12'] });
  });

  it('the same login link given again (used up) lands on the console, signed in by the kept cookie', async () => {
    await main.cmd('quit');
    expect(await main.exited).toBe(0);
    main = new MainProcess({ RELAYDESK_USER_DATA: remoteData, RELAYDESK_PORT: '0' }, ['--hub-url', link]);
    await main.until((x) => (x.pageUrl === `${serve.url}/` ? x : null), 'the console page after the refused link');
    const s = await main.cmd('state');
    expect(s.loaded).toEqual([link, `${serve.url}/`]);
    expect(s.pageStatus).toBe(200);
    expect(JSON.parse((await main.cmd('page-fetch', { path: '/v1/whoami' })).body).scope).toEqual({ store_ids: ['12'] });
  });

  it('a link pasted into a desktop running its own hub moves it to the shared hub and stops the built-in one', async () => {
    await main.cmd('quit');
    expect(await main.exited).toBe(0);
    const own = join(dir, 'switching-user-data');
    main = new MainProcess({ RELAYDESK_USER_DATA: own, RELAYDESK_PORT: '0', RELAYDESK_ADMIN_TOKEN: ADMIN_SECRET });
    const first = await main.until((s) => s.pageUrl as string | null, 'the embedded console');
    const embedded = new URL(first!).origin;
    expect(embedded).not.toBe(serve.url);
    const created = await (await asAdmin('/v1/tokens', { method: 'POST', body: JSON.stringify({ role: 'operator', scope: { store_ids: ['12'] } }) })).json();
    const fresh = (await (await asAdmin(`/v1/tokens/${created.id}/login-url`, { method: 'POST' })).json()).url;
    await main.cmd('dialog-answer', { response: 0 });
    await main.cmd('invoke', { channel: IPC.signIn, senderUrl: first, payload: fresh });
    const s = await main.cmd('state');
    expect(s.dialogs.at(-1).message).toBe(`Show the RelayDesk hub at ${serve.url} in this window?`);
    expect(s.pageUrl).toBe(`${serve.url}/`);
    expect(JSON.parse((await main.cmd('page-fetch', { path: '/v1/whoami' })).body).scope).toEqual({ store_ids: ['12'] });
    expect(JSON.parse(readFileSync(join(own, 'desktop.json'), 'utf8')).hub_url).toBe(serve.url);
    await until(async () => !(await fetch(`${embedded}/healthz`).then(() => true, () => false)), 'the built-in hub to stop');
    // --embedded-hub goes back to the built-in hub and forgets the shared one.
    await main.cmd('quit');
    expect(await main.exited).toBe(0);
    main = new MainProcess({ RELAYDESK_USER_DATA: own, RELAYDESK_PORT: '0', RELAYDESK_ADMIN_TOKEN: ADMIN_SECRET }, ['--embedded-hub']);
    const back = await main.until((x) => x.pageUrl as string | null, 'the embedded console again');
    expect(new URL(back!).origin).not.toBe(serve.url);
    expect(JSON.parse(readFileSync(join(own, 'desktop.json'), 'utf8')).hub_url).toBeUndefined();
    await main.cmd('quit');
    expect(await main.exited).toBe(0);
    main = new MainProcess({ RELAYDESK_USER_DATA: remoteData, RELAYDESK_PORT: '0' });
    await main.until((x) => x.pageUrl as string | null, 'back on the shared hub for the next test');
  });

  it('a pasted link to another hub needs the user\'s yes in a native dialog, then the window moves there', async () => {
    const other = await spawnCliHub({ db: join(dir, 'other-hub', 'hub.db') });
    try {
      const created = await (await fetch(`${other.url}/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${CLI_ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ role: 'subscriber', scope: { store_ids: ['7'] } }) })).json();
      const otherLink = (await (await fetch(`${other.url}/v1/tokens/${created.id}/login-url`, { method: 'POST', headers: { authorization: `Bearer ${CLI_ADMIN}` } })).json()).url;
      await main.cmd('dialog-answer', { response: 1 });
      await expect(main.cmd('invoke', { channel: IPC.signIn, senderUrl: `${serve.url}/`, payload: otherLink })).rejects.toThrow(/cancelled/);
      expect((await main.cmd('state')).pageUrl).toBe(`${serve.url}/`);
      await main.cmd('dialog-answer', { response: 0 });
      await main.cmd('invoke', { channel: IPC.signIn, senderUrl: `${serve.url}/`, payload: otherLink });
      const s = await main.cmd('state');
      expect(s.dialogs.map((d: { message: string }) => d.message)).toEqual([`Show the RelayDesk hub at ${other.url} in this window?`, `Show the RelayDesk hub at ${other.url} in this window?`]);
      expect(s.pageUrl).toBe(`${other.url}/`);
      expect(JSON.parse((await main.cmd('page-fetch', { path: '/v1/whoami' })).body).scope).toEqual({ store_ids: ['7'] });
      // The old hub's pages are no longer trusted over IPC.
      await expect(main.cmd('invoke', { channel: IPC.signIn, senderUrl: `${serve.url}/`, payload: link })).rejects.toThrow(/sender/);
      await main.cmd('quit');
      expect(await main.exited).toBe(0);
    } finally {
      await other.kill('SIGKILL');
    }
  });
});
