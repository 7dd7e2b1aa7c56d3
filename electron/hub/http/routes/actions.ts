import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { describeScope, scopeViolation } from '../../../../shared/scope.ts';
import { validateEvent } from '../../../../shared/events.ts';
import type { ActionAcceptedResponse, ActionList } from '../../../../shared/domains/action.ts';
import { HubError, forbidden } from '../../errors.ts';
import { principalOf, type RouteAuth } from '../auth.ts';
import { route } from '../contract.ts';
import type { RouteContext } from '../app.ts';

/**
 * POST /v1/actions records an operator's request as an `action.requested` event (delivered to the
 * backends by webhooks and streams like any event); GET /v1/actions/:action_id reads its state.
 */
export function actionRoutes(app: FastifyInstance, { hub }: RouteContext): void {
  const acting: { auth: RouteAuth } = {
    auth: {
      roles: ['operator', 'admin'],
      action: 'request actions',
      hint: 'this role may not act; create an operator token (relaydesk tokens create --role operator)',
    },
  };
  // Anyone who can see the actions' events (subscribers and operators of their scope, admins) may
  // see their state and history; publishers read nothing.
  const reading = (action: string): { auth: RouteAuth } => ({ auth: { roles: ['subscriber', 'operator', 'admin'], action } });

  route(app, 'requestAction', acting, async (req, reply) => {
    const p = principalOf(req);
    const body = req.body;
    const keys = { store_id: body.store_id ?? null, user_id: body.user_id ?? null, strategy_id: body.strategy_id ?? null, tenant_id: body.tenant_id ?? null, topics: body.topics ?? null };
    const outside = scopeViolation(p.scope, keys);
    if (outside)
      throw forbidden(`the action's target is outside this token's scope (${describeScope(p.scope)}); nothing was requested`, [
        { path: outside, reason: `outside this token's scope (${outside === 'topics' ? (keys.topics?.join(' ') ?? 'no topics') : (keys[outside] ?? 'missing')})` },
      ]);
    const actionId = body.action_id ?? `act_${randomUUID()}`;
    const label = hub.tokens.get(p.tokenId)?.label ?? undefined;
    // The action id is the event id: a retry of the same request is a duplicate in the log and is
    // therefore delivered (and done) once; the same id for a different request is a 409 conflict.
    const checked = validateEvent({
      id: actionId,
      type: 'action.requested',
      data: {
        action_id: actionId,
        name: body.name,
        target: body.target,
        params: body.params,
        requested_by: p.tokenId,
        ...(label ? { requested_by_label: label } : {}),
      },
      ...(body.store_id !== undefined ? { store_id: body.store_id } : {}),
      ...(body.user_id !== undefined ? { user_id: body.user_id } : {}),
      ...(body.strategy_id !== undefined ? { strategy_id: body.strategy_id } : {}),
      ...(body.tenant_id !== undefined ? { tenant_id: body.tenant_id } : {}),
      ...(body.topics !== undefined ? { topics: body.topics } : {}),
      priority: 'high',
    });
    if (!checked.ok) throw new HubError(422, 'validation_failed', 'invalid action request', checked.errors);
    let r;
    try {
      [r] = await hub.publish([checked.event]);
    } catch (err) {
      if (err instanceof HubError && err.code === 'id_conflict')
        throw new HubError(409, 'id_conflict', `action ${actionId} was already requested with a different name, target, params, scope or token; a retry must repeat them`, [
          { path: 'action_id', reason: 'already used for a different action' },
        ]);
      throw err;
    }
    req.log.info({ action_id: actionId, name: body.name, token_id: p.tokenId, duplicate: r!.duplicate }, 'action requested');
    const out: ActionAcceptedResponse = { action_id: actionId, seq: r!.seq, duplicate: r!.duplicate };
    return reply.code(202).send(out);
  });

  route(app, 'listActions', reading('read the action history'), async (req) => {
    const p = principalOf(req);
    const q = req.query;
    const page = hub.actions.list(
      p.scope,
      {
        limit: q.limit ?? 50,
        ...(q.cursor !== undefined ? { before: q.cursor } : {}),
        ...(q.name !== undefined ? { name: q.name } : {}),
        ...(q.state !== undefined ? { state: q.state } : {}),
        ...(q.requested_by !== undefined ? { requested_by: q.requested_by } : {}),
        ...(q.target_type !== undefined ? { target_type: q.target_type } : {}),
      },
      hub.webhooks,
    );
    const out: ActionList = { actions: page.actions, next_cursor: page.next === null ? null : String(page.next) };
    return out;
  });

  route(app, 'getAction', reading('read action state'), async (req) => {
    const p = principalOf(req);
    const id = req.params.action_id;
    // An action outside the caller's scope does not exist for it: 404, as for an unknown id.
    const status = hub.actions.status(id, p.scope, hub.webhooks);
    if (!status) throw new HubError(404, 'not_found', `no action ${id}`, [{ path: 'action_id', reason: 'unknown action' }]);
    return status;
  });
}
