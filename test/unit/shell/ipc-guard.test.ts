import { describe, expect, it, vi } from 'vitest';
import { IPC } from '../../../shared/desktop-bridge.ts';
import { isTrustedSender, IpcRejected } from '../../../electron/shell/ipc-guard.ts';
import { createIpcTable, type ShellActions } from '../../../electron/shell/ipc-handlers.ts';

const APP = 'http://127.0.0.1:7700';
const top = (url: string) => ({ senderFrame: { url, parent: null } });

function actions(): ShellActions & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    notify: (n) => void calls.push(`notify ${n.seq}`),
    setUnreadUrgent: (c) => void calls.push(`unread ${c}`),
    signIn: (l) => void calls.push(`sign-in ${l.origin}`),
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
    const t = createIpcTable(() => APP, actions());
    const renderToMain = Object.values(IPC).filter((c) => c !== IPC.focusEvent);
    expect([...Object.keys(t.handle), ...Object.keys(t.on)].sort()).toEqual(renderToMain.sort());
    expect(Object.keys(t.on)).toEqual([IPC.setUnreadUrgent]);
  });

  it('refuses untrusted senders before any action runs', async () => {
    const a = actions();
    const t = createIpcTable(() => APP, a);
    for (const [channel, fn] of Object.entries(t.handle)) {
      expect(() => fn(top('https://evil.example/'), undefined), channel).toThrow(IpcRejected);
    }
    t.on[IPC.setUnreadUrgent]!(top('https://evil.example/'), 3);
    expect(a.calls).toEqual([]);
  });

  it('validates payloads with the shared schemas', async () => {
    const a = actions();
    const t = createIpcTable(() => APP, a);
    const ok = top(`${APP}/`);
    expect(() => t.handle[IPC.notify]!(ok, { title: '', body: 'x', seq: 1, priority: 'urgent' })).toThrow(/invalid payload: title/);
    expect(() => t.handle[IPC.notify]!(ok, { title: 't', body: 'x', seq: -1, priority: 'urgent' })).toThrow(/seq/);
    expect(() => t.handle[IPC.signIn]!(ok, 'file:///etc/passwd')).toThrow(/invalid payload: .*uses file:/);
    expect(() => t.handle[IPC.signIn]!(ok, 'http://hub.example:7700/')).toThrow(/invalid payload: .*path \//);
    expect(() => t.handle[IPC.signIn]!(ok, 'http://hub.example:7700/auth/exchange')).toThrow(/no code parameter/);
    expect(() => t.handle[IPC.signIn]!(ok, 'http://u:p@hub.example:7700/auth/exchange?code=x')).toThrow(/user name or password/);
    expect(() => t.handle[IPC.signIn]!(ok, 42)).toThrow(IpcRejected);
    t.on[IPC.setUnreadUrgent]!(ok, -1);
    t.on[IPC.setUnreadUrgent]!(ok, 'lots');
    expect(a.calls).toEqual([]);

    await t.handle[IPC.notify]!(ok, { title: 'Urgent', body: 'x', seq: 5, priority: 'urgent' });
    t.on[IPC.setUnreadUrgent]!(ok, 4);
    await t.handle[IPC.signIn]!(ok, ' http://hub.example:7700/auth/exchange?code=rdc_1 ');
    expect(a.calls).toEqual(['notify 5', 'unread 4', 'sign-in http://hub.example:7700']);
  });

  it('re-reads the trusted origin on each message (hub URL known only after start)', async () => {
    let origin = '';
    const spy = vi.fn(() => undefined);
    const t = createIpcTable(() => origin, { ...actions(), notify: spy });
    const n = { title: 'Urgent', body: '', seq: 1, priority: 'urgent' };
    expect(() => t.handle[IPC.notify]!(top(`${APP}/`), n)).toThrow(IpcRejected);
    origin = APP;
    await t.handle[IPC.notify]!(top(`${APP}/`), n);
    expect(spy).toHaveBeenCalledTimes(1);
  });
});
