import { IPC, notifyRequestSchema, unreadCountSchema, type NotifyRequest } from '../../shared/desktop-bridge.ts';
import { loginLinkSchema, type LoginLink } from '../../shared/login-link.ts';
import { guarded, type IpcEventLike } from './ipc-guard.ts';

/** What the main process does for each message; main.ts wires these to Electron. */
export interface ShellActions {
  notify(n: NotifyRequest): void | Promise<void>;
  setUnreadUrgent(count: number): void;
  /** Move the window to the link's hub and sign in there. */
  signIn(link: LoginLink): void | Promise<void>;
}

type Invoke = (event: IpcEventLike, payload?: unknown) => unknown;

export interface IpcTable {
  /** ipcMain.handle(channel, fn): request/response messages. */
  handle: Record<string, Invoke>;
  /** ipcMain.on(channel, fn): fire-and-forget messages. */
  on: Record<string, Invoke>;
}

/**
 * One handler per renderer-to-main message of shared/desktop-bridge.ts, each guarded: the sender
 * must be the console's main frame, the payload must match the shared schema. No handler answers
 * with a secret, so a compromised page gains nothing here it could not already do with its cookie.
 */
export function createIpcTable(appOrigin: () => string, actions: ShellActions): IpcTable {
  return {
    handle: {
      [IPC.notify]: guarded(IPC.notify, appOrigin, notifyRequestSchema, async (n) => {
        await actions.notify(n);
      }),
      [IPC.signIn]: guarded(IPC.signIn, appOrigin, loginLinkSchema, async (link) => {
        await actions.signIn(link);
      }),
    },
    on: {
      // A bad fire-and-forget message is dropped, never thrown into the main process's event loop.
      [IPC.setUnreadUrgent]: (event, payload) => {
        try {
          guarded(IPC.setUnreadUrgent, appOrigin, unreadCountSchema, (n) => actions.setUnreadUrgent(n))(event, payload);
        } catch {
          /* rejected: wrong sender or not a count */
        }
      },
    },
  };
}
