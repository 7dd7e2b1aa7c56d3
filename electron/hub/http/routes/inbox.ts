import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { priority } from '../../../../shared/events.ts';
import { CONTROL } from '../../../../shared/wire.ts';
import { INBOX_DEFAULT_PRIORITY, INBOX_PAGE_DEFAULT, INBOX_PAGE_MAX, inboxMarkSchema, type InboxOp, type InboxPage } from '../../../../shared/inbox.ts';
import { authenticate, requireRole, readCost } from '../auth.ts';
import { parseWith, pagingParams, boolParam } from '../query.ts';
import type { RouteContext } from '../app.ts';

const { cursor, limit } = pagingParams(INBOX_PAGE_MAX);
const inboxQuery = z.object({ min_priority: priority.optional(), cursor, limit, dismissed: boolParam.optional() }).strict();

/**
 * The notification inbox: notable events in the caller's scope with the token's read and dismissed
 * marks. A change is pushed as an `inbox` control frame to every open stream of the same token, so
 * the token's other windows follow without reloading.
 */
export function inboxRoutes(app: FastifyInstance, { hub, limiter }: RouteContext): void {
  app.get('/v1/inbox', async (req, reply) => {
    const p = authenticate(req, hub.tokens, false);
    requireRole(p, ['subscriber', 'operator', 'admin'], 'read the inbox');
    limiter.take(p);
    const q = parseWith(inboxQuery, req.query, 'query');
    const min = q.min_priority ?? INBOX_DEFAULT_PRIORITY;
    const page = hub.inbox.list(p.tokenId, p.scope, { min, before: q.cursor, limit: q.limit ?? INBOX_PAGE_DEFAULT, dismissed: q.dismissed ?? false });
    const body: InboxPage = { ...hub.inbox.counts(p.tokenId, p.scope, min), items: page.items, next_cursor: page.next === null ? null : String(page.next) };
    const json = JSON.stringify(body);
    limiter.charge(p, readCost(page.items.length, Buffer.byteLength(json)));
    return reply.header('content-type', 'application/json; charset=utf-8').header('cache-control', 'no-store').send(json);
  });

  const mark = (op: InboxOp) => {
    app.post(`/v1/inbox/${op}`, async (req) => {
      const p = authenticate(req, hub.tokens, false);
      requireRole(p, ['subscriber', 'operator', 'admin'], 'mark the inbox');
      limiter.take(p);
      const body = parseWith(inboxMarkSchema, req.body, 'body');
      const change = hub.inbox.mark(p.tokenId, p.scope, hub.log.headIn(p.scope), op, body);
      hub.broker.toToken(p.tokenId, CONTROL.inbox, change);
      return change;
    });
  };
  mark('read');
  mark('unread');
  mark('dismiss');
}
