import type { FastifyInstance } from 'fastify';
import { publishViolation } from '../../../../shared/scope.ts';
import { validateEvent, MAX_BATCH, type FieldError, type ValidEvent } from '../../../../shared/events.ts';
import { HUB_WRITTEN_ACTION_TYPES } from '../../../../shared/domains/action.ts';
import { MERCURE_UPDATE } from '../../../../shared/domains/mercure.ts';
import type { PublishResult } from '../../../../shared/api.ts';
import { HubError, badRequest, forbidden } from '../../errors.ts';
import { principalOf } from '../auth.ts';
import { route } from '../contract.ts';
import type { RouteContext } from '../app.ts';

/** POST /v1/events: one event or an array. An array is all or nothing. */
export function publishRoutes(app: FastifyInstance, { hub }: RouteContext): void {
  route(app, 'publishEvents', { auth: { roles: ['publisher', 'admin'], action: 'publish events' } }, async (req, reply) => {
    const started = process.hrtime.bigint();
    const p = principalOf(req);
    // Read by the body parser and checked here event by event (the schema documents it only).
    const body: unknown = req.body;
    const batch = Array.isArray(body);
    const inputs: unknown[] = batch ? body : [body];
    if (body === undefined || body === null) throw badRequest('request body is required', [{ path: 'body', reason: 'required' }]);
    if (inputs.length === 0) throw badRequest('an empty array publishes nothing', [{ path: 'body', reason: 'must contain at least one event' }]);
    if (inputs.length > MAX_BATCH) throw new HubError(413, 'batch_too_large', `at most ${MAX_BATCH} events per request`, [{ path: 'body', reason: `${inputs.length} events` }]);

    const errors: FieldError[] = [];
    const events: ValidEvent[] = [];
    inputs.forEach((input, i) => {
      const r = validateEvent(input, batch ? String(i) : '', hub.registry);
      if (!r.ok) errors.push(...r.errors);
      // A request or a timeout published directly would skip the operator and scope checks of
      // POST /v1/actions; backends publish outcomes (action.accepted, ...) only.
      else if (HUB_WRITTEN_ACTION_TYPES.includes(r.event.type))
        errors.push({ path: batch ? `${i}.type` : 'type', reason: `${r.event.type} is written by the hub; request actions with POST /v1/actions, answer them with action.accepted|rejected|completed|failed` });
      // Mercure updates come through /.well-known/mercure, where the publisher's JWT claims are checked.
      else if (r.event.type === MERCURE_UPDATE)
        errors.push({ path: batch ? `${i}.type` : 'type', reason: `${MERCURE_UPDATE} is written by the hub; publish Mercure updates to /.well-known/mercure` });
      else events.push(r.event);
    });
    if (errors.length) throw new HubError(422, 'validation_failed', `${errors.length} invalid field(s); nothing was stored`, errors.slice(0, 100));

    const outside: FieldError[] = [];
    events.forEach((ev, i) => {
      const v = publishViolation(p.scope, ev);
      if (v) outside.push({ path: batch ? `${i}.${v.path}` : v.path, reason: v.reason });
    });
    if (outside.length) throw forbidden('event outside the publishing token\'s scope; nothing was stored', outside.slice(0, 100));

    const results = await hub.publish(events);
    hub.metrics.commitSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    const dups = results.filter((r) => r.duplicate).length;
    if (dups) hub.metrics.duplicates.inc(dups);
    const out: PublishResult = { results: results.map((r) => ({ seq: r.seq, id: r.id, duplicate: r.duplicate })) };
    return reply.code(201).send(out);
  });
}
