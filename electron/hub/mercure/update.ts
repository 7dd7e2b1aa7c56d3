import { randomUUID } from 'node:crypto';
import type { FieldError, HubEvent, ValidEvent } from '../../../shared/events.ts';
import { MERCURE_UPDATE, mercureUpdateData, type MercureUpdateData } from '../../../shared/domains/mercure.ts';
import { MAX_TOPICS_PER_EVENT, topicProblem } from '../../../shared/topic-selector.ts';
import { HubError } from '../errors.ts';

/** An update as the Mercure protocol knows it: the event's data and topics (the first canonical). */
export type MercureUpdate = MercureUpdateData & { topics: string[] };

/** Topics under this path are the hub's own (subscription events); publishers may not forge them. */
export const RESERVED_PATH = '/.well-known/mercure';

/** The id a subscriber sends to get every update the log still holds. */
export const EARLIEST = 'earliest';

const MAX_ID_LENGTH = 1024;
const MAX_TYPE_LENGTH = 256;
// An SSE field cannot hold a line break, and a NUL makes EventSource ignore an id.
// eslint-disable-next-line no-control-regex
const FIELD_BREAKERS = /[\r\n\u0000]/;

const bad = (message: string, path: string, reason: string) => new HubError(400, 'invalid_request', message, [{ path, reason }]);

/** Whether a topic, resolved against any http(s) base, lands in the hub's reserved namespace. */
export function isReservedTopic(topic: string): boolean {
  let path: string;
  try {
    path = new URL(topic, 'http://hub.invalid').pathname;
  } catch {
    return false;
  }
  return path === RESERVED_PATH || path.startsWith(`${RESERVED_PATH}/`);
}

/**
 * A publish request's form (application/x-www-form-urlencoded) as an update: `topic` (repeatable,
 * the first is canonical), `data`, `private`, `id`, `type`, `retry`. Every bad field is a 400
 * naming it; a reserved topic is a 403.
 */
export function parsePublishForm(form: URLSearchParams): MercureUpdate {
  const allowed = new Set(['topic', 'data', 'private', 'id', 'type', 'retry']);
  const unknown = [...new Set(form.keys())].filter((k) => !allowed.has(k));
  if (unknown.length)
    throw new HubError(400, 'invalid_request', `unknown field(s): ${unknown.join(', ')}`, unknown.map((k) => ({ path: k, reason: 'not a Mercure publish field (topic, data, private, id, type, retry)' })));
  for (const k of ['data', 'id', 'type', 'retry', 'private']) if (form.getAll(k).length > 1) throw bad(`"${k}" given more than once`, k, 'must appear at most once');

  // A topic repeated is the same topic; the first occurrence stays canonical.
  const topics = [...new Set(form.getAll('topic'))];
  if (!topics.length) throw bad('missing "topic"', 'topic', 'required (repeat it for alternate topics)');
  if (topics.length > MAX_TOPICS_PER_EVENT) throw bad(`at most ${MAX_TOPICS_PER_EVENT} topics per update`, 'topic', `${topics.length} topics`);
  const problems: FieldError[] = [];
  topics.forEach((t, i) => {
    const p = topicProblem(t);
    if (p) problems.push({ path: `topic.${i}`, reason: p });
  });
  if (problems.length) throw new HubError(400, 'invalid_request', 'invalid topic', problems);
  const reserved = topics.findIndex(isReservedTopic);
  if (reserved !== -1)
    throw new HubError(403, 'forbidden', `topic "${topics[reserved]}" is in the hub's reserved namespace ${RESERVED_PATH}`, [
      { path: `topic.${reserved}`, reason: `${RESERVED_PATH} topics are published by the hub only` },
    ]);

  const id = form.get('id') ?? undefined;
  if (id !== undefined) {
    if (id === '') throw bad('"id" is empty', 'id', 'must not be empty (leave it out to get a generated one)');
    if (id.length > MAX_ID_LENGTH) throw bad('"id" is too long', 'id', `must be at most ${MAX_ID_LENGTH} characters`);
    if (FIELD_BREAKERS.test(id)) throw bad('"id" holds a line break or NUL', 'id', 'must not contain CR, LF or NUL');
    if (id.startsWith('#')) throw bad('"id" starts with "#"', 'id', 'must not start with "#" (reserved for ids the hub makes)');
    if (id === EARLIEST) throw bad('"id" is reserved', 'id', `"${EARLIEST}" is the reserved value that asks for the whole history`);
  }
  const type = form.get('type') || undefined;
  if (type !== undefined) {
    if (type.length > MAX_TYPE_LENGTH) throw bad('"type" is too long', 'type', `must be at most ${MAX_TYPE_LENGTH} characters`);
    if (FIELD_BREAKERS.test(type)) throw bad('"type" holds a line break or NUL', 'type', 'must not contain CR, LF or NUL');
  }
  const retryText = form.get('retry') || undefined;
  let retry: number | undefined;
  if (retryText !== undefined) {
    if (!/^\d{1,15}$/.test(retryText)) throw bad('"retry" is not a number of milliseconds', 'retry', 'must be a non-negative integer');
    retry = Number(retryText);
  }
  return {
    id: id ?? `urn:uuid:${randomUUID()}`,
    topics,
    data: form.get('data') ?? '',
    private: form.has('private'),
    ...(type !== undefined ? { type } : {}),
    ...(retry !== undefined ? { retry } : {}),
  };
}

/**
 * The event the log stores for an update: no scope keys, so only unscoped tokens see it in history.
 * The log numbers it (`#<seq>`): an update id is the publisher's revision id, not an idempotency key,
 * and Mercure hubs take the same id twice (the newest one is where a subscriber resumes).
 */
export function updateEvent({ topics, ...data }: MercureUpdate): ValidEvent {
  return {
    type: MERCURE_UPDATE,
    data,
    topics,
    store_id: null,
    user_id: null,
    strategy_id: null,
    priority: 'normal',
    time: null,
  };
}

/**
 * The update an event carries, or null when it is not one. Only hub-written shapes count: a
 * `mercure.update` under scope keys did not come through the Mercure endpoint.
 */
export function updateOf(e: HubEvent): MercureUpdate | null {
  if (e.type !== MERCURE_UPDATE || e.store_id !== null || e.user_id !== null || e.strategy_id !== null || e.tenant_id !== undefined || !e.topics?.length) return null;
  const r = mercureUpdateData.safeParse(e.data);
  return r.success ? { ...r.data, topics: e.topics } : null;
}

/**
 * The SSE frame of an update. The data goes out over as many `data:` lines as it has lines (blank
 * ones too), which EventSource joins back with LF; CR LF and lone CR are line ends to EventSource
 * as well, so they are split the same way. Id and type were checked free of line breaks at publish.
 */
export function updateFrame(u: Pick<MercureUpdate, 'id' | 'data' | 'type' | 'retry'>): string {
  let out = '';
  if (u.type) out += `event: ${u.type}\n`;
  if (u.retry !== undefined) out += `retry: ${u.retry}\n`;
  out += `id: ${u.id}\n`;
  for (const line of u.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return out + '\n';
}
