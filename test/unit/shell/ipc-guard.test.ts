import { describe, expect, it, vi } from 'vitest';
import { IPC } from '../../../shared/desktop-bridge.ts';
import { isTrustedSender, IpcRejected } from '../../../electron/shell/ipc-guard.ts';
import { createIpcTable, type ShellActions } from '../../../electron/shell/ipc-handlers.ts';
import { DEFAULT_EXTERNAL_POLICY, externalPolicyFromEnv } from '../../../electron/shell/navigation.ts';
import { settingsSchema } from '../../../shared/settings.ts';

const APP = 'http://127.0.0.1:7700';
const top = (url: string) => ({ senderFrame: { url, parent: null } });

function actions(): ShellActions & { calls: string[] } {
  const calls: string[] = [];
  let settings = settingsSchema.parse({});
  return {
    calls,
    connection: () => (calls.push('connection'), { hubUrl: APP, token: 'rdk_x' }),
    notify: (n) => void calls.push(`notify ${n.seq}`),
    setUnreadUrgent: (c) => void calls.push(`unread ${c}`),
    getSettings: () => settings,
    setSettings: (s) => (settings = s),
    openExternal: (u) => void calls.push(`open ${u}`),
  };
}

describe('IPC sender validation', () => {
  it('trusts only the main frame of a page on the hub origin', () => {
    expect(isTrustedSender({ url: `${APP}/#/orders`, parent: null }, APP)).toBe(true);
    expect(isTrustedSender({ url: `${APP}/`, parent: {} }, APP)).toBe(false); // sub-frame
    expect(isTrustedSender({ url: 'https://evil.example/', parent: null }, APP)).toBe(false);
    expect(isTrustedSender({ url: 'http://127.0.0.1:7701/', parent: null }, APP)).toBe(false);
    expect(isTrustedSender({ url: 'devtools://devtools/bundled/x.html', parent: null }, APP)).toBe(false);
    expect(isTrustedSender({ url: 'file:///index.html', parent: null }, 'null')).toBe(false);
    expect(isTrustedSender({ url: '', parent: null }, APP)).toBe(false);
    expect(isTrustedSender(null, APP)).toBe(false);
    expect(isTrustedSender(undefined, APP)).toBe(false);
    expect(isTrustedSender({ url: `${APP}/`, parent: null }, '')).toBe(false);
  });

  it('handles exactly the renderer-to-main channels of the shared contract', () => {
    const t = createIpcTable(() => APP, actions(), DEFAULT_EXTERNAL_POLICY);
    const renderToMain = Object.values(IPC).filter((c) => c !== IPC.focusEvent);
    expect([...Object.keys(t.handle), ...Object.keys(t.on)].sort()).toEqual(renderToMain.sort());
    expect(Object.keys(t.on)).toEqual([IPC.setUnreadUrgent]);
  });

  it('refuses untrusted senders before any action runs', async () => {
    const a = actions();
    const t = createIpcTable(() => APP, a, DEFAULT_EXTERNAL_POLICY);
    for (const [channel, fn] of Object.entries(t.handle)) {
      expect(() => fn(top('https://evil.example/'), undefined), channel).toThrow(IpcRejected);
    }
    t.on[IPC.setUnreadUrgent]!(top('https://evil.example/'), 3);
    expect(a.calls).toEqual([]);
  });

  it('validates payloads with the shared schemas', async () => {
    const a = actions();
    const t = createIpcTable(() => APP, a, DEFAULT_EXTERNAL_POLICY);
    const ok = top(`${APP}/`);
    expect(() => t.handle[IPC.notify]!(ok, { title: '', body: 'x', seq: 1, priority: 'urgent' })).toThrow(/invalid payload: title/);
    expect(() => t.handle[IPC.notify]!(ok, { title: 't', body: 'x', seq: -1, priority: 'urgent' })).toThrow(/seq/);
    expect(() => t.handle[IPC.openExternal]!(ok, 'file:///etc/passwd')).toThrow(IpcRejected);
    expect(() => t.handle[IPC.setSettings]!(ok, { port: 'x' })).toThrow(/port/);
    t.on[IPC.setUnreadUrgent]!(ok, -1);
    t.on[IPC.setUnreadUrgent]!(ok, 'lots');
    expect(a.calls).toEqual([]);

    expect(await t.handle[IPC.getConnection]!(ok)).toEqual({ hubUrl: APP, token: 'rdk_x' });
    await t.handle[IPC.notify]!(ok, { title: 'Urgent', body: 'x', seq: 5, priority: 'urgent' });
    t.on[IPC.setUnreadUrgent]!(ok, 4);
    await t.handle[IPC.openExternal]!(ok, 'https://example.com/');
    expect(a.calls).toEqual(['connection', 'notify 5', 'unread 4', 'open https://example.com/']);
    const saved = await t.handle[IPC.setSettings]!(ok, { ...settingsSchema.parse({}), port: 0 });
    expect(saved).toMatchObject({ port: 0 });
    expect(await t.handle[IPC.getSettings]!(ok)).toMatchObject({ port: 0 });
  });

  it('applies the external link allow-list to openExternal too', async () => {
    const a = actions();
    const t = createIpcTable(() => APP, a, externalPolicyFromEnv({ RELAYDESK_EXTERNAL_HOSTS: 'example.com' }));
    await expect(t.handle[IPC.openExternal]!(top(`${APP}/`), 'https://evil.example/')).rejects.toThrow(/allow-list/);
    expect(a.calls).toEqual([]);
  });

  it('re-reads the trusted origin on each message (hub URL known only after start)', () => {
    let origin = '';
    const spy = vi.fn(() => ({ hubUrl: APP, token: 't' }));
    const t = createIpcTable(() => origin, { ...actions(), connection: spy }, DEFAULT_EXTERNAL_POLICY);
    expect(() => t.handle[IPC.getConnection]!(top(`${APP}/`))).toThrow(IpcRejected);
    origin = APP;
    expect(t.handle[IPC.getConnection]!(top(`${APP}/`))).toEqual({ hubUrl: APP, token: 't' });
  });
});
