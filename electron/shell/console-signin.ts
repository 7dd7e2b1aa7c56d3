import { createdTokenSchema, tokenInfoSchema, type TokenRole } from '../../shared/api.ts';
import { parseLoginLink } from '../../shared/login-link.ts';
import { routes } from '../../shared/api/routes.ts';
import { z } from 'zod';

/**
 * How the desktop window signs in to the hub it embeds: like a browser, with a one-time login link
 * that the hub answers with an HttpOnly session cookie. The main process holds the bootstrap admin
 * secret (it started the hub); the window never does.
 *
 * The session belongs to a token of its own, not to the bootstrap admin:
 *  - role operator: everything the console does (read state, history and the stream, mark the inbox,
 *    request actions) and nothing it does not (mint or revoke tokens, register webhooks, change hub
 *    settings), so a page that ran hostile script could not leave a lasting credential behind;
 *  - unscoped: the desktop user owns this machine's hub and sees all of it;
 *  - replaced at every start (the previous one is revoked, which ends its sessions), so a cookie
 *    left in the window's profile from an earlier run is worth nothing;
 *  - the revoked ones of earlier runs are deleted but the last DESKTOP_CONSOLE_KEEP_REVOKED, so the
 *    token list keeps a short record of recent starts instead of one row per start, forever.
 * Hub-wide stats and webhook health stay with admin tools (`relaydesk stats`, an admin login link).
 */
export const DESKTOP_CONSOLE_LABEL = 'desktop console';
export const DESKTOP_CONSOLE_ROLE: TokenRole = 'operator';
/** Revoked console tokens kept as a record of the most recent earlier runs. */
export const DESKTOP_CONSOLE_KEEP_REVOKED = 3;

const tokenList = z.object({ tokens: z.array(tokenInfoSchema) });
const loginUrlAnswer = z.object({ url: z.string(), expires_in_s: z.number() });

async function call<T>(hubUrl: string, adminToken: string, method: string, path: string, schema: z.ZodType<T>, body?: unknown): Promise<T> {
  const res = await fetch(hubUrl + path, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  if (!res.ok) {
    const message = (parsed as { error?: { message?: string } } | null)?.error?.message ?? `HTTP ${res.status}`;
    throw new Error(`${method} ${path} failed (${res.status}): ${message}`);
  }
  return schema.parse(parsed);
}

export class EmbeddedConsoleSignIn {
  private tokenId: string | null = null;

  constructor(
    private readonly hubUrl: () => string,
    private readonly adminToken: () => string,
  ) {}

  /** The console's own token, once rotate() ran. */
  get consoleTokenId(): string | null {
    return this.tokenId;
  }

  /**
   * Revoke the console tokens of earlier runs, create this run's, and delete the revoked ones but
   * the last few; returns the new token's id.
   */
  async rotate(): Promise<string> {
    const url = this.hubUrl();
    const admin = this.adminToken();
    const { tokens } = await call(url, admin, 'GET', '/v1/tokens', tokenList);
    for (const t of tokens)
      if (t.label === DESKTOP_CONSOLE_LABEL && t.revoked_at === null) await call(url, admin, 'DELETE', `/v1/tokens/${encodeURIComponent(t.id)}`, z.unknown());
    // The secret in the answer is never used: the window signs in with login codes for this id.
    const created = await call(url, admin, 'POST', '/v1/tokens', createdTokenSchema, { role: DESKTOP_CONSOLE_ROLE, label: DESKTOP_CONSOLE_LABEL });
    this.tokenId = created.id;
    await call(url, admin, 'POST', '/v1/tokens/prune', routes.pruneTokens.response[200], { label: DESKTOP_CONSOLE_LABEL, keep: DESKTOP_CONSOLE_KEEP_REVOKED });
    return created.id;
  }

  /** A fresh one-time login link for the console's token (each window load uses a new one). */
  async loginLink(): Promise<string> {
    const id = this.tokenId ?? (await this.rotate());
    const r = await call(this.hubUrl(), this.adminToken(), 'POST', `/v1/tokens/${encodeURIComponent(id)}/login-url`, loginUrlAnswer);
    return parseLoginLink(r.url).url;
  }
}
