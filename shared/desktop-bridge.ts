import { z } from 'zod';
import { priority } from './events.ts';
import { settingsSchema, type Settings } from './settings.ts';

/**
 * The contract between the Electron preload (electron/preload.ts) and the renderer. One method per
 * IPC message; every payload crossing the bridge is checked with these schemas on both sides.
 * In browser mode `window.relaydesk` is undefined and the console uses its session cookie instead.
 */
export const IPC = {
  getConnection: 'relaydesk:get-connection',
  notify: 'relaydesk:notify',
  setUnreadUrgent: 'relaydesk:set-unread-urgent',
  getSettings: 'relaydesk:get-settings',
  setSettings: 'relaydesk:set-settings',
  openExternal: 'relaydesk:open-external',
  /** main -> renderer: a native notification was clicked; focus that event. */
  focusEvent: 'relaydesk:focus-event',
} as const;

export const connectionInfoSchema = z.object({ hubUrl: z.url(), token: z.string().min(1) });
export type ConnectionInfo = z.infer<typeof connectionInfoSchema>;

export const notifyRequestSchema = z.object({
  title: z.string().min(1).max(200),
  body: z.string().max(1000),
  seq: z.number().int().positive(),
  priority,
});
export type NotifyRequest = z.infer<typeof notifyRequestSchema>;

export const unreadCountSchema = z.number().int().nonnegative().max(1_000_000);
export const externalUrlSchema = z.url().refine((u) => /^https?:\/\//.test(u), 'only http(s) links open externally');
export const focusEventSchema = z.object({ seq: z.number().int().positive() });

export interface DesktopBridge {
  getConnection(): Promise<ConnectionInfo>;
  notify(n: NotifyRequest): Promise<void>;
  setUnreadUrgent(count: number): void;
  getSettings(): Promise<Settings>;
  setSettings(s: Settings): Promise<Settings>;
  openExternal(url: string): Promise<void>;
  /** Returns an unsubscribe function. */
  onFocusEvent(cb: (seq: number) => void): () => void;
}

export { settingsSchema };

declare global {
  interface Window {
    relaydesk?: DesktopBridge;
  }
}
