/**
 * RelayDesk desktop: the Electron main process. Deliberately thin: it starts the same hub the
 * headless `relaydesk serve` runs (in-process) or, given a login link, uses a hub on another machine;
 * opens one locked-down window on the console that hub serves, and wires the preload bridge, tray and
 * native notifications. Every decision lives in a plain module under electron/shell/ with unit tests;
 * this file only connects them to Electron.
 *
 * The window signs in like a browser: it loads a one-time login link and the hub answers with an
 * HttpOnly session cookie. The bootstrap admin secret stays in this process (electron/shell/
 * console-signin.ts says which token the window gets instead).
 *
 * Bundled by scripts/build-electron.mjs to dist-electron/main.js as an ES module (package.json has
 * "type": "module"; Electron >= 28 loads ESM main scripts). Packages stay external and load from
 * node_modules at run time.
 */
import { app, BrowserWindow, dialog, ipcMain, session, shell, type WebContents } from 'electron';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IPC, focusEventSchema, type NotifyRequest } from '../shared/desktop-bridge.ts';
import type { LoginLink } from '../shared/login-link.ts';
import type { Settings } from '../shared/settings.ts';
import { withDesktopCsp } from './shell/csp.ts';
import { EmbeddedConsoleSignIn } from './shell/console-signin.ts';
import { createIpcTable } from './shell/ipc-handlers.ts';
import { decideNavigation, decideWindowOpen, externalPolicyFromEnv } from './shell/navigation.ts';
import { shouldNotify } from './shell/notify-policy.ts';
import { permissionAllowed } from './shell/permissions.ts';
import { hubSettingsAccess, startDesktopHub, type DesktopHub } from './shell/hub-runner.ts';
import { DesktopPrefsFile, pageAfterRefusedLink, resolveHubTarget } from './shell/hub-target.ts';
import type { TrayAction } from './shell/tray-menu.ts';
import { createConsoleWindow, showWindow } from './window.ts';
import { ShellTray } from './tray.ts';
import { ShellNotifications } from './notifications.ts';
import { startDemo, type Demo } from './demo/index.ts';

const here = dirname(fileURLToPath(import.meta.url));
const PRELOAD = join(here, 'preload.cjs');
const ASSETS = join(here, 'assets');
/** dist-electron/../dist/renderer: the same relative place in the repo and inside app.asar. */
const RENDERER_DIR = process.env.RELAYDESK_RENDERER_DIR ?? join(here, '..', 'dist', 'renderer');
const external = externalPolicyFromEnv(process.env);

// Same folder as the hub's defaultDataDir() (".../RelayDesk"), whatever package.json's name is, so
// the desktop app and `relaydesk serve` use the same event log by default (one of them at a time: the
// second is refused with the holder's pid and URL). RELAYDESK_USER_DATA isolates test runs.
app.setPath('userData', process.env.RELAYDESK_USER_DATA ?? join(app.getPath('appData'), 'RelayDesk'));
app.enableSandbox();
if (process.platform === 'win32') app.setAppUserModelId('com.relaydesk.app');

interface SettingsAccess {
  get(): Settings;
  put(next: Settings): Promise<Settings>;
}

let appOrigin = ''; // until a hub is chosen, no origin is trusted: every navigation and IPC is refused
let desktop: DesktopHub | null = null;
let demo: Demo | undefined;
let win: BrowserWindow | null = null;
let quitting = false;
let shutdownState: 'running' | 'stopping' | 'stopped' = 'running';

function hardenContents(contents: WebContents): void {
  const onNavigate = (event: { preventDefault(): void }, url: string) => {
    const d = decideNavigation(url, appOrigin, external);
    if (d.action === 'allow') return;
    event.preventDefault();
    if (d.action === 'open-external') void shell.openExternal(d.url);
  };
  contents.on('will-navigate', (e, url) => onNavigate(e, url));
  contents.on('will-redirect', (e, url) => onNavigate(e, url));
  contents.setWindowOpenHandler(({ url }) => {
    const d = decideWindowOpen(url, external);
    if (d.openExternal) void shell.openExternal(d.openExternal);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (e) => e.preventDefault());
}
app.on('web-contents-created', (_e, contents) => hardenContents(contents));

function hardenSession(): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, permission, callback, details) => callback(permissionAllowed(permission, details.requestingUrl, appOrigin)));
  ses.setPermissionCheckHandler((_wc, permission, requestingOrigin, details) =>
    permissionAllowed(permission, details.requestingUrl ?? requestingOrigin, appOrigin),
  );
  ses.setDevicePermissionHandler(() => false);
  ses.webRequest.onHeadersReceived((details, callback) => callback({ responseHeaders: withDesktopCsp(details.url, appOrigin, details.responseHeaders) }));
}

/** The shell's notification rules for a remote hub live in the profile (see hub-target.ts). */
function localSettings(prefs: DesktopPrefsFile): SettingsAccess {
  return { get: () => prefs.settings(), put: async (next) => prefs.putSettings(next) };
}

async function startEmbedded(userData: string): Promise<{ hub: DesktopHub; signIn: EmbeddedConsoleSignIn }> {
  let logDestination: NodeJS.WritableStream | undefined;
  if (app.isPackaged) {
    mkdirSync(join(userData, 'logs'), { recursive: true });
    logDestination = createWriteStream(join(userData, 'logs', 'hub.log'), { flags: 'a' });
  }
  const portOverride = process.env.RELAYDESK_PORT ? Number(process.env.RELAYDESK_PORT) : undefined;
  const started = await startDesktopHub({
    dataDir: userData,
    rendererDir: RENDERER_DIR,
    logLevel: (process.env.RELAYDESK_LOG_LEVEL as 'info' | undefined) ?? 'info',
    logDestination,
    portOverride: Number.isInteger(portOverride) ? portOverride : undefined,
    // As for `relaydesk serve`; unset, a fresh random one is minted that only this process knows.
    adminToken: process.env.RELAYDESK_ADMIN_TOKEN || undefined,
    mercureKeys: { publisher: process.env.MERCURE_PUBLISHER_JWT_KEY || undefined, subscriber: process.env.MERCURE_SUBSCRIBER_JWT_KEY || undefined },
  });
  // Set at once, so a failure below (the demo, the sign-in) still shuts this hub down.
  desktop = started;
  const { hub } = started;
  // `npm start` sets RELAYDESK_DEMO=1 so a first look has live data; an installed app never fakes
  // events into a user's log. The demo publishes over HTTP like any backend.
  if (process.env.RELAYDESK_DEMO === '1')
    demo = await startDemo({ url: started.url, adminToken: started.adminToken }).catch((err) => {
      hub.logger.warn({ err }, 'demo publishers did not start');
      return undefined;
    });
  if (started.port.fellBack) hub.logger.warn({ wanted: started.port.wanted, actual: started.port.actual }, `${started.port.reason}; using a free port`);
  const signIn = new EmbeddedConsoleSignIn(
    () => started.url,
    () => started.adminToken,
  );
  await signIn.rotate();
  return { hub: started, signIn };
}

const log = {
  warn: (obj: object, msg: string) => (desktop ? desktop.hub.logger.warn(obj, msg) : console.warn(`relaydesk: ${msg}`, obj)),
  error: (obj: object, msg: string) => (desktop ? desktop.hub.logger.error(obj, msg) : console.error(`relaydesk: ${msg}`, obj)),
};

async function start(): Promise<void> {
  const userData = app.getPath('userData');
  mkdirSync(userData, { recursive: true });
  const prefs = new DesktopPrefsFile(join(userData, 'desktop.json'));
  const target = resolveHubTarget(process.argv.slice(1), process.env, prefs.read());
  let settings: SettingsAccess;
  /** What the window loads: a fresh login link for the embedded hub, the remote hub's page otherwise. */
  let entry: () => Promise<string>;
  if (target.kind === 'embedded') {
    if (target.forget) prefs.update({ hub_url: undefined });
    const embedded = await startEmbedded(userData);
    desktop = embedded.hub;
    appOrigin = new URL(desktop.url).origin;
    const d = desktop;
    settings = hubSettingsAccess(d.hub, () => d.url, () => d.adminToken);
    entry = () => embedded.signIn.loginLink();
  } else {
    // The login link's one-time code is used once and never stored; the hub's origin is, so the next
    // start goes back to it (with the session cookie the window's profile keeps).
    if (target.entry !== `${target.origin}/`) prefs.update({ hub_url: target.origin });
    appOrigin = target.origin;
    settings = localSettings(prefs);
    let first = true;
    entry = async () => (first ? ((first = false), target.entry) : `${appOrigin}/`);
  }
  hardenSession();

  const notifications = new ShellNotifications((seq, action) => {
    showWindow(win);
    win?.webContents.send(IPC.focusEvent, focusEventSchema.parse(action ? { seq, action } : { seq }));
  }, join(ASSETS, 'icon.png'));
  const tray = new ShellTray({ normal: join(ASSETS, 'tray.png'), urgent: join(ASSETS, 'tray-urgent.png') }, (a: TrayAction) => {
    if (a === 'show') showWindow(win);
    else if (a === 'quit') app.quit();
    else if (a === 'toggle-mute') {
      const s = settings.get();
      void settings
        .put({ ...s, notifications: { ...s.notifications, muted: !s.notifications.muted } })
        .then((next) => tray.update({ muted: next.notifications.muted }))
        .catch((err) => log.warn({ err }, 'could not change the mute setting'));
    }
  });

  /**
   * A pasted login link: the window moves to that hub. A page cannot move the window to a hub of its
   * choosing on its own: going to another origin needs the user's yes in a native dialog, which no
   * page can draw or answer.
   */
  const signIn = async (link: LoginLink): Promise<void> => {
    if (link.origin !== appOrigin) {
      const answer = await dialog.showMessageBox({
        type: 'question',
        buttons: ['Connect', 'Cancel'],
        defaultId: 1,
        cancelId: 1,
        title: 'Connect to another hub',
        message: `Show the RelayDesk hub at ${link.origin} in this window?`,
        detail: desktop
          ? 'The hub built into this app stops, and RelayDesk opens on that hub from now on (start it with --embedded-hub to go back).'
          : 'RelayDesk opens on that hub from now on.',
      });
      if (answer.response !== 0) throw new Error('connecting to another hub was cancelled');
    }
    prefs.update({ hub_url: link.origin });
    appOrigin = link.origin;
    settings = localSettings(prefs);
    tray.update({ muted: settings.get().notifications.muted });
    entry = async () => `${link.origin}/`;
    await win?.loadURL(link.url);
    if (desktop) void stopEmbedded();
  };

  const table = createIpcTable(() => appOrigin, {
    notify: (n: NotifyRequest) => {
      if (shouldNotify(n, settings.get())) notifications.show(n);
    },
    setUnreadUrgent: (count) => tray.update({ unreadUrgent: count, muted: settings.get().notifications.muted }),
    signIn,
  });
  for (const [channel, fn] of Object.entries(table.handle)) ipcMain.handle(channel, (e, payload) => fn(e, payload));
  for (const [channel, fn] of Object.entries(table.on)) ipcMain.on(channel, (e, payload) => void fn(e, payload));

  win = createConsoleWindow({ preloadPath: PRELOAD, iconPath: join(ASSETS, 'icon.png'), stateFile: join(userData, 'window-state.json') });
  win.on('show', () => tray.update({ windowVisible: true }));
  win.on('hide', () => tray.update({ windowVisible: false }));
  win.on('close', (e) => {
    // macOS convention: closing the window keeps the app (and its notifications) running.
    if (process.platform === 'darwin' && !quitting) {
      e.preventDefault();
      win?.hide();
    }
  });
  win.on('closed', () => (win = null));
  win.webContents.on('did-navigate', (_e, url, httpStatus) => {
    const next = pageAfterRefusedLink(url, httpStatus, appOrigin);
    if (next) void win?.loadURL(next).catch((err: Error) => log.error({ err }, 'the console did not load'));
  });
  win.webContents.on('render-process-gone', (_e, details) => {
    log.error({ reason: details.reason }, 'console renderer exited; reloading');
    if (details.reason === 'clean-exit' || !win || win.isDestroyed()) return;
    void entry()
      .then((url) => win?.loadURL(url))
      .catch((err: Error) => log.error({ err }, 'the console did not reload'));
  });
  tray.create();
  tray.update({ muted: settings.get().notifications.muted });
  // A failed first load (hub bundle missing, remote hub down, renderer crash) leaves the app running
  // with the tray and a message, rather than quitting and taking the hub with it.
  await entry()
    .then((url) => win!.loadURL(url))
    .catch((err: Error) => {
      log.error({ err }, 'the console did not load');
      dialog.showErrorBox('RelayDesk console did not load', `${err.message}\n\n${desktop ? `The hub is running at ${desktop.url}.` : `The hub is ${appOrigin}.`}`);
    });
}

/** Stop the embedded hub (and the demo publishers feeding it). */
async function stopEmbedded(): Promise<void> {
  const d = desktop;
  if (!d) return;
  desktop = null;
  await demo?.stop().catch((err) => d.hub.logger.warn({ err }, 'demo publishers did not stop cleanly'));
  demo = undefined;
  await Promise.race([d.hub.close(), new Promise((r) => setTimeout(r, 5_000).unref())]).catch((err) => d.hub.logger.error({ err }, 'hub shutdown failed'));
}

/** Graceful stop: the hub refuses publishes, flushes, and tells every stream to reconnect later. */
async function shutdown(): Promise<void> {
  await stopEmbedded();
}

if (!app.requestSingleInstanceLock()) {
  // Another RelayDesk already runs on this profile: it gets 'second-instance' and shows itself.
  app.quit();
} else {
  app.on('second-instance', () => showWindow(win));
  app.on('activate', () => showWindow(win));
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('before-quit', (e) => {
    quitting = true;
    if (shutdownState === 'stopped') return;
    e.preventDefault();
    if (shutdownState === 'stopping') return;
    shutdownState = 'stopping';
    void shutdown().finally(() => {
      shutdownState = 'stopped';
      app.quit();
    });
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => app.quit());
  app
    .whenReady()
    .then(start)
    .catch(async (err: Error) => {
      dialog.showErrorBox('RelayDesk could not start', `${err.message}\n\nThe log is in ${app.getPath('userData')}.`);
      await shutdown();
      app.exit(1);
    });
}
