import type { FastifyInstance, FastifyRequest } from 'fastify';
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

/** "an operator or admin token" */
const tokenOf = (roles: readonly TokenRole[]) => `${/^[aeiou]/.test(roles[0] ?? '') ? 'an' : 'a'} ${roles.join(' or ')} token`;

export function requireRole(p: Principal, roles: TokenRole[], action: string, hint?: string): void {
  if (!roles.includes(p.role))
    throw new HubError(403, 'forbidden', `a ${p.role} token cannot ${action} (needs ${tokenOf(roles)})`, [{ path: 'token', reason: hint ?? `role ${p.role} not allowed` }]);
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

// Kept here too: routes and the stream import the cost rule from the auth module.
export { readCost } from './rate-limit.ts';

/**
 * Who may call a route, declared on the route as `config: { auth: {...} }`; the hook below checks it
 * before anything else runs, so a handler only ever sees an allowed caller (`principalOf(req)`).
 * A route without `auth` is public.
 */
export interface RouteAuth {
  /** Roles allowed; omitted means any valid token. */
  roles?: TokenRole[];
  /** What the caller is trying to do, for the 403 message ("a publisher token cannot <action>"). */
  action?: string;
  /** Hub-wide operations: an unscoped admin only (see requireUnscoped). */
  unscoped?: boolean;
  /** Accept `?access_token=` (GET /v1/stream only: a browser's EventSource cannot send headers). */
  queryToken?: boolean;
  /** What to tell a caller whose role is refused, as the field reason (defaults to "role X not allowed"). */
  hint?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    /** The authenticated caller on a route that declares `auth`; null on a public route. */
    principal: Principal | null;
  }
}

/** The caller of a route that declares `auth` (the hook has already refused everyone else). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new Error(`${req.method} ${req.routeOptions.url} reads the caller but declares no config.auth`);
  return req.principal;
}

/**
 * The authentication hook: an onRequest hook, so it runs before the body is read, before the rate
 * limit (which keys on the token it finds) and before validation, and a refused caller costs
 * nothing else.
 */
export function registerAuth(app: FastifyInstance, tokens: TokenStore): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req) => {
    const auth = req.routeOptions.config.auth;
    if (!auth) return;
    const p = authenticate(req, tokens, auth.queryToken ?? false);
    if (auth.roles) requireRole(p, auth.roles, auth.action ?? `call ${req.method} ${req.routeOptions.url}`, auth.hint);
    if (auth.unscoped) requireUnscoped(p, auth.action ?? 'use a hub-wide operation');
    req.principal = p;
  });
}
