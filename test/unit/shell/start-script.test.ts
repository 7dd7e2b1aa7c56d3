import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'relaydesk-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `npm start` where Electron cannot run: it says why, serves the console, and stops cleanly. */
describe('npm start (scripts/start.js) without Electron', () => {
  it('explains the fallback, runs `relaydesk serve --demo`, prints the console link and stops on SIGTERM', async () => {
    const env: Record<string, string | undefined> = {
      ...process.env,
      RELAYDESK_NO_ELECTRON_DOWNLOAD: '1',
      RELAYDESK_NO_BUILD: '1',
      RELAYDESK_LOG_LEVEL: 'silent',
      XDG_CONFIG_HOME: dir,
      DISPLAY: '',
      WAYLAND_DISPLAY: '',
    };
    delete env.ELECTRON_PATH; // never a real Electron, even if the caller has one
    const child = spawn(process.execPath, [join(root, 'scripts', 'start.js'), '--port', '0', '--db', join(dir, 'hub.db')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    // 'close', not 'exit': the last lines ("stopping...") may still be in the pipe when 'exit' fires.
    const exited = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    const end = Date.now() + 30_000;
    while (!/open the "Console:" link above/.test(out) && Date.now() < end && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    expect(out).toMatch(/relaydesk: Electron's binary is not installed and RELAYDESK_NO_ELECTRON_DOWNLOAD=1 forbids fetching it; serving the same console in your browser instead\./);
    const link = /^Console: (http:\/\/127\.0\.0\.1:\d+\/auth\/exchange\?code=\S+)/m.exec(out)?.[1];
    expect(link, out).toBeDefined();
    // No display here, so it does not try xdg-open; it tells the user to open the link instead.
    expect(out).toMatch(/open the "Console:" link above in a browser/);
    const res = await fetch(link!, { redirect: 'manual' });
    expect(res.status).toBe(303);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toMatch(/stopping/);
  }, 60_000);

  it('--hub-url <login link> without Electron opens that hub in the browser and starts no hub here', async () => {
    const env: Record<string, string | undefined> = { ...process.env, RELAYDESK_NO_ELECTRON_DOWNLOAD: '1', RELAYDESK_NO_BUILD: '1', XDG_CONFIG_HOME: dir, DISPLAY: '', WAYLAND_DISPLAY: '' };
    delete env.ELECTRON_PATH;
    const link = 'http://hub.example:7700/auth/exchange?code=rdc_example';
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string }>((res) => {
        const child = spawn(process.execPath, [join(root, 'scripts', 'start.js'), ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        child.on('close', (code) => res({ code, out }));
      });
    const ok = await run(['--hub-url', link]);
    expect(ok.code, ok.out).toBe(0);
    expect(ok.out).toMatch(/opening that hub's console in your browser instead \(no hub starts here\)/);
    expect(ok.out).toContain(`open this link in a browser (it works once and signs the browser in):\n${link}`);
    expect(ok.out).not.toMatch(/Console:|listening on/);
    const bad = await run(['--hub-url=http://hub.example:7700/v1/stream']);
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/--hub-url needs a login link/);
  }, 60_000);
});
