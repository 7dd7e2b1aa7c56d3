import { z } from 'zod';

/**
 * A console login link: `<hub>/auth/exchange?code=<one-time code>`, printed by `relaydesk serve` and
 * `relaydesk login-url`. Opening it trades the code for an HttpOnly session cookie on that hub, so
 * whoever opens it (a browser, the desktop window) never holds a token in JavaScript. The desktop
 * shell and the console's sign-in form both accept one, so they check it with the same rule.
 */
export const LOGIN_PATH = '/auth/exchange';

export interface LoginLink {
  /** The link as given (trimmed): what the window loads. */
  url: string;
  /** The hub it signs in to: the window's origin from then on. */
  origin: string;
}

/** Why a pasted text is not a login link, or the link. Field-level reasons, for the form and the CLI. */
export function parseLoginLink(input: string): LoginLink {
  const text = input.trim();
  if (!text) throw new LoginLinkError('is empty');
  if (text.length > 2048) throw new LoginLinkError('is longer than 2048 characters');
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new LoginLinkError('is not a URL (expected http://host:port/auth/exchange?code=...)');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new LoginLinkError(`uses ${u.protocol} (only http and https hubs)`);
  // user:pass@host would be sent to the hub as Basic credentials and hides the real host from a reader.
  if (u.username || u.password) throw new LoginLinkError('carries a user name or password');
  if (u.pathname !== LOGIN_PATH) throw new LoginLinkError(`has path ${u.pathname} (a login link's path is ${LOGIN_PATH}; run \`relaydesk login-url\` for one)`);
  const code = u.searchParams.get('code');
  if (!code) throw new LoginLinkError('has no code parameter (run `relaydesk login-url` for a new link)');
  return { url: u.href, origin: u.origin };
}

export class LoginLinkError extends Error {
  constructor(readonly reason: string) {
    super(`the login link ${reason}`);
    this.name = 'LoginLinkError';
  }
}

/** The same rule as a zod schema, for IPC payloads: the parsed link or a clear issue. */
export const loginLinkSchema = z.string().transform((s, ctx) => {
  try {
    return parseLoginLink(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
    return z.NEVER;
  }
});
