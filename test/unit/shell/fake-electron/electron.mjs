// A stand-in for the parts of Electron's main-process API that electron/main.ts and its wrappers
// use. It records what the main process does and lets the parent test (over the fork IPC channel)
// play the renderer, the user and the OS: invoke IPC, navigate, click a notification, quit.
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clearTimeout, setImmediate, setTimeout } from 'node:timers';
import { TextDecoder } from 'node:util';

const state = {
  paths: {},
  sandbox: false,
  windows: [],
  loaded: [],
  handle: new Map(),
  on: new Map(),
  permissionRequest: null,
  permissionCheck: null,
  device: null,
  headers: null,
  opened: [],
  notifications: [],
  sent: [],
  errors: [],
  tray: null,
  badge: 0,
  quitEvents: 0,
  /** The window's cookie store, like Electron's session: origin -> name -> { value, attributes }. */
  cookies: new Map(),
  /** Where the window's page is after redirects. */
  pageUrl: null,
  pageStatus: null,
  dialogs: [],
  dialogResponse: 1,
};

// Electron keeps the default session's cookies in the profile; so does this stand-in, so a relaunch
// on the same user-data folder finds the cookies of the run before.
const jarFile = () => (state.paths.userData ? join(state.paths.userData, 'fake-electron-cookies.json') : null);
let jarLoaded = false;
function loadJar() {
  if (jarLoaded || !jarFile()) return;
  jarLoaded = true;
  if (!existsSync(jarFile())) return;
  for (const [origin, jar] of Object.entries(JSON.parse(readFileSync(jarFile(), 'utf8')))) state.cookies.set(origin, new Map(Object.entries(jar)));
}
function saveJar() {
  if (!jarFile()) return;
  writeFileSync(jarFile(), JSON.stringify(Object.fromEntries([...state.cookies].map(([o, jar]) => [o, Object.fromEntries(jar)]))));
}

function storeCookies(url, headers) {
  loadJar();
  const origin = new URL(url).origin;
  for (const line of headers.getSetCookie?.() ?? []) {
    const [pair, ...attrs] = line.split(';').map((x) => x.trim());
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    const jar = state.cookies.get(origin) ?? new Map();
    state.cookies.set(origin, jar);
    if (attrs.some((a) => /^max-age=0$/i.test(a))) jar.delete(name);
    else jar.set(name, { value, attributes: attrs });
    saveJar();
  }
}

function cookieHeader(url) {
  loadJar();
  const jar = state.cookies.get(new URL(url).origin);
  return jar ? [...jar].map(([n, c]) => `${n}=${c.value}`).join('; ') : '';
}

/** A request the page makes: its origin's cookies go along, as in Chromium. */
async function pageFetch(url, init = {}) {
  const cookie = cookieHeader(url);
  const res = await globalThis.fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers ?? {}), ...(cookie ? { cookie } : {}) } });
  storeCookies(url, res.headers);
  return res;
}
const report = (msg) => process.send?.(msg);

class FakeApp extends EventEmitter {
  isPackaged = false;
  #ready;
  constructor() {
    super();
    this.#ready = new Promise((r) => setImmediate(() => (this.emit('ready'), r())));
  }
  setPath(name, p) {
    state.paths[name] = p;
  }
  getPath(name) {
    if (state.paths[name]) return state.paths[name];
    if (name === 'appData') return process.env.FAKE_APPDATA ?? '/nonexistent-appdata';
    return `/nonexistent-${name}`;
  }
  getAppPath() {
    return process.cwd();
  }
  enableSandbox() {
    state.sandbox = true;
  }
  setAppUserModelId() {}
  requestSingleInstanceLock() {
    return process.env.FAKE_LOCK !== 'taken';
  }
  whenReady() {
    return this.#ready;
  }
  setBadgeCount(n) {
    state.badge = n;
    return true;
  }
  quit() {
    state.quitEvents++;
    let prevented = false;
    this.emit('before-quit', { preventDefault: () => (prevented = true) });
    if (prevented) return;
    for (const w of state.windows) if (!w.destroyed) w.close();
    this.emit('will-quit', { preventDefault() {} });
    report({ type: 'exiting' });
    setTimeout(() => process.exit(0), 20);
  }
  exit(code) {
    report({ type: 'exiting', code });
    setTimeout(() => process.exit(code), 20);
  }
}
export const app = new FakeApp();

class WebContents extends EventEmitter {
  openHandler = null;
  setWindowOpenHandler(fn) {
    this.openHandler = fn;
  }
  send(channel, payload) {
    state.sent.push({ channel, payload });
  }
}

export class BrowserWindow extends EventEmitter {
  destroyed = false;
  visible = false;
  maximized = false;
  constructor(options) {
    super();
    this.options = options;
    this.bounds = { x: options.x ?? 0, y: options.y ?? 0, width: options.width, height: options.height };
    this.webContents = new WebContents();
    state.windows.push(this);
    app.emit('web-contents-created', {}, this.webContents);
  }
  static getAllWindows() {
    return state.windows.filter((w) => !w.destroyed);
  }
  async loadURL(url) {
    state.loaded.push(url);
    let at = url;
    for (let hops = 0; ; hops++) {
      const res = await pageFetch(at);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location && hops < 5) {
        const next = new URL(location, at).href;
        let prevented = false;
        this.webContents.emit('will-redirect', { preventDefault: () => (prevented = true) }, next);
        if (prevented) throw new Error(`redirect to ${next} was blocked`);
        at = next;
        continue;
      }
      // As in Electron: an HTTP error page still loads (the promise resolves); 'did-navigate' says its status.
      state.pageUrl = at;
      state.pageStatus = res.status;
      this.webContents.emit('did-navigate', {}, at, res.status, res.statusText);
      break;
    }
    setImmediate(() => this.emit('ready-to-show'));
  }
  show() {
    this.visible = true;
    this.emit('show');
  }
  hide() {
    this.visible = false;
    this.emit('hide');
  }
  focus() {}
  restore() {}
  maximize() {
    this.maximized = true;
  }
  isMinimized() {
    return false;
  }
  isMaximized() {
    return this.maximized;
  }
  isFullScreen() {
    return false;
  }
  isDestroyed() {
    return this.destroyed;
  }
  getBounds() {
    return { ...this.bounds };
  }
  getNormalBounds() {
    return { ...this.bounds };
  }
  setBounds(b) {
    this.bounds = { ...this.bounds, ...b };
    this.emit('move');
  }
  close() {
    let prevented = false;
    this.emit('close', { preventDefault: () => (prevented = true) });
    if (prevented) return;
    this.destroyed = true;
    this.emit('closed');
  }
}

const display = { id: 1, workArea: { x: 0, y: 0, width: 1920, height: 1040 }, bounds: { x: 0, y: 0, width: 1920, height: 1080 } };
export const screen = { getPrimaryDisplay: () => display, getAllDisplays: () => [display] };

export const dialog = {
  async showMessageBox(options) {
    state.dialogs.push({ title: options.title, message: options.message });
    return { response: state.dialogResponse };
  },
  showErrorBox(title, content) {
    state.errors.push({ title, content });
    report({ type: 'error-box', title, content });
  },
};

export const ipcMain = {
  handle(channel, fn) {
    state.handle.set(channel, fn);
  },
  on(channel, fn) {
    state.on.set(channel, fn);
  },
};

export const session = {
  defaultSession: {
    setPermissionRequestHandler: (fn) => (state.permissionRequest = fn),
    setPermissionCheckHandler: (fn) => (state.permissionCheck = fn),
    setDevicePermissionHandler: (fn) => (state.device = fn),
    webRequest: { onHeadersReceived: (fn) => (state.headers = fn) },
  },
};

export const shell = {
  async openExternal(url) {
    state.opened.push(url);
  },
};

export const nativeImage = { createFromPath: (p) => ({ path: p }) };

export const Menu = { buildFromTemplate: (items) => ({ items }) };

export class Tray extends EventEmitter {
  constructor(image) {
    super();
    this.image = image;
    state.tray = this;
  }
  setImage(i) {
    this.image = i;
  }
  setToolTip(t) {
    this.tooltip = t;
  }
  setTitle(t) {
    this.title = t;
  }
  setContextMenu(m) {
    this.menu = m;
  }
  destroy() {
    this.destroyed = true;
  }
}

export class Notification extends EventEmitter {
  static isSupported() {
    return true;
  }
  constructor(opts) {
    super();
    this.opts = opts;
  }
  show() {
    state.notifications.push(this);
  }
  close() {}
}

function summary() {
  const w = state.windows[0];
  return {
    paths: state.paths,
    sandbox: state.sandbox,
    loaded: state.loaded,
    windowOptions: w?.options,
    windowVisible: w?.visible ?? false,
    handle: [...state.handle.keys()],
    on: [...state.on.keys()],
    hasPermissionHandlers: !!(state.permissionRequest && state.permissionCheck && state.device && state.headers),
    opened: state.opened,
    notifications: state.notifications.map((n) => n.opts),
    sent: state.sent,
    errors: state.errors,
    tray: state.tray && { image: state.tray.image, tooltip: state.tray.tooltip, labels: state.tray.menu?.items.map((i) => i.label), checked: state.tray.menu?.items.map((i) => i.checked ?? null) },
    badge: state.badge,
    pageUrl: state.pageUrl,
    pageStatus: state.pageStatus,
    cookies: Object.fromEntries([...state.cookies].map(([o, jar]) => [o, Object.fromEntries([...jar].map(([n, c]) => [n, c]))])),
    dialogs: state.dialogs,
  };
}

const frame = (url, sub) => ({ senderFrame: { url, parent: sub ? {} : null } });

async function run(m) {
  const w = state.windows[0];
  switch (m.cmd) {
    case 'state':
      return summary();
    case 'invoke': {
      const fn = state.handle.get(m.channel);
      if (!fn) throw new Error(`no handler for ${m.channel}`);
      return await fn(frame(m.senderUrl, m.sub), m.payload);
    }
    case 'send': {
      state.on.get(m.channel)?.(frame(m.senderUrl, m.sub), m.payload);
      return null;
    }
    case 'navigate': {
      let prevented = false;
      w.webContents.emit('will-navigate', { preventDefault: () => (prevented = true) }, m.url);
      return { prevented };
    }
    case 'window-open':
      return w.webContents.openHandler({ url: m.url });
    case 'webview': {
      let prevented = false;
      w.webContents.emit('will-attach-webview', { preventDefault: () => (prevented = true) }, {}, {});
      return { prevented };
    }
    case 'permission':
      return await new Promise((res) => state.permissionRequest(w.webContents, m.permission, res, { requestingUrl: m.url }));
    case 'permission-check':
      return state.permissionCheck(w.webContents, m.permission, new URL(m.url).origin, { requestingUrl: m.url });
    case 'device':
      return state.device({});
    case 'headers':
      return await new Promise((res) => state.headers({ url: m.url, responseHeaders: m.headers }, (r) => res(r.responseHeaders)));
    case 'click-notification': {
      const n = state.notifications.find((x) => x.opts.title === m.title);
      n.emit('click');
      return null;
    }
    case 'tray':
      state.tray.menu.items.find((i) => i.label === m.label).click();
      return null;
    case 'hide':
      w.hide();
      return null;
    case 'second-instance':
      app.emit('second-instance', {}, [], process.cwd());
      return null;
    case 'move':
      w.setBounds(m.bounds);
      return null;
    case 'page-fetch': {
      // The page's own request (fetch with credentials: 'same-origin', or EventSource) to its origin.
      const res = await pageFetch(new URL(m.path, state.pageUrl).href, { method: m.method ?? 'GET' });
      const text = res.headers.get('content-type')?.includes('text/event-stream') ? (await res.body?.cancel(), '') : await res.text();
      return { status: res.status, body: text, contentType: res.headers.get('content-type') };
    }
    case 'page-stream': {
      // The page's EventSource: read what arrives for a while, then close it.
      const ctl = new globalThis.AbortController();
      const res = await pageFetch(new URL(m.path, state.pageUrl).href, { signal: ctl.signal });
      let text = '';
      const reader = res.body.getReader();
      const stop = setTimeout(() => ctl.abort(), m.ms ?? 500);
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
      } catch {
        /* aborted: the time is up */
      }
      clearTimeout(stop);
      return { status: res.status, body: text };
    }
    case 'dialog-answer':
      state.dialogResponse = m.response;
      return null;
    case 'crash':
      w.webContents.emit('render-process-gone', {}, { reason: 'crashed' });
      return null;
    case 'quit':
      app.quit();
      return null;
    default:
      throw new Error(`unknown command ${m.cmd}`);
  }
}

process.on('message', (m) => {
  run(m).then(
    (result) => report({ id: m.id, result }),
    (err) => report({ id: m.id, error: String(err?.message ?? err) }),
  );
});
