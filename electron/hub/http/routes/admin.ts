import type { FastifyInstance } from 'fastify';
import { scopeExcess, scopeWithin, isUnscoped, describeScope, type TokenScope } from '../../../../shared/scope.ts';
import type { ConnectionInfo } from '../../../../shared/api/admin.ts';
import { HubError, badRequest, forbidden } from '../../errors.ts';
import { principalOf, type RouteAuth } from '../auth.ts';
import { route } from '../contract.ts';
import type { Principal } from '../../tokens.ts';
import type { RouteContext } from '../app.ts';
import type { Subscriber } from '../../subscriber.ts';

function describe(s: Subscriber): ConnectionInfo {
  return {
    connection_id: s.id,
    token_id: s.spec.tokenId,
    scope: s.scopeLabel,
    types: s.spec.types ?? null,
    live: s.live,
    last_seq: s.lastSeq,
    delivered: s.delivered,
    queue_events: s.backlog,
    queue_bytes: s.sink.writableLength,
    connected_at: new Date(s.connectedAt).toISOString(),
  };
}

/**
 * A token outside the caller's scope is answered as if it did not exist: a scoped admin must not
 * learn which tokens other scopes have.
 */
function noToken(id: string, what = 'token'): HubError {
  return new HubError(404, 'not_found', `no ${what} ${id}`, [{ path: 'id', reason: `unknown ${what}` }]);
}

/**
 * Tokens, strategies, connections and settings: admin only. A scoped admin is an admin of its scope:
 * every token it creates, lists, revokes or logs in as, every strategy it switches and every
 * connection it sees or closes lies within its own scope; hub-wide settings need an unscoped admin.
 */
export function adminRoutes(app: FastifyInstance, { hub }: RouteContext): void {
  const admin: { auth: RouteAuth } = { auth: { roles: ['admin'], action: 'use the admin API' } };

  const managed = (p: Principal, scope: TokenScope) => scopeWithin(scope, p.scope);

  route(app, 'createToken', admin, async (req, reply) => {
    const p = principalOf(req);
    const body = req.body;
    const excess = scopeExcess(body.scope, p.scope);
    if (excess.length)
      throw forbidden(
        `a token created by this admin must stay within its scope (${describeScope(p.scope)}); ${excess.map((k) => `scope.${k}`).join(', ')} would widen it`,
        excess.map((k) => ({ path: `scope.${k}`, reason: `wider than the creating token's scope (${describeScope(p.scope)})` })),
      );
    const created = await hub.control.createToken(body.role, body.scope, body.label, body.rate_limit);
    req.log.info({ token_id: created.id, role: created.role }, 'token created');
    return reply.code(201).send(created);
  });

  route(app, 'listTokens', admin, async (req) => {
    const p = principalOf(req);
    return { tokens: hub.tokens.list().filter((t) => managed(p, t.scope)) };
  });

  route(app, 'revokeToken', admin, async (req) => {
    const p = principalOf(req);
    if (req.params.id === p.tokenId) throw new HubError(409, 'conflict', 'a token cannot revoke itself', [{ path: 'id', reason: 'is the calling token' }]);
    const t = hub.tokens.get(req.params.id);
    if (!t || !managed(p, t.scope)) throw noToken(req.params.id);
    const { revoked, disconnected } = await hub.control.revokeToken(req.params.id);
    req.log.info({ token_id: req.params.id, disconnected }, 'token revoked');
    return { revoked, disconnected };
  });

  // Unscoped: a token's label says nothing of its scope, and a record of another scope's revoked
  // tokens is not a scoped admin's to delete.
  route(app, 'pruneTokens', { auth: { roles: ['admin'], action: 'prune revoked tokens', unscoped: true } }, async (req) => {
    const { label, keep } = req.body;
    const { deleted } = await hub.control.pruneTokens(label, keep);
    req.log.info({ label, keep, deleted }, 'revoked tokens pruned');
    return { deleted };
  });

  route(app, 'createLoginUrl', admin, async (req, reply) => {
    const p = principalOf(req);
    const t = hub.tokens.get(req.params.id);
    if (!t || t.revoked_at || !managed(p, t.scope)) throw noToken(req.params.id, 'active token');
    return reply.code(201).send({ url: hub.loginUrl(t.id), expires_in_s: 24 * 3600 });
  });

  route(app, 'listStrategies', admin, async (req) => {
    const p = principalOf(req);
    // A scope that names its strategies sees only those; strategies are not tied to users or stores.
    const mine = p.scope.strategy_ids;
    return { strategies: hub.strategies.list().filter((s) => !mine || mine.includes(s.strategy_id)) };
  });

  for (const action of ['deactivate', 'activate'] as const) {
    route(app, `${action}Strategy`, admin, async (req) => {
      const p = principalOf(req);
      const id = req.params.id;
      // A strategy runs for every user and store: only an admin whose scope names it may switch it.
      if (!isUnscoped(p.scope) && !p.scope.strategy_ids?.includes(id))
        throw forbidden(`strategy ${id} is outside this token's scope (${describeScope(p.scope)}); a scoped admin may ${action} only the strategies its scope names`, [
          { path: 'id', reason: `strategy not in scope.strategy_ids` },
        ]);
      const reason = req.body?.reason;
      const state = await hub.control.setStrategy(id, action === 'activate', reason ?? null);
      req.log.info({ strategy_id: id, action, disconnected: state.disconnected }, `strategy ${action}d`);
      return state;
    });
  }

  route(app, 'listConnections', admin, async (req) => {
    const p = principalOf(req);
    return { connections: [...hub.broker.subscribers()].filter((s) => managed(p, s.spec.scope)).map(describe) };
  });

  route(app, 'closeConnections', admin, async (req) => {
    const p = principalOf(req);
    const q = req.query;
    const { all, ...by } = q;
    if (!all && !Object.values(by).some((v) => v !== undefined))
      throw badRequest('say which connections to close (strategy_id, user_id, store_id, token_id, connection_id) or all=1', [
        { path: 'query', reason: 'no selector given' },
      ]);
    const disconnected = hub.broker.disconnectWhere(
      (s) =>
        managed(p, s.spec.scope) &&
        (by.strategy_id === undefined || (s.strategies?.includes(by.strategy_id) ?? false)) &&
        (by.user_id === undefined || (s.users?.includes(by.user_id) ?? false)) &&
        (by.store_id === undefined || (s.stores?.includes(by.store_id) ?? false)) &&
        (by.token_id === undefined || s.spec.tokenId === by.token_id) &&
        (by.connection_id === undefined || s.id === by.connection_id),
      { reason: 'admin', message: 'disconnected by an administrator', retry_ms: null },
    );
    req.log.info({ selector: q, disconnected }, 'connections closed by admin');
    return { disconnected };
  });

  route(app, 'getSettings', { auth: {}, rateLimit: false }, async () => {
    return hub.settings.get();
  });

  route(app, 'putSettings', { auth: { roles: ['admin'], action: 'change hub settings', unscoped: true } }, async (req) => {
    const next = req.body;
    hub.settings.put(next);
    hub.opts.retention.maxAgeMs = next.retention_days * 24 * 3600_000;
    hub.opts.retention.maxEvents = next.retention_max_events;
    return next;
  });
}
