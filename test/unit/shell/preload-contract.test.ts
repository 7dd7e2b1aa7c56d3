import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { IPC, type DesktopBridge } from '../../../shared/desktop-bridge.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Method names of `interface DesktopBridge`, read from the contract's source with the TS compiler. */
function contractMethods(): string[] {
  const file = `${root}shared/desktop-bridge.ts`;
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const names: string[] = [];
  sf.forEachChild((node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === 'DesktopBridge')
      for (const m of node.members) if (m.name && ts.isIdentifier(m.name)) names.push(m.name.text);
  });
  return names.sort();
}

interface Call {
  kind: 'invoke' | 'send' | 'on' | 'removeListener';
  channel: string;
  args: unknown[];
}

/** Electron's contextBridge and ipcRenderer are not ours: fakes are passed into the real bundle. */
function fakeElectron(replies: Record<string, unknown> = {}) {
  const calls: Call[] = [];
  const exposed: Array<{ key: string; api: Record<string, unknown> }> = [];
  const listeners = new Map<string, Set<(e: unknown, ...a: unknown[]) => void>>();
  const ipcRenderer = {
    invoke: async (channel: string, ...args: unknown[]) => {
      calls.push({ kind: 'invoke', channel, args });
      return replies[channel];
    },
    send: (channel: string, ...args: unknown[]) => void calls.push({ kind: 'send', channel, args }),
    on: (channel: string, l: (e: unknown, ...a: unknown[]) => void) => {
      calls.push({ kind: 'on', channel, args: [] });
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel)!.add(l);
      return ipcRenderer;
    },
    removeListener: (channel: string, l: (e: unknown, ...a: unknown[]) => void) => {
      calls.push({ kind: 'removeListener', channel, args: [] });
      listeners.get(channel)?.delete(l);
      return ipcRenderer;
    },
    sendSync: () => {
      throw new Error('sendSync must never be used');
    },
  };
  const contextBridge = { exposeInMainWorld: (key: string, api: Record<string, unknown>) => void exposed.push({ key, api }) };
  const emit = (channel: string, payload: unknown) => listeners.get(channel)?.forEach((l) => l({ sender: ipcRenderer, senderId: 0 }, payload));
  return { calls, exposed, ipcRenderer, contextBridge, emit };
}

let preloadCode = '';
const required: string[] = [];

function loadPreload(fake: ReturnType<typeof fakeElectron>): DesktopBridge {
  const req = (id: string) => {
    required.push(id);
    if (id === 'electron') return { contextBridge: fake.contextBridge, ipcRenderer: fake.ipcRenderer };
    throw new Error(`a sandboxed preload cannot require("${id}")`);
  };
  const module = { exports: {} };
  new Function('require', 'module', 'exports', preloadCode)(req, module, module.exports);
  expect(fake.exposed).toHaveLength(1);
  return fake.exposed[0]!.api as unknown as DesktopBridge;
}

const okReplies = {};
const LINK = 'http://hub.example:7700/auth/exchange?code=rdc_abc';

beforeAll(async () => {
  // Bundle exactly as scripts/build-electron.mjs does: CommonJS, browser platform, electron external.
  const r = await build({ entryPoints: [`${root}electron/preload.ts`], bundle: true, format: 'cjs', platform: 'browser', external: ['electron'], write: false, logLevel: 'silent' });
  preloadCode = r.outputFiles[0]!.text;
});

describe('preload contract', () => {
  it('exposes exactly the DesktopBridge methods as window.relaydesk, and nothing else', () => {
    const fake = fakeElectron();
    const api = loadPreload(fake);
    expect(fake.exposed[0]!.key).toBe('relaydesk');
    expect(Object.keys(api).sort()).toEqual(contractMethods());
    // Only what the console calls (renderer/: notify, setUnreadUrgent, onFocusEvent, and signIn from the
    // sign-in form). Nothing answers with a connection, a token or the hub's settings.
    expect(contractMethods()).toEqual(['notify', 'onFocusEvent', 'setUnreadUrgent', 'signIn']);
    for (const v of Object.values(api)) {
      expect(typeof v).toBe('function');
      expect(v).not.toBe(fake.ipcRenderer);
    }
    expect(Object.isFrozen(api)).toBe(true);
  });

  it('only requires electron (sandboxed preloads cannot load anything else)', () => {
    required.length = 0;
    loadPreload(fakeElectron());
    expect([...new Set(required)]).toEqual(['electron']);
  });

  it('uses one IPC channel per method and covers every channel of the contract', async () => {
    const fake = fakeElectron(okReplies);
    const api = loadPreload(fake);
    const used = new Map<string, string>();
    const track = async (method: string, run: () => unknown) => {
      const before = fake.calls.length;
      await run();
      const mine = fake.calls.slice(before).filter((c) => c.kind !== 'removeListener');
      expect(mine, method).toHaveLength(1);
      used.set(method, mine[0]!.channel);
    };
    await track('notify', () => api.notify({ title: 'Urgent: x', body: 'b', seq: 3, priority: 'urgent' }));
    await track('setUnreadUrgent', () => api.setUnreadUrgent(2));
    await track('signIn', () => api.signIn(LINK));
    await track('onFocusEvent', () => api.onFocusEvent(() => undefined)());
    expect(Object.fromEntries(used)).toEqual({
      notify: IPC.notify,
      setUnreadUrgent: IPC.setUnreadUrgent,
      signIn: IPC.signIn,
      onFocusEvent: IPC.focusEvent,
    });
    expect(new Set(used.values())).toEqual(new Set(Object.values(IPC)));
    expect(fake.calls.find((c) => c.channel === IPC.setUnreadUrgent)!.kind).toBe('send');
  });

  it('validates outgoing payloads before anything is sent', async () => {
    const fake = fakeElectron(okReplies);
    const api = loadPreload(fake);
    await expect(api.notify({ title: '', body: 'b', seq: 1, priority: 'urgent' })).rejects.toThrow();
    await expect(api.notify({ title: 't', body: 'b', seq: 1, priority: 'panic' as 'urgent' })).rejects.toThrow();
    await expect(api.signIn('javascript:alert(1)')).rejects.toThrow(/uses javascript:/);
    await expect(api.signIn('https://hub.example/v1/stream?access_token=x')).rejects.toThrow(/path \/v1\/stream/);
    expect(() => api.setUnreadUrgent(-1)).toThrow();
    expect(() => api.setUnreadUrgent(1.5)).toThrow();
    expect(fake.calls).toEqual([]);
  });

  it('no method hands the page anything back: every reply is dropped', async () => {
    const api = loadPreload(fakeElectron({ [IPC.notify]: { token: 'rdk_leak' }, [IPC.signIn]: { token: 'rdk_leak' } }));
    expect(await api.notify({ title: 'Urgent: x', body: 'b', seq: 3, priority: 'urgent' })).toBeUndefined();
    expect(await api.signIn(LINK)).toBeUndefined();
    expect(api.setUnreadUrgent(1)).toBeUndefined();
  });

  it('focus events pass only a checked sequence number to the page, and unsubscribe works', () => {
    const fake = fakeElectron();
    const api = loadPreload(fake);
    const got: unknown[][] = [];
    const off = api.onFocusEvent((...a: unknown[]) => void got.push(a));
    fake.emit(IPC.focusEvent, { seq: 42 });
    fake.emit(IPC.focusEvent, { seq: 'x' });
    fake.emit(IPC.focusEvent, null);
    // A pressed notification button names one of the event's actions; anything else is dropped.
    fake.emit(IPC.focusEvent, { seq: 44, action: 'deploy.rollback' });
    fake.emit(IPC.focusEvent, { seq: 45, action: '"><script>' });
    expect(got).toEqual([[42], [44, 'deploy.rollback']]);
    off();
    fake.emit(IPC.focusEvent, { seq: 43 });
    expect(got).toEqual([[42], [44, 'deploy.rollback']]);
    expect(() => api.onFocusEvent('nope' as unknown as () => void)).toThrow();
  });

  it('the preload source goes through the bridge module, never exposing ipcRenderer', () => {
    const src = readFileSync(`${root}electron/preload.ts`, 'utf8');
    expect(src).toMatch(/exposeDesktopBridge\(contextBridge, ipcRenderer\)/);
    expect(src).not.toMatch(/exposeInMainWorld/);
    const bridge = readFileSync(`${root}electron/shell/bridge.ts`, 'utf8');
    expect(bridge).not.toMatch(/from 'electron'/);
    expect(bridge).not.toMatch(/sendSync/);
  });
});
