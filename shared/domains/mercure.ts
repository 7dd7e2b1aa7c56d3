import { z } from 'zod';
import { defineDomain, str } from './define.ts';

// Updates received on the Mercure protocol's endpoint (/.well-known/mercure) are events like any
// other: in the log, in history (GET /v1/events?topic=…), in the console and on the Redis bus. The
// hub writes them with the update's topics as the event's topics and no scope keys (outside Mercure,
// only tokens without a store, user or strategy scope see them); the data keeps the rest of what a
// Mercure subscriber needs to get the update back exactly as it was published.

export const MERCURE_UPDATE = 'mercure.update';

/** The JWT algorithms a hub verifies Mercure tokens with: an HMAC secret, or an RSA public key. */
export const MERCURE_ALGS = ['HS256', 'RS256'] as const;
export type MercureAlg = (typeof MERCURE_ALGS)[number];

/** The `data` of a `mercure.update` event: the update as the publisher sent it, but its topics. */
export const mercureUpdateData = z.looseObject({
  /** The update's id, sent as the SSE `id` (the publisher's, or a generated `urn:uuid:`). */
  id: z.string().min(1),
  /** The new version of the topic, any text; delivered over as many `data:` lines as it has lines. */
  data: z.string(),
  /** Private updates reach only subscribers whose token's `mercure.subscribe` matches a topic. */
  private: z.boolean(),
  /** The SSE `event` field, when the publisher gave one. */
  type: z.string().optional(),
  /** The SSE `retry` field (ms), when the publisher gave one. */
  retry: z.number().int().nonnegative().optional(),
});
export type MercureUpdateData = z.infer<typeof mercureUpdateData>;

const MAX_SUMMARY_DATA = 80;

/** "private https://example.com/books/1 (+1): {"title":…" — its topics first, then the start of the data. */
function summarize(d: Record<string, unknown>, ev: { topics?: readonly string[] }): string {
  const topics = ev.topics ?? [];
  const text = str(d.data).replace(/\s+/g, ' ').trim();
  const head = `${d.private ? 'private ' : ''}${topics[0] ?? '(no topic)'}${topics.length > 1 ? ` (+${topics.length - 1})` : ''}`;
  return text ? `${head}: ${text.length > MAX_SUMMARY_DATA ? `${text.slice(0, MAX_SUMMARY_DATA - 1)}…` : text}` : head;
}

export const mercure = defineDomain({
  name: 'mercure',
  types: { [MERCURE_UPDATE]: mercureUpdateData },
  requiredKeys: [],
  kinds: {},
  // Updates are history: subscribers follow them on /.well-known/mercure, the hub keeps no state of them.
  state: { [MERCURE_UPDATE]: null },
  summary: { [MERCURE_UPDATE]: summarize },
  colour: '35',
});
