/**
 * Where the console window may go. The window only ever shows the hub's own pages; links to
 * anything else are either opened in the user's browser (http/https, allow-listed) or dropped.
 * New windows are never created inside the app.
 */

export interface ExternalLinkPolicy {
  /** Protocols that may be handed to the system browser. */
  protocols: readonly string[];
  /**
   * Host names allowed to open externally; a suffix match on a dot boundary (`example.com` admits
   * `shop.example.com`). Empty means any host (the protocol and credential rules still apply).
   */
  hosts: readonly string[];
}

export const DEFAULT_EXTERNAL_POLICY: ExternalLinkPolicy = { protocols: ['https:', 'http:'], hosts: [] };

/** RELAYDESK_EXTERNAL_HOSTS="example.com,status.example.org" narrows the allow-list. */
export function externalPolicyFromEnv(env: Record<string, string | undefined>): ExternalLinkPolicy {
  const hosts = (env.RELAYDESK_EXTERNAL_HOSTS ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  return { ...DEFAULT_EXTERNAL_POLICY, hosts };
}

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

export function sameOrigin(url: string, appOrigin: string): boolean {
  const u = parse(url);
  return u !== null && u.origin !== 'null' && u.origin === appOrigin;
}

/** May this URL be handed to the operating system's browser? */
export function isAllowedExternal(url: string, policy: ExternalLinkPolicy = DEFAULT_EXTERNAL_POLICY): boolean {
  if (url.length > 2048) return false;
  const u = parse(url);
  if (!u) return false;
  if (!policy.protocols.includes(u.protocol)) return false;
  // user:pass@host links are a classic phishing disguise.
  if (u.username || u.password) return false;
  if (!u.hostname) return false;
  if (policy.hosts.length === 0) return true;
  const host = u.hostname.toLowerCase();
  return policy.hosts.some((h) => host === h || host.endsWith(`.${h}`));
}

export type NavigationDecision = { action: 'allow' } | { action: 'deny' } | { action: 'open-external'; url: string };

/** `will-navigate` / `will-redirect` / `will-frame-navigate`: stay on the hub's origin. */
export function decideNavigation(url: string, appOrigin: string, policy: ExternalLinkPolicy = DEFAULT_EXTERNAL_POLICY): NavigationDecision {
  if (sameOrigin(url, appOrigin)) return { action: 'allow' };
  if (isAllowedExternal(url, policy)) return { action: 'open-external', url };
  return { action: 'deny' };
}

/** `setWindowOpenHandler`: never a new Electron window; allow-listed links go to the browser. */
export function decideWindowOpen(url: string, policy: ExternalLinkPolicy = DEFAULT_EXTERNAL_POLICY): { action: 'deny'; openExternal?: string } {
  return isAllowedExternal(url, policy) ? { action: 'deny', openExternal: url } : { action: 'deny' };
}
