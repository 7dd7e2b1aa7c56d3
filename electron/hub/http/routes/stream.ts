import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TokenScope } from '../../../../shared/scope.ts';
import { compileSelector, selectorSet } from '../../../../shared/topic-selector.ts';
import { parseEventId, type EventPosition } from '../../../../shared/wire.ts';
import { HubError, forbidden } from '../../errors.ts';
import { principalOf, readCost } from '../auth.ts';
import { route } from '../contract.ts';
import { streamSubscription, type StreamSpec } from '../../subscriber.ts';
import { runStream } from '../../stream-session.ts';
import type { KeyFilters } from '../../scope-sql.ts';
import type { RouteContext } from '../app.ts';
import { openEventStream } from '../event-stream.ts';

/**
 * Filters may only narrow a token's scope. Asking for a strategy, user, store or tenant outside it
 * is a 403 that names the field, never a silently empty stream. A topic selector for one exact topic
 * that the token's subscribe_topics do not match is refused the same way; a template is intersected
 * with the scope (an event must match both), since whether two templates overlap is not decided here.
 */
export function checkFilters(scope: TokenScope, f: KeyFilters): void {
  const outside = (field: string, asked: string[] | undefined, allowed: string[] | undefined) => {
    const bad = allowed && asked?.filter((v) => !allowed.includes(v));
    if (bad?.length) throw forbidden(`${field} ${bad.join(',')} is outside this token's scope`, [{ path: field, reason: `not in scope: ${bad.join(',')}` }]);
  };
  outside('strategy_id', f.strategy_id, scope.strategy_ids);
  outside('store_id', f.store_id, scope.store_ids);
  outside('user_id', f.user_id, scope.user_id !== undefined ? [scope.user_id] : undefined);
  outside('tenant_id', f.tenant_id, scope.tenant_id !== undefined ? [scope.tenant_id] : undefined);
  if (scope.subscribe_topics && f.topic?.length) {
    const allowed = selectorSet(scope.subscribe_topics);
    const bad = f.topic.filter((t) => compileSelector(t).kind === 'exact' && !allowed.matches(t));
    if (bad.length) throw forbidden(`topic ${bad.join(' ')} is outside this token's subscribe_topics`, [{ path: 'topic', reason: `not in scope: ${bad.join(' ')}` }]);
  }
}

/** The position to resume after: `<seq>@<epoch>` as sent by the hub, or a plain seq (older clients). */
function lastEventIdFrom(req: FastifyRequest, fromQuery: EventPosition | undefined): EventPosition | undefined {
  const header = req.headers['last-event-id'];
  if (header === undefined || header === '') return fromQuery;
  const v = Array.isArray(header) ? header[0]! : header;
  const pos = parseEventId(v);
  if (!pos)
    throw new HubError(400, 'invalid_request', 'Last-Event-ID must be an event id sent by this hub', [
      { path: 'headers.last-event-id', reason: 'must be <seq> or <seq>@<epoch> (a non-negative integer, then an epoch of letters, digits, _ or -)' },
    ]);
  return pos;
}

export function streamRoutes(app: FastifyInstance, { hub, limiter }: RouteContext): void {
  const subscriber = { auth: { roles: ['subscriber' as const, 'operator' as const, 'admin' as const], action: 'subscribe', queryToken: true } };
  route(app, 'streamEvents', subscriber, async (req, reply) => {
    const p = principalOf(req);
    const q = req.query;
    const filters: KeyFilters = { store_id: q.store_id, user_id: q.user_id, strategy_id: q.strategy_id, tenant_id: q.tenant_id, topic: q.topic };
    checkFilters(p.scope, filters);
    // An explicitly asked inactive strategy is refused; a token bound to strategies is refused only
    // when all of them are inactive (its other strategies still have a live stream to offer).
    const asked = q.strategy_id?.length ? q.strategy_id : p.scope.strategy_ids;
    const inactive = (asked ?? []).filter((s: string) => !hub.strategies.isActive(s));
    if (inactive.length && (q.strategy_id?.length || inactive.length === asked!.length))
      throw new HubError(409, 'strategy_inactive', `strategy ${inactive.join(',')} is deactivated (${hub.strategies.reasonFor(inactive[0]!) ?? 'no reason given'})`, [
        { path: 'strategy_id', reason: 'strategy is inactive' },
      ]);
    const resumeFrom = lastEventIdFrom(req, q.lastEventId);
    const spec: StreamSpec = { tokenId: p.tokenId, scope: p.scope, filters, types: q.type };

    // HEAD (Fastify answers it with this handler): the same checks and headers, but no body and no
    // subscriber, so a probe costs nothing and holds nothing open.
    if (req.method === 'HEAD') {
      return reply
        .code(200)
        .headers({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' })
        .send('');
    }

    const socket = openEventStream(reply, { 'cache-control': 'no-cache, no-transform' });
    const res = reply.raw;
    const sub = hub.broker.subscribe(streamSubscription(spec, q.events ?? 'named'), socket);
    const charge = (rows: number, bytes: number) => limiter.charge(p, readCost(rows, bytes));
    void runStream(hub, sub, { snapshot: q.snapshot ?? false, position: resumeFrom, charge }).catch((err) => {
      req.log.warn({ err, connection: sub.id }, 'stream failed');
      res.destroy();
    });
  });
}
