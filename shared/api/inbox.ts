import { z } from 'zod';
import { priority } from '../events.ts';
import { INBOX_PAGE_MAX } from '../inbox.ts';
import { boolParam, pagingParams } from './query.ts';

const { cursor, limit } = pagingParams(INBOX_PAGE_MAX);

/** GET /v1/inbox: newest first, at or above `min_priority` (default high). */
export const inboxQuery = z
  .object({
    min_priority: priority.optional(),
    cursor,
    limit,
    dismissed: boolParam.optional().meta({ description: 'List the dismissed events instead.' }),
  })
  .strict();
