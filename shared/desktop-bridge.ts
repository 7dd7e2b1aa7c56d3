import { z } from 'zod';
import { priority } from './events.ts';
import { MAX_EVENT_ACTIONS, actionNameSchema } from './domains/action.ts';

/**
 * The contract between the Electron preload (electron/preload.ts) and the renderer. One method per
 * IPC message; every payload crossing the bridge is checked with these schemas on both sides.
 *
 * It carries no credential in either direction: the window signs in to its hub like a browser (a
 * one-time login link answered with an HttpOnly session cookie), so the page's JavaScript never holds
 * a token. Only what the console calls is here; in browser mode `window.relaydesk` is undefined.
 */
export const IPC = {
  notify: 'relaydesk:notify',
  setUnreadUrgent: 'relaydesk:set-unread-urgent',
  /** A pasted `relaydesk login-url` link: the window moves to that hub and signs in there. */
  signIn: 'relaydesk:sign-in',
  /** main -> renderer: a native notification was clicked; focus that event. */
  focusEvent: 'relaydesk:focus-event',
} as const;

export const notifyRequestSchema = z.object({
  title: z.string().min(1).max(200),
  body: z.string().max(1000),
  seq: z.number().int().positive(),
  priority,
  /** The event's attached actions, as buttons where the platform's notifications have them (macOS). */
  actions: z
    .array(z.object({ id: actionNameSchema, label: z.string().min(1).max(40) }).strict())
    .max(MAX_EVENT_ACTIONS)
    .optional(),
});
export type NotifyRequest = z.infer<typeof notifyRequestSchema>;

export const unreadCountSchema = z.number().int().nonnegative().max(1_000_000);
/** `action`: one of the event's attached actions was pressed on the notification (macOS). */
export const focusEventSchema = z.object({ seq: z.number().int().positive(), action: actionNameSchema.optional() });

export interface DesktopBridge {
  notify(n: NotifyRequest): Promise<void>;
  setUnreadUrgent(count: number): void;
  /** Resolves once the main process accepted the link (the window then navigates away). */
  signIn(loginLink: string): Promise<void>;
  /** Returns an unsubscribe function. `action` is set when a notification's action button was pressed. */
  onFocusEvent(cb: (seq: number, action?: string) => void): () => void;
}

declare global {
  interface Window {
    relaydesk?: DesktopBridge;
  }
}
