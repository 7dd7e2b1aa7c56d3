import { IPC, focusEventSchema, notifyRequestSchema, unreadCountSchema, type DesktopBridge } from '../../shared/desktop-bridge.ts';
import { loginLinkSchema } from '../../shared/login-link.ts';

/**
 * The preload's whole API, built on the smallest slice of Electron's ipcRenderer it needs. Kept
 * free of an `electron` import so tests can build it with a fake ipcRenderer; electron/preload.ts
 * passes the real one. Outgoing payloads are validated before they are sent, and the page never
 * sees the IPC event object or ipcRenderer itself. Nothing here returns a credential: the window is
 * signed in by its session cookie, which the page cannot read.
 */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  send(channel: string, ...args: unknown[]): void;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

export interface ContextBridgeLike {
  exposeInMainWorld(apiKey: string, api: unknown): void;
}

/** The global the renderer reads: `window.relaydesk`. */
export const BRIDGE_KEY = 'relaydesk';

export function createDesktopBridge(ipc: IpcRendererLike): DesktopBridge {
  const bridge: DesktopBridge = {
    async notify(n) {
      await ipc.invoke(IPC.notify, notifyRequestSchema.parse(n));
    },
    setUnreadUrgent(count) {
      ipc.send(IPC.setUnreadUrgent, unreadCountSchema.parse(count));
    },
    async signIn(loginLink) {
      // Checked here too, so a mistyped link is answered in the page without a round trip.
      loginLinkSchema.parse(loginLink);
      await ipc.invoke(IPC.signIn, loginLink);
    },
    onFocusEvent(cb) {
      if (typeof cb !== 'function') throw new TypeError('onFocusEvent needs a callback');
      const listener = (_event: unknown, payload: unknown) => {
        const parsed = focusEventSchema.safeParse(payload);
        if (!parsed.success) return;
        if (parsed.data.action !== undefined) cb(parsed.data.seq, parsed.data.action);
        else cb(parsed.data.seq);
      };
      ipc.on(IPC.focusEvent, listener);
      return () => {
        ipc.removeListener(IPC.focusEvent, listener);
      };
    },
  };
  return Object.freeze(bridge);
}

export function exposeDesktopBridge(contextBridge: ContextBridgeLike, ipc: IpcRendererLike): void {
  contextBridge.exposeInMainWorld(BRIDGE_KEY, createDesktopBridge(ipc));
}
