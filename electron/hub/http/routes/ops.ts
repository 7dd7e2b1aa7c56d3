import type { FastifyInstance } from 'fastify';
import type { Stats } from '../../../../shared/api.ts';
import { authenticate, requireRole } from '../auth.ts';
import type { RouteContext } from '../app.ts';

/** Health, stats and Prometheus metrics. */
export function opsRoutes(app: FastifyInstance, { hub }: RouteContext): void {
  app.get('/healthz', async (_req, reply) => {
    const ready = !hub.draining;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'draining', hub_id: hub.hubId, head_seq: hub.log.head, engine: hub.engine.status() });
  });

  const collect = (): Stats => {
    const conn = hub.broker.stats();
    const bus = hub.engine.status();
    return {
      hub_id: hub.hubId,
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
      bus: { engine: hub.engine.kind, lag_ms: bus.lag_ms, connected: bus.connected },
    };
  };

  app.get('/v1/stats', async (req) => {
    const p = authenticate(req, hub.tokens, false);
    requireRole(p, ['admin'], 'read hub stats');
    return collect();
  });

  app.get('/metrics', async (req, reply) => {
    const p = authenticate(req, hub.tokens, false);
    requireRole(p, ['admin'], 'read metrics');
    const s = collect();
    hub.metrics.connections.set(s.connections.total);
    hub.metrics.headSeq.set(s.head_seq);
    hub.metrics.oldestSeq.set(s.oldest_seq);
    hub.metrics.logEvents.set(s.log.events);
    hub.metrics.logBytes.set(s.log.bytes);
    return reply.header('content-type', hub.metrics.registry.contentType).send(await hub.metrics.registry.metrics());
  });
}
