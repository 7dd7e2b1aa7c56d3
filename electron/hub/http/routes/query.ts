import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Principal } from '../../tokens.ts';
import { STATE_PAGE_DEFAULT, STATE_PAGE_MAX_BYTES, type StatePage } from '../../../../shared/state.ts';
import { HISTORY_PAGE_MAX_BYTES, type HistoryPage } from '../../../../shared/api.ts';
import type { Whoami } from '../../../../shared/api/identity.ts';
import { HubError } from '../../errors.ts';
import { principalOf, readCost } from '../auth.ts';
import { seqPage } from '../query.ts';
import { route } from '../contract.ts';
import { checkFilters } from './stream.ts';
import type { RouteContext } from '../app.ts';

/** History, current state and identity: read-only, always within the caller's scope. */
export function queryRoutes(app: FastifyInstance, { hub, limiter }: RouteContext): void {
  /**
   * Replies are serialised here rather than by Fastify so their size is known: a read is charged
   * for the rows it examined and the bytes it sent (RateCharger.charge). The body is typed as the
   * route's contract says; the text goes out as it is.
   */
  const sendCharged = <B>(reply: object, p: Principal, scanned: number, body: B): void => {
    const json = JSON.stringify(body);
    limiter.charge(p, readCost(scanned, Buffer.byteLength(json)));
    void (reply as FastifyReply).header('content-type', 'application/json; charset=utf-8').send(json);
  };

  const reader = (action: string) => ({ auth: { roles: ['subscriber' as const, 'operator' as const, 'admin' as const], action } });

  route(app, 'listEvents', reader('read history'), async (req, reply) => {
    const p = principalOf(req);
    const q = req.query;
    checkFilters(p.scope, q);
    const page = seqPage(q, 100);
    const r = hub.log.historyPage(
      p.scope,
      { store_id: q.store_id, user_id: q.user_id, strategy_id: q.strategy_id, tenant_id: q.tenant_id, topic: q.topic, types: q.type, since: q.since, until: q.until, text: q.q, ...page },
      hub.opts.scanBudgetRows,
      HISTORY_PAGE_MAX_BYTES,
    );
    return sendCharged<HistoryPage>(reply, p, r.scanned, {
      events: r.rows,
      next_cursor: r.next === null ? null : String(r.next),
      truncated: r.truncated,
      ...(r.partial ? { partial: true } : {}),
    });
  });

  route(app, 'getState', reader('read state'), async (req, reply) => {
    const p = principalOf(req);
    const views = hub.registry.views;
    if (!Object.hasOwn(views, req.params.view))
      throw new HubError(404, 'not_found', `state views: ${Object.keys(views).join(', ')}`, [{ path: 'view', reason: 'unknown state view' }]);
    const kinds = views[req.params.view]!;
    const q = req.query;
    checkFilters(p.scope, q);
    const page = seqPage(q, STATE_PAGE_DEFAULT);
    // Head, rows and counts are read in one synchronous step: no commit can land between them. The
    // head is the scope's own (every row here is at or below it), never the global one.
    const seq = hub.log.headIn(p.scope);
    const r = hub.projections.read(kinds, p.scope, q, page, q.key, hub.opts.scanBudgetRows, STATE_PAGE_MAX_BYTES);
    return sendCharged<StatePage>(reply, p, r.scanned, {
      seq,
      counts: r.counts,
      ...r.rows,
      next_cursor: r.next === null ? null : String(r.next),
      truncated: r.truncated,
      ...(r.partial ? { partial: true } : {}),
    });
  });

  route(app, 'whoami', { auth: {}, rateLimit: false }, async (req) => {
    const p = principalOf(req);
    const me: Whoami = { token_id: p.tokenId, role: p.role, scope: p.scope, via: p.via, hub_id: hub.hubId, head_seq: hub.log.headIn(p.scope) };
    return me;
  });
}
