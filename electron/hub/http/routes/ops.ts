import type { FastifyInstance } from 'fastify';
import type { Stats } from '../../../../shared/api.ts';
import { principalOf } from '../auth.ts';
import { route } from '../contract.ts';
import { isUnscoped, scopeWithin, type TokenScope } from '../../../../shared/scope.ts';
import type { RouteContext } from '../app.ts';

/** Health, stats and Prometheus metrics. */
export function opsRoutes(app: FastifyInstance, { hub }: RouteContext): void {
  // Unauthenticated, so no head: the global head tells anyone how busy every scope is (an admin
  // reads it from /v1/stats, a scoped token its own from /v1/whoami).
  route(app, 'health', { rateLimit: false }, async (_req, reply) => {
    const engine = hub.engine.status();
    // A forked hub must leave the load balancer's rotation: it can serve nothing new. (Unauthenticated:
    // no heads or epochs here; /v1/stats has them for admins.)
    const status = hub.draining ? 'draining' : engine.fork ? 'forked' : 'ok';
    return reply.code(status === 'ok' ? 200 : 503).send({ status, hub_id: hub.hubId, engine: { connected: engine.connected, lag_ms: engine.lag_ms } });
  });

  /**
   * A scoped admin is an admin of its scope: it sees its scope's head and the streams within its
   * scope, and none of the hub-wide figures (log size, rates, bus) that describe other scopes.
   */
  const collectScoped = (scope: TokenScope): Stats => {
    const conn = hub.broker.stats((s) => scopeWithin(s.spec.scope, scope));
    return { hub_id: hub.hubId, scope, head_seq: hub.log.headIn(scope), connections: conn };
  };

  const collect = (): Stats => {
    const conn = hub.broker.stats();
    const bus = hub.engine.status();
    return {
      hub_id: hub.hubId,
      scope: {},
      uptime_s: Math.round((Date.now() - hub.startedAt) / 1000),
      head_seq: hub.log.head,
      oldest_seq: hub.log.prunedThrough + 1,
      log: { events: hub.log.count(), bytes: hub.logBytes(), pruned_through: hub.log.prunedThrough },
      rates: {
        publish_per_s: hub.publishRate.perSecond(),
        delivery_per_s: hub.deliveryRate.perSecond(),
        publish_total: hub.publishRate.total,
        delivery_total: hub.deliveryRate.total,
      },
      connections: { ...conn, slow_consumer_disconnects: hub.broker.counters.slowDisconnects },
      bus: { engine: hub.engine.kind, lag_ms: bus.lag_ms, connected: bus.connected, epoch: hub.log.epochs.current, fork: bus.fork ?? null },
    };
  };

  route(app, 'getStats', { auth: { roles: ['admin'], action: 'read hub stats' }, rateLimit: false }, async (req) => {
    const p = principalOf(req);
    return isUnscoped(p.scope) ? collect() : collectScoped(p.scope);
  });

  route(app, 'getMetrics', { auth: { roles: ['admin'], action: 'read metrics', unscoped: true }, rateLimit: false }, async (_req, reply) => {
    hub.metrics.connections.set(hub.broker.size);
    hub.metrics.headSeq.set(hub.log.head);
    hub.metrics.oldestSeq.set(hub.log.prunedThrough + 1);
    hub.metrics.logEvents.set(hub.log.count());
    hub.metrics.logBytes.set(hub.logBytes());
    return reply.header('content-type', hub.metrics.registry.contentType).send(await hub.metrics.registry.metrics());
  });
}
