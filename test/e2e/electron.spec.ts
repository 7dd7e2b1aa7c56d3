/**
 * Desktop smoke test: launches the real app with Playwright's `_electron` when an Electron binary is
 * available (ELECTRON_PATH). This machine has none (the electron package's download is disabled),
 * so it is skipped with the reason below; test/unit/shell/main-process.test.ts runs the bundled main
 * process against a fake electron module instead.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron as electron, expect, test, type ElectronApplication } from '@playwright/test';

const ELECTRON_PATH = process.env.ELECTRON_PATH;
const root = fileURLToPath(new URL('../../', import.meta.url));

const SKIP_REASON =
  'ELECTRON_PATH is not set: no Electron binary here (its download is disabled in package.json allowScripts). ' +
  'Set ELECTRON_PATH=/path/to/electron to run this; the main process is covered by test/unit/shell/main-process.test.ts.';
// The reason is recorded as the test's skip annotation and printed, so a plain `list` run shows it too.
if (!ELECTRON_PATH) console.log(`[electron.spec] skipped: ${SKIP_REASON}`);
test.skip(!ELECTRON_PATH, SKIP_REASON);

test.describe('desktop app (Electron)', () => {
  let app: ElectronApplication | undefined;
  let userData = '';

  test.beforeAll(() => {
    if (!existsSync(join(root, 'dist', 'renderer', 'index.html'))) throw new Error('no console bundle: run `npx vite build` first');
    const b = spawnSync(process.execPath, [join(root, 'scripts', 'build-electron.mjs'), '--native'], { cwd: root, encoding: 'utf8' });
    if (b.status !== 0) throw new Error(`building the main process failed:\n${b.stdout}\n${b.stderr}`);
    userData = mkdtempSync(join(tmpdir(), 'relaydesk-electron-e2e-'));
  });

  test.afterAll(async () => {
    await app?.close().catch(() => undefined);
    if (userData) rmSync(userData, { recursive: true, force: true });
  });

  test('opens a locked-down window on the embedded hub and exposes only the bridge', async () => {
    app = await electron.launch({
      executablePath: ELECTRON_PATH!,
      // Chromium refuses its OS sandbox as root (CI containers); the renderer sandbox still applies.
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '.'],
      cwd: root,
      env: { ...process.env, RELAYDESK_USER_DATA: userData, RELAYDESK_PORT: '0', RELAYDESK_LOG_LEVEL: 'warn' },
    });
    const win = await app.firstWindow();
    await win.waitForLoadState('domcontentloaded');
    const origin = new URL(win.url()).origin;
    expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    expect(await app.evaluate(({ app: a }) => a.getPath('userData'))).toBe(userData);
    expect(existsSync(join(userData, 'relaydesk.db'))).toBe(true);

    // (The options given to BrowserWindow are asserted in test/unit/shell/main-process.test.ts; here we
    // check their effect from inside the page: no Node, no Electron, only the bridge.)

    expect(await win.evaluate(() => Object.keys(window.relaydesk ?? {}).sort())).toEqual(['notify', 'onFocusEvent', 'setUnreadUrgent', 'signIn']);
    expect(await win.evaluate(() => [typeof (globalThis as Record<string, unknown>).require, typeof (globalThis as Record<string, unknown>).process])).toEqual(['undefined', 'undefined']);
    // Signed in by the hub's HttpOnly cookie: the page's requests work, its script sees no cookie or token.
    await win.waitForURL(`${origin}/`);
    expect(await win.evaluate(async () => (await fetch('/v1/whoami')).status)).toBe(200);
    expect(await win.evaluate(() => document.cookie)).toBe('');
    expect(await win.evaluate(async () => (await (await fetch('/v1/whoami')).json()).role)).toBe('operator');

    // No new windows, no navigation away from the hub.
    expect(await win.evaluate(() => window.open('https://example.com/') === null)).toBe(true);
    await win.evaluate(() => {
      location.href = 'file:///etc/passwd';
    });
    await win.waitForTimeout(300);
    expect(new URL(win.url()).origin).toBe(origin);
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);

    // Graceful quit closes the hub (its port stops answering).
    await app.close();
    app = undefined;
    await expect(fetch(`${origin}/healthz`)).rejects.toThrow();
  });
});
