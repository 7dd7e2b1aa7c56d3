import { z } from 'zod';
import { MAX_TOPIC_SELECTORS, MAX_TOPICS_PER_EVENT } from '../topic-selector.ts';

/**
 * The Mercure protocol on /.well-known/mercure (served with --mercure-publisher-jwt-key). Its rules
 * are the protocol's, checked by the hub's Mercure handlers, not by these schemas: a subscriber may
 * send query parameters the hub does not know (they are ignored), and a publisher's form is read
 * field by field with the protocol's answers. So these schemas describe the requests for the API
 * document and for clients; the hub does not run them (see `documentedOnly` in http/contract.ts).
 */

/** A value the way a form or query string carries it: once, or repeated. */
const repeatedText = (description: string, max: number) => z.array(z.string()).min(1).max(max).meta({ description });

export const mercurePublishForm = z
  .object({
    topic: repeatedText(
      `The update's topics, one \`topic\` field each (repeat it; up to ${MAX_TOPICS_PER_EVENT}): the first is the canonical topic, the others alternate ones. Topics under /.well-known/mercure are the hub's own (403).`,
      MAX_TOPICS_PER_EVENT,
    ),
    data: z.string().optional().meta({ description: 'The new version of the topic, any text (empty when left out).' }),
    private: z.string().optional().meta({ description: 'Present (any value, e.g. `on`): a private update, sent only to subscribers whose JWT `mercure.subscribe` matches one of its topics.' }),
    id: z.string().max(1024).optional().meta({ description: 'The update id, sent as the SSE `id` (a `urn:uuid:` is generated when left out); not `earliest`, not starting with `#`, no line breaks.' }),
    type: z.string().max(256).optional().meta({ description: 'The SSE `event` field.' }),
    retry: z.string().regex(/^\d{1,15}$/).optional().meta({ description: 'The SSE `retry` field, in milliseconds.' }),
  })
  .strict()
  .meta({ description: 'An HTML form (application/x-www-form-urlencoded). Each field but `topic` at most once; an unknown field is a 400.' });

export const mercureSubscribeQuery = z.object({
  topic: repeatedText(
    `Topic selectors, one \`topic\` parameter each (repeat it; up to ${MAX_TOPIC_SELECTORS}): a topic, a URI template (RFC 6570) or \`*\`. At least one.`,
    MAX_TOPIC_SELECTORS,
  ),
  lastEventID: z.string().optional().meta({
    description: 'Resume after this update id (the `Last-Event-ID` header wins over it); `earliest` replays every update the log retains. An unknown id replays nothing and is answered `Last-Event-ID: earliest`.',
  }),
});

export const mercureStreamSchema = z.string().meta({
  description:
    'text/event-stream: a comment, then one frame per update matching a selector (`id:` the update id, `event:` its type, `retry:`, one `data:` line per line of data), private ones only when the JWT may receive them; heartbeats are comments. The `Last-Event-ID` response header names where the stream resumed.',
});

export const mercurePublishedSchema = z.string().meta({ description: 'The update id (the one sent, or the generated `urn:uuid:`), as text/plain.' });

const subscriptionSchema = z.looseObject({
  id: z.string().meta({ description: '/.well-known/mercure/subscriptions/{topic}/{subscriber}, both percent-encoded.' }),
  type: z.literal('Subscription'),
  topic: z.string(),
  subscriber: z.string(),
  active: z.boolean(),
  payload: z.unknown().optional().meta({ description: "The subscriber JWT's `mercure.payload`, when it has one." }),
});

/** A JSON-LD document (`@context` https://mercure.rocks/), answered as application/ld+json. */
export const mercureSubscriptionsSchema = z.looseObject({
  '@context': z.literal('https://mercure.rocks/'),
  id: z.string(),
  type: z.literal('Subscriptions'),
  lastEventID: z.string(),
  subscriptions: z.array(subscriptionSchema),
});
export const mercureSubscriptionSchema = subscriptionSchema.extend({ '@context': z.literal('https://mercure.rocks/'), lastEventID: z.string() });

export const mercureTopicParams = z.object({ topic: z.string().meta({ description: 'A topic selector, percent-encoded.' }) });
export const mercureSubscriberParams = mercureTopicParams.extend({ subscriber: z.string().meta({ description: 'A subscriber id (`urn:uuid:…`), percent-encoded.' }) });

/**
 * The Mercure JWT, where the protocol looks for it: the Authorization header, then the
 * `authorization` query parameter, then the `mercureAuthorization` cookie (security schemes of the
 * API document, http/docs.ts).
 */
export const mercureSecurity = [{ mercureBearer: [] }, { mercureQuery: [] }, { mercureCookie: [] }] as const;

/** The protocol's document types, for the answers of the subscriptions API. */
export const ldJson = (schema: z.ZodType, description: string) => ({ description, content: { 'application/ld+json': { schema } } });
