#!/usr/bin/env node
// `npm start`: the RelayDesk console, one command.
//
//  1. installs the npm packages when they are missing (scripts/ensure-deps.sh);
//  2. builds the console bundle (dist/renderer) when it is missing or older than its sources;
//  3. opens the desktop app when an Electron binary can run here (fetching the binary once, bounded
//     by a timeout, where the network allows);
//  4. otherwise says why and runs `relaydesk serve --demo`, opening the printed console link in the
//     default browser when there is one.
//
// Options: --browser (skip the desktop app); --hub-url <login link> (show a hub on another machine,
// signed in by that link: the desktop app gets it, or the browser opens it; no hub starts here).
// Other arguments go to `relaydesk serve`.
// Environment: RELAYDESK_NO_ELECTRON_DOWNLOAD=1 (never try the download),
// RELAYDESK_ELECTRON_DOWNLOAD_TIMEOUT_MS (default 120000), RELAYDESK_RETRY_ELECTRON=1 (retry a
// download that failed in the last day), ELECTRON_PATH (use this Electron binary), RELAYDESK_NO_BUILD=1
// (do not rebuild the console bundle).
import { spawn, spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const argv = process.argv.slice(2);
const wantBrowser = argv.includes('--browser') || process.env.RELAYDESK_BROWSER === '1';
/** `--hub-url <link>` or `--hub-url=<link>`: the value, and the arguments without it. */
function takeHubUrl(args) {
  const rest = [];
  let link = null;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--hub-url') link = args[++i] ?? '';
    else if (args[i].startsWith('--hub-url=')) link = args[i].slice('--hub-url='.length);
    else rest.push(args[i]);
  }
  return { link, rest };
}
const { link: hubLink, rest: otherArgs } = takeHubUrl(argv);
const serveArgs = otherArgs.filter((a) => a !== '--browser');
const say = (m) => process.stdout.write(`relaydesk: ${m}\n`);
const FAIL_MARK = join(root, 'node_modules', '.relaydesk-electron-download-failed');

function lastLine(text) {
  const lines = String(text ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const l = lines.find((x) => /error|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|403|404|denied/i.test(x)) ?? lines.at(-1) ?? '';
  return l.length > 160 ? `${l.slice(0, 157)}...` : l;
}

// ---- 1. packages -------------------------------------------------------------------------------
/** Only when packages are missing: a stale-but-working install is left alone (npm test re-syncs it). */
function ensureDeps() {
  const needed = ['vite', 'fastify', 'better-sqlite3', 'zod', 'tsx', 'commander', 'electron'];
  const missing = needed.filter((p) => !existsSync(join(root, 'node_modules', p, 'package.json')));
  if (!missing.length) return;
  say(`installing dependencies (missing: ${missing.join(', ')}) with scripts/ensure-deps.sh`);
  const r = spawnSync('bash', ['scripts/ensure-deps.sh'], { stdio: 'inherit' });
  if (r.status !== 0) {
    say('installing dependencies failed; see the output above');
    process.exit(r.status ?? 1);
  }
}

// ---- 2. console bundle -------------------------------------------------------------------------
function newest(path) {
  let t = 0;
  const walk = (p) => {
    let s;
    try {
      s = statSync(p);
    } catch {
      return;
    }
    if (s.isDirectory()) for (const f of readdirSync(p)) walk(join(p, f));
    else t = Math.max(t, s.mtimeMs);
  };
  walk(path);
  return t;
}

function ensureRenderer() {
  if (process.env.RELAYDESK_NO_BUILD === '1') return; // tests: never rebuild the shared bundle
  const index = join(root, 'dist', 'renderer', 'index.html');
  const built = existsSync(index) ? statSync(index).mtimeMs : 0;
  const sources = Math.max(newest('renderer'), newest('shared'), newest('vite.config.ts'));
  if (built && built >= sources) return;
  say(built ? 'console sources changed; rebuilding the console bundle' : 'building the console bundle (first run)');
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
  if (r.status !== 0) {
    say('building the console failed; see the output above');
    process.exit(r.status ?? 1);
  }
}

// ---- 3. desktop --------------------------------------------------------------------------------
/** Returns the reason the desktop app cannot start here, or null with `bin` set when it can. */
async function desktopCheck(b) {
  if (wantBrowser) return { reason: 'the browser console was asked for (--browser)' };
  let bin = b.electronBinary();
  if (!bin) {
    const recentFailure = existsSync(FAIL_MARK) && Date.now() - statSync(FAIL_MARK).mtimeMs < 24 * 3600_000 && process.env.RELAYDESK_RETRY_ELECTRON !== '1';
    if (process.env.RELAYDESK_NO_ELECTRON_DOWNLOAD === '1') return { reason: "Electron's binary is not installed and RELAYDESK_NO_ELECTRON_DOWNLOAD=1 forbids fetching it" };
    if (recentFailure)
      return { reason: `Electron's binary could not be downloaded here (${readFileSync(FAIL_MARK, 'utf8').trim() || 'earlier attempt failed'}; set RELAYDESK_RETRY_ELECTRON=1 to try again)` };
    const timeout = Number(process.env.RELAYDESK_ELECTRON_DOWNLOAD_TIMEOUT_MS ?? 120_000);
    say(`fetching Electron's binary (up to ${Math.round(timeout / 1000)} s)...`);
    const env = { ...process.env };
    delete env.ELECTRON_SKIP_BINARY_DOWNLOAD;
    const r = spawnSync(process.execPath, [join(root, 'node_modules', 'electron', 'install.js')], { env, encoding: 'utf8', timeout });
    bin = b.electronBinary();
    if (!bin) {
      const detail = r.error?.code === 'ETIMEDOUT' ? `no answer within ${Math.round(timeout / 1000)} s` : lastLine(r.stderr) || `install.js exited with ${r.status}`;
      try {
        writeFileSync(FAIL_MARK, detail);
      } catch {
        /* read-only node_modules: retry next time */
      }
      return { reason: `Electron's binary could not be downloaded here (${detail})` };
    }
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return { reason: 'there is no graphical display (DISPLAY and WAYLAND_DISPLAY are unset)' };
  const v = spawnSync(bin, ['--version'], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, encoding: 'utf8', timeout: 20_000 });
  if (v.status !== 0) return { reason: `the Electron binary does not run on this machine (${lastLine(v.stderr) || v.error?.message || `exit ${v.status}`})` };
  try {
    await b.buildBundles();
  } catch (err) {
    return { reason: `building the desktop main process failed (${err.message})` };
  }
  const n = b.prepareNative();
  if (!n.ok) return { reason: `better-sqlite3 could not be fetched for Electron's ABI (${n.reason})` };
  return { bin };
}

function launchDesktop(bin) {
  return new Promise((res) => {
    const started = Date.now();
    // The desktop app runs the demo publishers only when asked; `npm start` is the first look, so it asks.
    // A remote hub gets no demo publishers: they would publish into someone else's log.
    const args = hubLink === null ? ['.'] : ['.', '--hub-url', hubLink];
    const env = hubLink === null ? { ...process.env, RELAYDESK_DEMO: process.env.RELAYDESK_DEMO ?? '1' } : process.env;
    const child = spawn(bin, args, { stdio: 'inherit', env });
    for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
    child.on('error', (err) => res({ fallback: `Electron could not be started (${err.message})` }));
    child.on('exit', (code, signal) => {
      // An immediate crash (missing system libraries, no GPU/sandbox support) falls back to the browser.
      if (code !== 0 && !signal && Date.now() - started < 5_000) res({ fallback: `Electron exited at start-up (code ${code})` });
      else res({ code: exitCode(code, signal) });
    });
  });
}

/** A child killed by a signal did not stop cleanly (it handles SIGINT/SIGTERM itself): say so the shell's way. */
function exitCode(code, signal) {
  if (code !== null) return code;
  return 128 + (constants.signals[signal] ?? 0);
}

// ---- 4. browser --------------------------------------------------------------------------------
function openInBrowser(url) {
  let cmd;
  let args;
  if (process.platform === 'darwin') [cmd, args] = ['open', [url]];
  else if (process.platform === 'win32') [cmd, args] = ['cmd', ['/c', 'start', '""', url.replace(/&/g, '^&')]];
  else {
    if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return false;
    [cmd, args] = ['xdg-open', [url]];
  }
  try {
    const c = spawn(cmd, args, { stdio: 'ignore', detached: true });
    c.on('error', () => undefined);
    c.unref();
    return true;
  } catch {
    return false;
  }
}

function serveInBrowser(reason) {
  say(`${reason}; serving the same console in your browser instead.`);
  const child = spawn(process.execPath, [join(root, 'bin', 'relaydesk.js'), 'serve', '--demo', ...serveArgs], { stdio: ['inherit', 'pipe', 'inherit'] });
  let buf = '';
  let opened = false;
  child.stdout.on('data', (d) => {
    process.stdout.write(d);
    if (opened) return;
    buf += d;
    const m = /^Console: (\S+)/m.exec(buf);
    if (m) {
      opened = true;
      if (openInBrowser(m[1])) say('opened the console in your default browser (the link above works once; it signs the browser in)');
      else say('open the "Console:" link above in a browser (it works once and signs the browser in)');
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  // 'close', not 'exit': it fires after the child's last output ("stopping...") has been forwarded.
  child.on('close', (code, signal) => process.exit(exitCode(code, signal)));
}

/** Where Electron cannot run, a login link for another hub is simply opened in the browser. */
function openRemoteInBrowser(reason) {
  if (!/^https?:\/\/[^/]+\/auth\/exchange\?code=\S+$/.test(hubLink)) {
    say(`--hub-url needs a login link (http://host:port/auth/exchange?code=...; run \`relaydesk login-url\` on that hub), got "${hubLink.slice(0, 80)}"`);
    process.exit(2);
  }
  say(`${reason}; opening that hub's console in your browser instead (no hub starts here).`);
  if (openInBrowser(hubLink)) say('opened the login link in your default browser (it works once and signs the browser in)');
  else say(`open this link in a browser (it works once and signs the browser in):\n${hubLink}`);
  process.exit(0);
}

ensureDeps();
ensureRenderer();
const b = await import('./build-electron.mjs');
const check = await desktopCheck(b);
if (check.bin) {
  say('starting the desktop app');
  const r = await launchDesktop(check.bin);
  if (r.fallback) (hubLink === null ? serveInBrowser : openRemoteInBrowser)(r.fallback);
  else process.exit(r.code);
} else (hubLink === null ? serveInBrowser : openRemoteInBrowser)(check.reason);
