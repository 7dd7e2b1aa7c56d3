import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isIP } from 'node:net';
import { HubError } from '../errors.ts';

export interface SecurityOptions {
  /** Extra Host names allowed besides localhost and IP literals (e.g. a LAN hostname). */
  allowedHosts: string[];
  /** Cross-origin pages allowed to call the API (e.g. a Vite dev server). */
  corsOrigins: string[];
}

const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

/**
 * The name in a Host header, or null when the header is not exactly `name[:port]` or `[v6][:port]`
 * (RFC 9110 host = uri-host [ ":" port ]). Anything else (userinfo as in `localhost:1@evil`, text
 * after the bracket as in `[::1]evil.com`, a port that is not a number) is refused, never trimmed:
 * a proxy or library reading the same header another way must not see a different host than we did.
 */
export function hostnameOf(host: string): string | null {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(host);
  if (!m) return null;
  if (m[3] !== undefined && Number(m[3]) > 65535) return null;
  if (m[1] !== undefined) return isIP(m[1]) === 6 ? m[1].toLowerCase() : null;
  return m[2]!.toLowerCase();
}

/**
 * DNS rebinding: a hostile page can point its own domain at 127.0.0.1, but it cannot make the
 * browser send a Host header other than that domain. IP literals and localhost cannot be rebound.
 */
function hostAllowed(host: string | undefined, allowed: string[]): boolean {
  if (!host) return false;
  const name = hostnameOf(host);
  if (name === null) return false;
  return name === 'localhost' || isIP(name) !== 0 || allowed.includes(name);
}

/**
 * Requests from a foreign origin let in only by `--cors-origin '*'`. Such a page may use the API
 * with a token it holds, but never with the console's session cookie: '*' admits any site, and a
 * cookie would let any site act as the signed-in console.
 */
const wildcardCrossOrigin = new WeakSet<FastifyRequest>();
export function isWildcardCrossOrigin(req: FastifyRequest): boolean {
  return wildcardCrossOrigin.has(req);
}

function sameOrigin(origin: string, req: FastifyRequest): boolean {
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function originAllowed(origin: string, req: FastifyRequest, corsOrigins: string[]): boolean {
  return corsOrigins.includes(origin) || corsOrigins.includes('*') || sameOrigin(origin, req);
}

/**
 * Every request: Host check, Origin check (a browser page on another origin is refused outright,
 * even for "simple" requests the browser would send without a preflight), CORS for allow-listed
 * origins, and hardening headers.
 */
export function registerSecurity(app: FastifyInstance, opts: SecurityOptions): void {
  app.addHook('onRequest', async (req, reply) => {
    if (!hostAllowed(req.headers.host, opts.allowedHosts))
      throw new HubError(403, 'host_not_allowed', `Host "${req.headers.host ?? ''}" is not allowed; add it with --allowed-host`, [
        { path: 'headers.host', reason: 'not an allowed host name' },
      ]);
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null' && !originAllowed(origin, req, opts.corsOrigins))
      throw new HubError(403, 'origin_not_allowed', `Origin "${origin}" is not allowed; add it with --cors-origin`, [
        { path: 'headers.origin', reason: 'not in the CORS allow-list' },
      ]);
    if (origin === 'null') throw new HubError(403, 'origin_not_allowed', 'opaque origins are not allowed', [{ path: 'headers.origin', reason: 'null origin' }]);
    if (origin !== undefined) {
      const wildcard = !opts.corsOrigins.includes(origin) && !sameOrigin(origin, req);
      if (wildcard) wildcardCrossOrigin.add(req);
      // '*' without credentials: browsers then send no cookies and expose no credentialed reply.
      reply.header('access-control-allow-origin', wildcard ? '*' : origin);
      reply.header('vary', 'Origin');
      if (!wildcard) reply.header('access-control-allow-credentials', 'true');
      reply.header('access-control-expose-headers', 'Retry-After, Last-Event-ID');
      if (req.method === 'OPTIONS') {
        reply.header('access-control-allow-methods', 'GET, POST, PUT, DELETE');
        reply.header('access-control-allow-headers', 'Authorization, Content-Type, Last-Event-ID, Cache-Control');
        reply.header('access-control-max-age', '600');
        return reply.code(204).send();
      }
    }
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
  });
}

export { CONSOLE_CSP };
