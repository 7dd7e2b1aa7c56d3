/**
 * The console's Content-Security-Policy. The hub already sends a CSP with every console page
 * (electron/hub/http/security.ts); the desktop shell enforces this one on top for every response
 * from the hub's origin, so the window stays locked down even if a page arrives without a header.
 * Two policies combine by intersection, so adding ours can only make the page stricter.
 */

export const DESKTOP_CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  // React sets inline style attributes; no inline <script> is ever allowed.
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  // The SSE stream and the JSON API are same-origin: the window is served by the hub itself.
  'connect-src': ["'self'"],
  'font-src': ["'self'", 'data:'],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'frame-src': ["'none'"],
  'worker-src': ["'self'"],
  'frame-ancestors': ["'none'"],
  'form-action': ["'self'"],
};

export function buildCsp(directives: Readonly<Record<string, readonly string[]>> = DESKTOP_CSP_DIRECTIVES): string {
  return Object.entries(directives)
    .map(([k, v]) => `${k} ${v.join(' ')}`)
    .join('; ');
}

export const DESKTOP_CSP = buildCsp();

export function parseCsp(csp: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of csp.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) out.set(name.toLowerCase(), values);
  }
  return out;
}

/** What would make a policy unsafe for the console; empty means strict enough. */
export function cspWeaknesses(csp: string): string[] {
  const d = parseCsp(csp);
  const problems: string[] = [];
  const scripts = d.get('script-src') ?? d.get('default-src');
  if (!scripts) problems.push('no script-src or default-src');
  else {
    for (const bad of ["'unsafe-eval'", "'unsafe-inline'", "'wasm-unsafe-eval'", '*', 'http:', 'https:', 'data:', 'blob:'])
      if (scripts.includes(bad)) problems.push(`script-src allows ${bad}`);
  }
  if (d.get('default-src')?.join(' ') !== "'self'") problems.push("default-src is not 'self'");
  const connect = d.get('connect-src') ?? d.get('default-src') ?? [];
  for (const v of connect) if (v === '*' || v === 'http:' || v === 'https:' || v === 'ws:' || v === 'wss:') problems.push(`connect-src allows ${v}`);
  if (d.get('object-src')?.join(' ') !== "'none'") problems.push("object-src is not 'none'");
  if (d.get('base-uri')?.join(' ') !== "'none'") problems.push("base-uri is not 'none'");
  if (d.get('frame-ancestors')?.join(' ') !== "'none'") problems.push("frame-ancestors is not 'none'");
  return problems;
}

export type HeaderMap = Record<string, string | string[]>;

/**
 * Response headers for a request the window made: responses from the hub's origin get the desktop
 * CSP added (kept alongside any policy the hub sent; browsers enforce both). Other origins are left
 * alone: the window never navigates to them (see navigation.ts) and connect-src forbids fetching them.
 */
export function withDesktopCsp(url: string, hubOrigin: string, headers: HeaderMap | undefined): HeaderMap {
  const out: HeaderMap = { ...(headers ?? {}) };
  let origin: string;
  try {
    origin = new URL(url).origin;
  } catch {
    return out;
  }
  if (origin !== hubOrigin) return out;
  const key = Object.keys(out).find((k) => k.toLowerCase() === 'content-security-policy') ?? 'Content-Security-Policy';
  const existing = out[key];
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing];
  out[key] = [...list.filter((v) => v !== DESKTOP_CSP), DESKTOP_CSP];
  return out;
}
