import { z } from 'zod';
import { publishEnvelope, MAX_BATCH } from '../events.ts';
import { parseEventId, streamEventModes } from '../wire.ts';
import { rfc3339Ms } from '../time.ts';
import { boolParam, pagingParams, scopeList, topicList, typeList } from './query.ts';

/**
 * POST /v1/events: one event or an array of up to MAX_BATCH (all or nothing); NDJSON is the same
 * array one event per line. The hub reads this body itself (exact numbers, gzip, per-type data
 * checks), so this schema documents it rather than parses it.
 */
export const publishBodySchema = z.union([publishEnvelope, z.array(publishEnvelope).min(1).max(MAX_BATCH)]).meta({
  description: `One event, or an array of 1 to ${MAX_BATCH} events stored all or nothing. \`data\` is checked against the type's schema for known types.`,
});

/** An RFC 3339 date-time with any offset, as the instant it names (ms since the epoch). */
const instant = z
  .string()
  .max(64, 'must be at most 64 characters')
  .transform((v, ctx) => {
    // An unencoded `+09:00` arrives as ` 09:00` (a query string's + is a space); the sign is meant.
    const ms = rfc3339Ms(v.replace(/ (\d{2}:\d{2})$/, '+$1'));
    if (ms === null) ctx.addIssue({ code: 'custom', message: 'must be an RFC 3339 date-time with an offset, like 2026-11-23T01:30:00+09:00 or 2026-11-22T16:30:00Z' });
    return ms ?? 0;
  })
  .meta({ description: 'An RFC 3339 date-time with an offset, like 2026-11-22T16:30:00Z.' });

/** What narrows the events of the history and of the stream, inside the caller's scope. */
const eventFilterParams = {
  store_id: scopeList.optional(),
  user_id: scopeList.optional(),
  strategy_id: scopeList.optional(),
  tenant_id: scopeList.optional(),
  topic: topicList.optional(),
  type: typeList.optional(),
};

/** GET /v1/events: the history within the caller's scope. */
export const historyQuerySchema = z
  .object({
    ...eventFilterParams,
    since: instant.optional(),
    until: instant.optional(),
    q: z.string().min(1).max(200).optional().meta({ description: 'Text the event JSON must contain.' }),
    ...pagingParams(1000),
  })
  .strict();

/** GET /v1/stream: the live stream (Server-Sent Events), optionally after a replay or a snapshot. */
export const streamQuerySchema = z
  .object({
    access_token: z.string().optional().meta({ description: 'The token, for a browser EventSource that cannot send an Authorization header.' }),
    ...eventFilterParams,
    snapshot: boolParam.optional().meta({ description: 'Send the current state (an `initial` frame) before the events.' }),
    lastEventId: z
      .string()
      .regex(/^\d{1,15}(@[A-Za-z0-9_-]{1,32})?$/, 'must be an event id sent by this hub (<seq> or <seq>@<epoch>)')
      .transform((v) => parseEventId(v)!)
      .optional()
      .meta({ description: 'Resume after this event id (as the Last-Event-ID header does).' }),
    events: z.enum(streamEventModes).optional().meta({ description: 'named (default): each event under its type; message: every event as `message`.' }),
  })
  .strict();

/** The body of GET /v1/stream, described for the API document (it is a stream of SSE frames). */
export const eventStreamSchema = z.string().meta({
  description:
    'text/event-stream: a `retry:` line, a `connection` frame, then (with snapshot=1 or after a reset) an `initial` frame, then one frame per event (id `<seq>@<epoch>`), with `heartbeat`, `reset`, `inbox` and `force-disconnect` control frames (shared/wire.ts).',
});
