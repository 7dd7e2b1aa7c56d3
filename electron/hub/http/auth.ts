import type { FastifyRequest } from 'fastify';
import type { TokenRole } from '../../../shared/api.ts';
import { isUnscoped, describeScope } from '../../../shared/scope.ts';
import type { Principal, TokenStore } from '../tokens.ts';
import { HubError } from '../errors.ts';
import { isWildcardCrossOrigin } from './security.ts';

export const SESSION_COOKIE = 'rd_session';

export function readCookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/**
 * Who is calling: a bearer token, an `access_token` query parameter (only where a browser's
 * EventSource cannot send headers), or the console's session cookie.
 */
export function authenticate(req: FastifyRequest, tokens: TokenStore, allowQueryToken: boolean): Principal {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw new HubError(401, 'unauthorized', 'Authorization header must be "Bearer <token>"', [{ path: 'headers.authorization', reason: 'malformed' }]);
    const p = tokens.authenticate(m[1]!, 'bearer');
    if (!p) throw new HubError(401, 'unauthorized', 'token is unknown or revoked', [{ path: 'headers.authorization', reason: 'unknown or revoked token' }]);
    return p;
  }
  const q = (req.query as Record<string, unknown> | undefined)?.access_token;
  if (q !== undefined) {
    if (!allowQueryToken)
      throw new HubError(400, 'invalid_request', 'access_token is only accepted on GET /v1/stream; send an Authorization header', [
        { path: 'access_token', reason: 'not accepted on this endpoint' },
      ]);
    const p = typeof q === 'string' ? tokens.authenticate(q, 'query') : null;
    if (!p) throw new HubError(401, 'unauthorized', 'token is unknown or revoked', [{ path: 'access_token', reason: 'unknown or revoked token' }]);
    return p;
  }
  const session = readCookie(req, SESSION_COOKIE);
  if (session && isWildcardCrossOrigin(req))
    throw new HubError(401, 'unauthorized', 'the console session cookie is not accepted from another origin; send "Authorization: Bearer <token>"', [
      { path: 'cookie', reason: 'not accepted cross-origin' },
    ]);
  if (session) {
    const p = tokens.authenticateSession(session);
    if (!p) throw new HubError(401, 'unauthorized', 'console session expired or revoked; open a new login link (relaydesk login-url)', [{ path: 'cookie', reason: 'invalid session' }]);
    return p;
  }
  throw new HubError(401, 'unauthorized', 'missing credentials: send "Authorization: Bearer <token>"', [{ path: 'headers.authorization', reason: 'required' }]);
}

export function requireRole(p: Principal, roles: TokenRole[], action: string): void {
  if (!roles.includes(p.role))
    throw new HubError(403, 'forbidden', `a ${p.role} token cannot ${action} (needs ${roles.join(' or ')})`, [{ path: 'token', reason: `role ${p.role} not allowed` }]);
}

/** What a read costs beyond its request: one unit per 100 rows examined and per 16 KB sent. */
export const ROWS_PER_UNIT = 100;
export const BYTES_PER_UNIT = 16 * 1024;
export function readCost(rows: number, bytes: number): number {
  return rows / ROWS_PER_UNIT + bytes / BYTES_PER_UNIT;
}

/**
 * Hub-wide operations (metrics, settings) reach every scope, so a scoped admin, which is an admin of
 * its scope only, may not use them.
 */
export function requireUnscoped(p: Principal, action: string): void {
  requireRole(p, ['admin'], action);
  if (!isUnscoped(p.scope))
    throw new HubError(403, 'forbidden', `a scoped admin (${describeScope(p.scope)}) cannot ${action}: it affects every scope (needs an unscoped admin token)`, [
      { path: 'token', reason: 'scoped admin' },
    ]);
}

/**
 * Per-token token bucket. Small enough to own: it keys on the authenticated token (not the IP,
 * which is 127.0.0.1 for every local backend) and each token may carry its own rate.
 *
 * A request takes one unit when it arrives; a read is charged its cost (readCost) once it is known,
 * so a client issuing expensive reads runs out of units sooner than one issuing cheap ones, and waits
 * instead of starving the publishers that share the event loop with it.
 */
export class RateLimiter {
  private buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly defaultPerSecond: number) {}

  private bucket(p: Principal, rate: number) {
    const burst = rate * 2;
    const now = Date.now();
    const b = this.buckets.get(p.tokenId) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    this.buckets.set(p.tokenId, b);
    return b;
  }

  take(p: Principal): void {
    const rate = p.rateLimit ?? this.defaultPerSecond;
    if (rate <= 0) return;
    const b = this.bucket(p, rate);
    if (b.tokens < 1) {
      const wait = Math.ceil((1 - b.tokens) / rate);
      throw new HubError(429, 'rate_limited', `token ${p.tokenId} exceeded ${rate} requests/s (a read costs 1 more per ${ROWS_PER_UNIT} rows examined and per ${BYTES_PER_UNIT / 1024} KB sent); retry in ${wait} s`, undefined, {
        'retry-after': String(Math.max(1, wait)),
      });
    }
    b.tokens -= 1;
  }

  /**
   * Charge work already done. The balance may go negative (the work is done, the next requests wait
   * for it), but by no more than one burst, so a single huge read costs at most a few seconds' wait.
   */
  charge(p: Principal, units: number): void {
    const rate = p.rateLimit ?? this.defaultPerSecond;
    if (rate <= 0 || !(units > 0)) return;
    const b = this.bucket(p, rate);
    b.tokens = Math.max(-rate * 2, b.tokens - units);
  }
}
