import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { stateKinds } from '../../../../shared/state.ts';
import { authenticate, requireRole } from '../auth.ts';
import { parseWith, scopeList, typeList, seqParam } from '../query.ts';
import { checkFilters } from './stream.ts';
import type { RouteContext } from '../app.ts';

const isoTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' });

const historyQuery = z
  .object({
    store_id: scopeList.optional(),
    user_id: scopeList.optional(),
    strategy_id: scopeList.optional(),
    type: typeList.optional(),
    since: isoTime.optional(),
    until: isoTime.optional(),
    q: z.string().min(1).max(200).optional(),
    cursor: seqParam.optional(),
    limit: z
      .string()
      .regex(/^\d+$/, 'must be an integer')
      .transform(Number)
      .pipe(z.number().int().min(1).max(1000, 'must be at most 1000'))
      .optional(),
    order: z.enum(['asc', 'desc']).optional(),
  })
  .strict();

/** Same keys as the snapshot carried by the stream's `initial` event. */
const STATE_KEYS = { store_order: 'store_orders', trading_order: 'trading_orders', position: 'positions', mail: 'mail', mail_sync: 'mail_sync' } as const;

const stateQuery = z
  .object({ store_id: scopeList.optional(), user_id: scopeList.optional(), strategy_id: scopeList.optional() })
  .strict();

/** History, current state and identity: read-only, always within the caller's scope. */
export function queryRoutes(app: FastifyInstance, { hub, limiter }: RouteContext): void {
  app.get('/v1/events', async (req) => {
    const p = authenticate(req, hub.tokens, false);
    requireRole(p, ['subscriber', 'admin'], 'read history');
    limiter.take(p);
    const q = parseWith(historyQuery, req.query, 'query');
    checkFilters(p.scope, q);
    const order = q.order ?? 'desc';
    const limit = q.limit ?? 100;
    const events = hub.log.history(p.scope, {
      store_id: q.store_id,
      user_id: q.user_id,
      strategy_id: q.strategy_id,
      types: q.type,
      since: q.since,
      until: q.until,
      text: q.q,
      limit,
      order,
      ...(q.cursor !== undefined ? (order === 'asc' ? { after: q.cursor } : { before: q.cursor }) : {}),
    });
    const last = events[events.length - 1];
    return { events, next_cursor: events.length === limit && last ? String(last.seq) : null };
  });

  const kinds: Record<string, (typeof stateKinds)[number][]> = {
    orders: ['store_order', 'trading_order'],
    positions: ['position'],
    mail: ['mail', 'mail_sync'],
  };
  app.get<{ Params: { view: string } }>('/v1/state/:view', async (req, reply) => {
    const p = authenticate(req, hub.tokens, false);
    requireRole(p, ['subscriber', 'admin'], 'read state');
    limiter.take(p);
    const view = kinds[req.params.view];
    if (!view) return reply.code(404).send({ error: { status: 404, code: 'not_found', message: 'state views: orders, positions, mail' } });
    const q = parseWith(stateQuery, req.query, 'query');
    checkFilters(p.scope, q);
    const seq = hub.log.head;
    const out: Record<string, unknown> = { seq };
    for (const k of view) out[STATE_KEYS[k]] = hub.projections.list(k, p.scope, q);
    return out;
  });

  app.get('/v1/whoami', async (req) => {
    const p = authenticate(req, hub.tokens, false);
    return { token_id: p.tokenId, role: p.role, scope: p.scope, via: p.via, hub_id: hub.hubId, head_seq: hub.log.head };
  });
}
