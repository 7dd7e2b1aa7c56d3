import {
  IPC,
  externalUrlSchema,
  notifyRequestSchema,
  settingsSchema,
  unreadCountSchema,
  type ConnectionInfo,
  type NotifyRequest,
} from '../../shared/desktop-bridge.ts';
import type { Settings } from '../../shared/settings.ts';
import { guarded, type IpcEventLike } from './ipc-guard.ts';
import { isAllowedExternal, type ExternalLinkPolicy } from './navigation.ts';

/** What the main process does for each message; main.ts wires these to Electron. */
export interface ShellActions {
  connection(): ConnectionInfo;
  notify(n: NotifyRequest): void | Promise<void>;
  setUnreadUrgent(count: number): void;
  getSettings(): Settings | Promise<Settings>;
  setSettings(s: Settings): Settings | Promise<Settings>;
  openExternal(url: string): void | Promise<void>;
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
 * must be the console's main frame, the payload must match the shared schema.
 */
export function createIpcTable(appOrigin: () => string, actions: ShellActions, external: ExternalLinkPolicy): IpcTable {
  return {
    handle: {
      [IPC.getConnection]: guarded(IPC.getConnection, appOrigin, null, () => actions.connection()),
      [IPC.notify]: guarded(IPC.notify, appOrigin, notifyRequestSchema, async (n) => {
        await actions.notify(n);
      }),
      [IPC.getSettings]: guarded(IPC.getSettings, appOrigin, null, async () => settingsSchema.parse(await actions.getSettings())),
      [IPC.setSettings]: guarded(IPC.setSettings, appOrigin, settingsSchema, async (s) => settingsSchema.parse(await actions.setSettings(s))),
      [IPC.openExternal]: guarded(IPC.openExternal, appOrigin, externalUrlSchema, async (url) => {
        if (!isAllowedExternal(url, external)) throw new Error(`${IPC.openExternal}: ${new URL(url).hostname} is not on the external link allow-list`);
        await actions.openExternal(url);
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

/** Channels the main process sends to the renderer (not handled here). */
export const MAIN_TO_RENDERER: readonly string[] = [IPC.focusEvent];

