import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MAX_TOPIC_SELECTORS, selectorProblem, selectorSet } from '../../../../shared/topic-selector.ts';
import type { HubEvent } from '../../../../shared/events.ts';
import { HubError, badRequest, forbidden } from '../../errors.ts';
import type { Subscription } from '../../subscriber.ts';
import { presentedToken, type MercureClaims } from '../../mercure/auth.ts';
import { parsePublishForm, updateEvent, updateOf, type MercureUpdate } from '../../mercure/update.ts';
import { updateFormat, updateReplay } from '../../mercure/delivery.ts';
import { JSONLD_CONTEXT, subscriptionId } from '../../mercure/subscriptions.ts';
import type { MercureService } from '../../mercure/service.ts';
import type { RouteContext } from '../app.ts';
import { openEventStream } from '../event-stream.ts';
import { route } from '../contract.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });
/**
 * The update inside each event, read once however many subscriptions check it: a per-connection
 * cache made a flush parse the same update once per distinct subscription (1,000 zod parses of one
 * event at 1,000 subscribers). Weak, so an event leaves with its last reference.
 */
const updates = new WeakMap<HubEvent, MercureUpdate | null>();

/** Query values as a list, whether given once or repeated. */
function all(q: unknown): string[] {
  if (q === undefined) return [];
  return (Array.isArray(q) ? q : [q]).map(String);
}

async function claimsOf(mercure: MercureService, req: FastifyRequest, role: 'publisher' | 'subscriber'): Promise<MercureClaims | null> {
  const presented = presentedToken(req);
  return presented ? mercure.auth.verify(presented, role) : null;
}

/**
 * The Mercure protocol on /.well-known/mercure: publish (form-encoded POST), subscribe (SSE GET)
 * with topic selectors and Last-Event-ID, and the subscriptions API. Updates are log events
 * (`mercure.update`), so they are durable, replayable after a restart and shared through Redis.
 */
export async function mercureRoutes(app: FastifyInstance, { hub }: Pick<RouteContext, 'hub'>): Promise<void> {
  const mercure = hub.mercure;
  if (!mercure) return;

  // Publishers post HTML-form bodies. Scoped to these routes: the rest of the API takes JSON only.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, new URLSearchParams(utf8.decode(body as Buffer)));
    } catch {
      done(new HubError(400, 'invalid_utf8', 'request body is not valid UTF-8', [{ path: 'body', reason: 'invalid UTF-8 byte sequence' }]), undefined);
    }
  });

  route(app, 'mercurePublish', {}, async (req, reply) => {
    const claims = await claimsOf(mercure, req, 'publisher');
    if (!claims) throw new HubError(401, 'unauthorized', 'publishing needs a Mercure publisher JWT (Authorization: Bearer, the authorization query parameter or the mercureAuthorization cookie)', [{ path: 'headers.authorization', reason: 'required' }]);
    if (!claims.publish?.length)
      throw forbidden('this token may not publish: its mercure.publish claim is missing or empty', [{ path: 'mercure.publish', reason: 'no topic selectors' }]);
    if (!((req.body as unknown) instanceof URLSearchParams))
      throw new HubError(415, 'unsupported_media_type', 'publish with Content-Type: application/x-www-form-urlencoded', [{ path: 'headers.content-type', reason: 'use application/x-www-form-urlencoded' }]);
    const update = parsePublishForm(req.body as unknown as URLSearchParams);
    const outside = selectorSet(claims.publish).firstUnmatched(update.topics);
    if (outside !== -1)
      throw forbidden(`topic "${update.topics[outside]}" is outside this token's mercure.publish claim`, [{ path: `topic.${outside}`, reason: 'not matched by mercure.publish' }]);
    await hub.publish([updateEvent(update)]);
    return reply.code(200).header('content-type', 'text/plain; charset=utf-8').send(update.id);
  });

  route(app, 'mercureSubscribe', {}, async (req, reply) => {
    const claims = await claimsOf(mercure, req, 'subscriber');
    if (!claims && !mercure.opts.anonymous)
      throw new HubError(401, 'unauthorized', 'subscribing needs a Mercure subscriber JWT (this hub does not take anonymous subscribers)', [{ path: 'headers.authorization', reason: 'required' }]);
    const query = req.query as Record<string, unknown>;
    const topics = all(query.topic);
    if (!topics.length) throw badRequest('missing "topic": name at least one topic selector', [{ path: 'topic', reason: 'required' }]);
    if (topics.length > MAX_TOPIC_SELECTORS) throw badRequest(`at most ${MAX_TOPIC_SELECTORS} topic selectors`, [{ path: 'topic', reason: `${topics.length} given` }]);
    const bad = topics.map((t, i) => ({ path: `topic.${i}`, reason: selectorProblem(t) })).filter((p): p is { path: string; reason: string } => p.reason !== null);
    if (bad.length) throw badRequest('invalid topic selector', bad);
    // The header wins over the query parameter, as the protocol says.
    const header = req.headers['last-event-id'];
    const lastEventId = (Array.isArray(header) ? header[0] : header) || all(query.lastEventID)[0] || undefined;
    const resume = mercure.resumePoint(lastEventId);
    // HEAD (Fastify answers it with this handler): the same checks and headers, no stream.
    if (req.method === 'HEAD')
      return (reply as FastifyReply)
        .code(200)
        .headers({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'private, no-cache, no-store, must-revalidate, max-age=0', ...(resume ? { 'last-event-id': resume.responseId } : {}) })
        .send();

    const wanted = selectorSet(topics);
    const allowed = claims?.subscribe?.length ? selectorSet(claims.subscribe) : null;
    const accepts = (e: HubEvent): boolean => {
      let u = updates.get(e);
      if (u === undefined) updates.set(e, (u = updateOf(e)));
      if (!u || !wanted.matchesAny(u.topics)) return false;
      // A private update needs a claim matching one of its topics, canonical or alternate.
      return !u.private || (allowed?.matchesAny(u.topics) ?? false);
    };
    const subscriber = { id: `urn:uuid:${randomUUID()}`, topics, ...(claims?.payload !== undefined ? { payload: claims.payload } : {}) };
    const subscription: Subscription = {
      // Unscoped: what a Mercure subscriber sees is decided by `match` (its topics and claims).
      spec: { tokenId: `mercure:${subscriber.id}`, scope: {}, filters: {} },
      key: JSON.stringify(['mercure', topics, claims?.subscribe ?? null]),
      match: accepts,
      format: updateFormat,
    };

    const socket = openEventStream(reply, {
      'cache-control': 'private, no-cache, no-store, must-revalidate, max-age=0',
      ...(resume ? { 'last-event-id': resume.responseId } : {}),
    });
    const res = reply.raw;
    // A comment first: the first bytes go out with the headers, so EventSource opens now.
    socket.write(':\n\n');
    // Frames go straight to the socket, as on /v1/stream (see routes/stream.ts).
    const sub = hub.broker.subscribe(subscription, socket);
    mercure.subscriptions.add(subscriber);
    const announce = (active: boolean) =>
      mercure.announce(subscriber, active).catch((err) => req.log.warn({ err, subscriber: subscriber.id }, 'could not publish a Mercure subscription event'));
    void announce(true);
    // A token that expires ends the connection then: the subscriber must come back with a new one.
    const expiry = claims?.exp !== undefined ? setTimeout(() => res.destroy(), Math.max(0, claims.exp * 1000 - Date.now())) : undefined;
    expiry?.unref();
    res.on('close', () => {
      clearTimeout(expiry);
      mercure.subscriptions.remove(subscriber.id);
      if (!hub.draining) void announce(false);
    });
    void hub.broker.catchUp(sub, resume?.cursor ?? hub.log.head, updateReplay(hub.log, topics, accepts)).catch((err) => {
      req.log.warn({ err, connection: sub.id }, 'Mercure stream failed');
      res.destroy();
    });
  });

  if (!mercure.opts.subscriptions) return;

  /**
   * The subscriptions API: the caller's mercure.subscribe claim must match the URL asked for (as
   * sent, percent-encoded), e.g. `/.well-known/mercure/subscriptions{/topic}{/subscriber}`.
   */
  const subscriptionsReply = async (req: FastifyRequest, topic?: string, subscriber?: string) => {
    const claims = await claimsOf(mercure, req, 'subscriber');
    if (!claims) throw new HubError(401, 'unauthorized', 'the subscriptions API needs a Mercure subscriber JWT', [{ path: 'headers.authorization', reason: 'required' }]);
    const path = req.url.split('?')[0]!;
    if (!claims.subscribe?.length || !selectorSet(claims.subscribe).matches(path))
      throw forbidden(`${path} is outside this token's mercure.subscribe claim`, [{ path: 'mercure.subscribe', reason: `does not match ${path}` }]);
    const lastEventID = mercure.lastEventId;
    if (subscriber !== undefined) {
      const [doc] = mercure.subscriptions.list(topic, subscriber);
      if (!doc) throw new HubError(404, 'not_found', `no active subscription ${subscriptionId(topic!, subscriber)}`);
      return { '@context': JSONLD_CONTEXT, ...doc, lastEventID };
    }
    return {
      '@context': JSONLD_CONTEXT,
      id: path,
      type: 'Subscriptions',
      lastEventID,
      subscriptions: mercure.subscriptions.list(topic),
    };
  };
  const send = (reply: FastifyReply, body: unknown) =>
    reply.code(200).header('content-type', 'application/ld+json').header('cache-control', 'must-revalidate').send(JSON.stringify(body));

  route(app, 'mercureSubscriptions', {}, async (req, reply) => send(reply, await subscriptionsReply(req)));
  route(app, 'mercureTopicSubscriptions', {}, async (req, reply) => send(reply, await subscriptionsReply(req, (req.params as { topic: string }).topic)));
  route(app, 'mercureSubscription', {}, async (req, reply) => {
    const p = req.params as { topic: string; subscriber: string };
    return send(reply, await subscriptionsReply(req, p.topic, p.subscriber));
  });
}
