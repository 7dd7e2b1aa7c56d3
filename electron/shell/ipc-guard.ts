import type { z } from 'zod';

/**
 * IPC sender validation. Every message must come from the main frame of a page on the hub's
 * origin; a sub-frame, a devtools page or a page that somehow navigated elsewhere is refused.
 * Electron's WebFrameMain is reduced to the two fields checked, so the rule is testable under Node.
 */
export interface SenderFrame {
  url: string;
  /** null for a top-level frame. */
  parent: unknown;
}

export function isTrustedSender(frame: SenderFrame | null | undefined, appOrigin: string): boolean {
  if (!frame || frame.parent !== null) return false;
  try {
    const u = new URL(frame.url);
    return u.origin !== 'null' && u.origin === appOrigin;
  } catch {
    return false;
  }
}

export class IpcRejected extends Error {
  constructor(
    readonly channel: string,
    reason: string,
  ) {
    super(`${channel}: ${reason}`);
    this.name = 'IpcRejected';
  }
}

export interface IpcEventLike {
  senderFrame: SenderFrame | null | undefined;
}

/** Check the sender, then the payload, before the handler sees anything. */
export function guarded<S extends z.ZodType, R>(
  channel: string,
  appOrigin: () => string,
  schema: S | null,
  handler: (payload: z.infer<S>) => R,
): (event: IpcEventLike, payload?: unknown) => R {
  return (event, payload) => {
    if (!isTrustedSender(event.senderFrame, appOrigin())) throw new IpcRejected(channel, 'sender is not the console window');
    if (schema === null) return handler(undefined as z.infer<S>);
    const parsed = schema.safeParse(payload);
    if (!parsed.success) throw new IpcRejected(channel, `invalid payload: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`);
    return handler(parsed.data);
  };
}
