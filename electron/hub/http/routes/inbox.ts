import type { FastifyInstance, FastifyReply } from 'fastify';
import { CONTROL } from '../../../../shared/wire.ts';
import { INBOX_DEFAULT_PRIORITY, INBOX_PAGE_DEFAULT, type InboxOp, type InboxPage } from '../../../../shared/inbox.ts';
import { principalOf, readCost, type RouteAuth } from '../auth.ts';
import { route } from '../contract.ts';
import type { RouteContext } from '../app.ts';

const OPERATIONS = { read: 'markInboxRead', unread: 'markInboxUnread', dismiss: 'dismissInbox' } as const satisfies Record<InboxOp, string>;

/**
 * The notification inbox: notable events in the caller's scope with the token's read and dismissed
 * marks. A change is pushed as an `inbox` control frame to every open stream of the same token, so
 * the token's other windows follow without reloading.
 */
export function inboxRoutes(app: FastifyInstance, { hub, limiter }: RouteContext): void {
  const reader = (action: string): { auth: RouteAuth } => ({ auth: { roles: ['subscriber', 'operator', 'admin'], action } });

  route(app, 'listInbox', reader('read the inbox'), async (req, reply) => {
    const p = principalOf(req);
    const q = req.query;
    const min = q.min_priority ?? INBOX_DEFAULT_PRIORITY;
    const page = hub.inbox.list(p.tokenId, p.scope, { min, before: q.cursor, limit: q.limit ?? INBOX_PAGE_DEFAULT, dismissed: q.dismissed ?? false });
    const body: InboxPage = { ...hub.inbox.counts(p.tokenId, p.scope, min), items: page.items, next_cursor: page.next === null ? null : String(page.next) };
    const json = JSON.stringify(body);
    limiter.charge(p, readCost(page.items.length, Buffer.byteLength(json)));
    // Sent as the text whose size was charged.
    void (reply as FastifyReply).header('content-type', 'application/json; charset=utf-8').header('cache-control', 'no-store').send(json);
  });

  const mark = (op: InboxOp) => {
    route(app, OPERATIONS[op], reader('mark the inbox'), async (req) => {
      const p = principalOf(req);
      const body = req.body;
      const change = hub.inbox.mark(p.tokenId, p.scope, hub.log.headIn(p.scope), op, body);
      hub.broker.toToken(p.tokenId, CONTROL.inbox, change);
      return change;
    });
  };
  mark('read');
  mark('unread');
  mark('dismiss');
}
