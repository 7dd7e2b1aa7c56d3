import type { FastifyInstance } from 'fastify';
import { isUnscoped, scopeExcess, scopeWithin } from '../../../../shared/scope.ts';
import type { CreatedWebhook, WebhookEndpoint } from '../../../../shared/webhooks.ts';
import { HubError } from '../../errors.ts';
import { principalOf, type RouteAuth } from '../auth.ts';
import { route } from '../contract.ts';
import type { Principal } from '../../tokens.ts';
import type { RouteContext } from '../app.ts';

/** Webhook endpoints and their dead-letter lists: admin only, and a scoped admin sees only its scope's. */
export function webhookRoutes(app: FastifyInstance, { hub }: RouteContext): void {
  const admin: { auth: RouteAuth } = { auth: { roles: ['admin'], action: 'manage webhooks' } };
  // An endpoint outside the caller's scope does not exist for it: 404, as for an unknown id.
  const endpointFor = (p: Principal, id: string) => {
    const ep = hub.webhooks.get(id);
    if (!ep || !scopeWithin(ep.scope, p.scope)) throw new HubError(404, 'not_found', `no webhook endpoint ${id}`, [{ path: 'id', reason: 'unknown endpoint' }]);
    return ep;
  };

  // An endpoint's cursor moves past other scopes' events too, so it tracks the global head: a scoped
  // admin is shown positions and backlogs against its own scope's head, never the global one.
  const headFor = (p: Principal) => (isUnscoped(p.scope) ? hub.log.head : hub.log.headIn(p.scope));
  const shown = <T extends WebhookEndpoint>(ep: T, head: number): T => ({ ...ep, cursor: Math.min(ep.cursor, head), backlog: Math.max(0, head - ep.cursor) });

  route(app, 'createWebhook', admin, async (req, reply) => {
    const p = principalOf(req);
    const body = req.body;
    const excess = scopeExcess(body.scope, p.scope);
    if (excess.length)
      throw new HubError(
        403,
        'forbidden',
        'a webhook may only see what its creator sees',
        excess.map((k) => ({ path: `scope.${k}`, reason: `must lie within your own scope's ${k}` })),
      );
    // New endpoints start at the head: they get what is published from now on, not the whole history.
    const { endpoint, secret } = hub.webhooks.create({ ...body, createdBy: p.tokenId, cursor: hub.log.head });
    hub.dispatcher.reload();
    req.log.info({ webhook: endpoint.id, url: endpoint.url }, 'webhook endpoint added');
    const created: CreatedWebhook = { ...shown(endpoint, headFor(p)), secret };
    return reply.code(201).send(created);
  });

  route(app, 'listWebhooks', admin, async (req) => {
    const p = principalOf(req);
    const head = headFor(p);
    return { webhooks: hub.webhooks.list(head).filter((w) => scopeWithin(w.scope, p.scope)).map((w) => shown(w, head)) };
  });

  route(app, 'listDeadLetters', admin, async (req) => {
    const p = principalOf(req);
    const q = req.query;
    if (q.endpoint_id) endpointFor(p, q.endpoint_id);
    // Filtered in SQL, so the limit counts only letters the caller may see.
    const ids = q.endpoint_id ? [q.endpoint_id] : hub.webhooks.active().filter((w) => scopeWithin(w.scope, p.scope)).map((w) => w.id);
    return { dead: hub.webhooks.deadLetters(ids, q.limit) };
  });

  route(app, 'purgeDeadLetters', admin, async (req) => {
    const p = principalOf(req);
    const body = req.body;
    if (body.endpoint_id) endpointFor(p, body.endpoint_id);
    const ids = body.endpoint_id ? [body.endpoint_id] : hub.webhooks.active().filter((w) => scopeWithin(w.scope, p.scope)).map((w) => w.id);
    const deleted = hub.webhooks.purgeDead(ids, body.before === undefined ? undefined : new Date(body.before).toISOString());
    req.log.info({ endpoint: body.endpoint_id ?? 'all', before: body.before ?? null, deleted }, 'dead letters purged');
    return { deleted };
  });

  route(app, 'deleteDeadLetter', admin, async (req) => {
    const p = principalOf(req);
    const ep = endpointFor(p, req.params.id);
    const seq = req.params.seq;
    if (!hub.webhooks.forgetDeadLetter(ep.id, seq)) throw new HubError(404, 'not_found', `no dead letter ${seq} for ${ep.id}`, [{ path: 'seq', reason: 'not in the dead-letter list' }]);
    return { deleted: 1 };
  });

  route(app, 'getWebhook', admin, async (req) => {
    const p = principalOf(req);
    endpointFor(p, req.params.id);
    const head = headFor(p);
    return shown(hub.webhooks.info(req.params.id, head)!, head);
  });

  route(app, 'deleteWebhook', admin, async (req) => {
    const p = principalOf(req);
    endpointFor(p, req.params.id);
    hub.webhooks.remove(req.params.id);
    hub.dispatcher.reload();
    req.log.info({ webhook: req.params.id }, 'webhook endpoint removed');
    return { removed: true as const };
  });

  route(app, 'testWebhook', admin, async (req) => {
    const p = principalOf(req);
    return hub.dispatcher.test(endpointFor(p, req.params.id));
  });

  route(app, 'retryDeadLetter', admin, async (req) => {
    const p = principalOf(req);
    const ep = endpointFor(p, req.params.id);
    const seq = req.params.seq;
    if (!hub.webhooks.deadLetter(ep.id, seq)) throw new HubError(404, 'not_found', `no dead letter ${seq} for ${ep.id}`, [{ path: 'seq', reason: 'not in the dead-letter list' }]);
    return hub.dispatcher.redeliver(ep, seq);
  });
}
