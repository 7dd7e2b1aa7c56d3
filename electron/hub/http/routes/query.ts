import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Principal } from '../../tokens.ts';
import { z } from 'zod';
import { STATE_KEY_MAX, STATE_KEYS_PER_REQUEST, STATE_PAGE_DEFAULT, STATE_PAGE_MAX, STATE_PAGE_MAX_BYTES } from '../../../../shared/state.ts';
import { HISTORY_PAGE_MAX_BYTES } from '../../../../shared/api.ts';
import { rfc3339Ms } from '../../../../shared/time.ts';
import { authenticate, requireRole, readCost } from '../auth.ts';
import { parseWith, repeated, scopeList, typeList, topicList, pagingParams, seqPage } from '../query.ts';
import { checkFilters } from './stream.ts';
import type { RouteContext } from '../app.ts';

/** An RFC 3339 date-time with any offset, as the instant it names (ms since the epoch). */
const instant = z
  .string()
  .max(64, 'must be at most 64 characters')
  .transform((v, ctx) => {
    // An unencoded `+09:00` arrives as ` 09:00` (a query string's + is a space); the sign is meant.
    const ms = rfc3339Ms(v.replace(/ (\d{2}:\d{2})$/, '+$1'));
    if (ms === null) ctx.addIssue({ code: 'custom', message: 'must be an RFC 3339 date-time with an offset, like 2026-11-23T01:30:00+09:00 or 2026-11-22T16:30:00Z' });
    return ms ?? 0;
  });

const historyQuery = z
  .object({
    store_id: scopeList.optional(),
    user_id: scopeList.optional(),
    strategy_id: scopeList.optional(),
    tenant_id: scopeList.optional(),
    topic: topicList.optional(),
    type: typeList.optional(),
    since: instant.optional(),
    until: instant.optional(),
    q: z.string().min(1).max(200).optional(),
    ...pagingParams(1000),
  })
  .strict();

const stateQuery = z
  .object({
    store_id: scopeList.optional(),
    user_id: scopeList.optional(),
    strategy_id: scopeList.optional(),
    tenant_id: scopeList.optional(),
    // Not split on commas: a row key may hold one (it is built from the publisher's ids).
    key: repeated(z.string().min(1, 'must not be empty').max(STATE_KEY_MAX, `must be at most ${STATE_KEY_MAX} characters`), {
      commas: false,
      max: STATE_KEYS_PER_REQUEST,
    }).optional(),
    ...pagingParams(STATE_PAGE_MAX),
  })
  .strict();

/** History, current state and identity: read-only, always within the caller's scope. */
export function queryRoutes(app: FastifyInstance, { hub, limiter }: RouteContext): void {
  /**
   * Replies are serialised here rather than by Fastify so their size is known: a read is charged
   * for the rows it examined and the bytes it sent (RateLimiter.charge).
   */
  const sendCharged = (reply: FastifyReply, p: Principal, scanned: number, body: unknown) => {
    const json = JSON.stringify(body);
    limiter.charge(p, readCost(scanned, Buffer.byteLength(json)));
    return reply.header('content-type', 'application/json; charset=utf-8').send(json);
  };

  app.get('/v1/events', async (req, reply) => {
    const p = authenticate(req, hub.tokens, false);
    requireRole(p, ['subscriber', 'operator', 'admin'], 'read history');
    limiter.take(p);
    const q = parseWith(historyQuery, req.query, 'query');
    checkFilters(p.scope, q);
    const page = seqPage(q, 100);
    const r = hub.log.historyPage(
      p.scope,
      { store_id: q.store_id, user_id: q.user_id, strategy_id: q.strategy_id, tenant_id: q.tenant_id, topic: q.topic, types: q.type, since: q.since, until: q.until, text: q.q, ...page },
      hub.opts.scanBudgetRows,
      HISTORY_PAGE_MAX_BYTES,
    );
    return sendCharged(reply, p, r.scanned, {
      events: r.rows,
      next_cursor: r.next === null ? null : String(r.next),
      truncated: r.truncated,
      ...(r.partial ? { partial: true } : {}),
    });
  });

  app.get<{ Params: { view: string } }>('/v1/state/:view', async (req, reply) => {
    const p = authenticate(req, hub.tokens, false);
    requireRole(p, ['subscriber', 'operator', 'admin'], 'read state');
    limiter.take(p);
    const views = hub.registry.views;
    if (!Object.hasOwn(views, req.params.view))
      return reply.code(404).send({ error: { status: 404, code: 'not_found', message: `state views: ${Object.keys(views).join(', ')}` } });
    const kinds = views[req.params.view]!;
    const q = parseWith(stateQuery, req.query, 'query');
    checkFilters(p.scope, q);
    const page = seqPage(q, STATE_PAGE_DEFAULT);
    // Head, rows and counts are read in one synchronous step: no commit can land between them. The
    // head is the scope's own (every row here is at or below it), never the global one.
    const seq = hub.log.headIn(p.scope);
    const r = hub.projections.read(kinds, p.scope, q, page, q.key, hub.opts.scanBudgetRows, STATE_PAGE_MAX_BYTES);
    return sendCharged(reply, p, r.scanned, {
      seq,
      counts: r.counts,
      ...r.rows,
      next_cursor: r.next === null ? null : String(r.next),
      truncated: r.truncated,
      ...(r.partial ? { partial: true } : {}),
    });
  });

  app.get('/v1/whoami', async (req) => {
    const p = authenticate(req, hub.tokens, false);
    return { token_id: p.tokenId, role: p.role, scope: p.scope, via: p.via, hub_id: hub.hubId, head_seq: hub.log.headIn(p.scope) };
  });
}
