/**
 * The real bundled main process (dist-electron/main.js, built by scripts/build-electron.mjs) run
 * under plain Node with a fake `electron` module (fake-electron/). No Electron binary exists here,
 * so this is as close as the machine allows: the bundle loads as ESM with its external packages,
 * starts the real hub in the user-data folder, serves the console, wires the guarded IPC table,
 * hardens the session and the window, shows notifications, drives the tray, remembers the window,
 * honours the single-instance lock and shuts the hub down gracefully on quit.
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

  constructor(env: Record<string, string>) {
    this.child = fork(join(root, 'dist-electron', 'main.js'), [], {
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
let token = '';

beforeAll(async () => {
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build-electron.mjs')], { cwd: root, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`build failed: ${b.stderr}`);
  mkdirSync(rendererDir, { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>RelayDesk</title><div id="root"></div>');
  main = new MainProcess({ RELAYDESK_USER_DATA: userData, RELAYDESK_PORT: '0' });
  const loaded = await main.until((s) => s.loaded[0] as string | undefined, 'the window to load the console');
  hubUrl = new URL(loaded!).origin;
}, 60_000);

afterAll(async () => {
  if (main && main.child.exitCode === null) main.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const page = () => `${hubUrl}/`;

describe('the bundled main process (fake electron, real hub)', () => {
  it('starts the hub in the user-data folder and loads the console from the hub URL', async () => {
    const s = await main.cmd('state');
    expect(s.paths.userData).toBe(userData);
    expect(existsSync(join(userData, 'relaydesk.db'))).toBe(true);
    expect(s.loaded).toEqual([`${hubUrl}/`]);
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
    await expect(main.cmd('invoke', { channel: IPC.getConnection, senderUrl: 'https://evil.example/' })).rejects.toThrow(/sender/);
    await expect(main.cmd('invoke', { channel: IPC.getConnection, senderUrl: page(), sub: true })).rejects.toThrow(/sender/);
    const conn = await main.cmd('invoke', { channel: IPC.getConnection, senderUrl: page() });
    expect(conn.hubUrl).toBe(hubUrl);
    token = conn.token;
    const r = await fetch(`${hubUrl}/v1/settings`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(200);
  });

  it('round-trips settings through the hub', async () => {
    const s = await main.cmd('invoke', { channel: IPC.getSettings, senderUrl: page() });
    const next = { ...s, retention_days: 9 };
    expect(await main.cmd('invoke', { channel: IPC.setSettings, senderUrl: page(), payload: next })).toEqual(next);
    const r = await fetch(`${hubUrl}/v1/settings`, { headers: { authorization: `Bearer ${token}` } });
    expect(await r.json()).toEqual(next);
    await expect(main.cmd('invoke', { channel: IPC.setSettings, senderUrl: page(), payload: { ...next, port: 'x' } })).rejects.toThrow(/invalid payload/);
  });

  it('blocks navigation away from the hub, new windows and webviews; links go to the system browser', async () => {
    expect(await main.cmd('navigate', { url: `${hubUrl}/#/alerts` })).toEqual({ prevented: false });
    expect(await main.cmd('navigate', { url: 'file:///etc/passwd' })).toEqual({ prevented: true });
    expect(await main.cmd('navigate', { url: 'https://example.com/docs' })).toEqual({ prevented: true });
    expect(await main.cmd('window-open', { url: 'https://example.com/new' })).toEqual({ action: 'deny' });
    expect(await main.cmd('window-open', { url: 'javascript:alert(1)' })).toEqual({ action: 'deny' });
    expect(await main.cmd('webview')).toEqual({ prevented: true });
    await main.cmd('invoke', { channel: IPC.openExternal, senderUrl: page(), payload: 'https://example.com/ext' });
    expect((await main.cmd('state')).opened).toEqual(['https://example.com/docs', 'https://example.com/new', 'https://example.com/ext']);
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
    const second = new MainProcess({ RELAYDESK_USER_DATA: userData, RELAYDESK_PORT: '0', FAKE_LOCK: 'taken' });
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

  it('a relaunch reuses the same database and remembered window', async () => {
    main = new MainProcess({ RELAYDESK_USER_DATA: userData, RELAYDESK_PORT: '0' });
    await main.until((s) => s.loaded[0], 'relaunch');
    const s = await main.cmd('state');
    expect(s.windowOptions).toMatchObject({ x: 40, y: 50, width: 1000, height: 700 });
    const conn = await main.cmd('invoke', { channel: IPC.getConnection, senderUrl: s.loaded[0] });
    const r = await fetch(`${new URL(s.loaded[0]).origin}/v1/settings`, { headers: { authorization: `Bearer ${conn.token}` } });
    expect((await r.json()).retention_days).toBe(9);
    await main.cmd('quit');
    expect(await main.exited).toBe(0);
  });

  it('with RELAYDESK_DEMO=1 (what npm start sets) the demo publishers fill every view, and stop on quit', async () => {
    const demoData = join(dir, 'demo-user-data');
    main = new MainProcess({ RELAYDESK_USER_DATA: demoData, RELAYDESK_PORT: '0', RELAYDESK_DEMO: '1' });
    const loaded = await main.until((s) => s.loaded[0] as string | undefined, 'demo launch');
    const origin = new URL(loaded!).origin;
    const conn = await main.cmd('invoke', { channel: IPC.getConnection, senderUrl: loaded });
    const auth = { headers: { authorization: `Bearer ${conn.token}` } };
    const end = Date.now() + 30_000;
    let domains = new Set<string>();
    while (domains.size < 4 && Date.now() < end) {
      const events = (await (await fetch(`${origin}/v1/events?limit=1000`, auth)).json()).events as { type: string }[];
      domains = new Set(events.map((e) => e.type.split('.')[0]!));
      await new Promise((r) => setTimeout(r, 250));
    }
    expect([...domains].sort()).toEqual(['job', 'mail', 'store', 'trading']);
    await main.cmd('quit');
    expect(await main.exited).toBe(0);
  }, 60_000);
});
