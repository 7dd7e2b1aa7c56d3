import { z } from 'zod';
import { scopeKey } from '../scope.ts';
import { TYPE_FILTER_PATTERN } from '../events.ts';
import { topicSelectorSchema, MAX_TOPIC_SELECTORS } from '../topic-selector.ts';

// Query-string building blocks. A query string carries only strings, so numbers and booleans are
// parsed from text here, and the schemas describe what a client sends (strings) in the API document.

/**
 * A query parameter that may repeat (`?strategy_id=1&strategy_id=2`) or be comma-separated. With
 * `commas: false` each value is taken whole (and an empty one is kept, for the item schema to refuse).
 */
export const repeated = (item: z.ZodType<string, string | number>, { commas = true, max = 100 }: { commas?: boolean; max?: number } = {}) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v) => {
      const list = Array.isArray(v) ? v : [v];
      return commas ? list.flatMap((s) => s.split(',')).filter((s) => s !== '') : list;
    })
    .pipe(z.array(item as z.ZodType<string, string>).max(max, `at most ${max} values`));

export const scopeList = repeated(scopeKey).meta({ description: 'One or more scope keys: repeat the parameter or separate with commas.' });
/** Topic selectors: repeated, never split on commas (a URI or a template may hold one). */
export const topicList = repeated(topicSelectorSchema, { commas: false, max: MAX_TOPIC_SELECTORS }).meta({
  description: 'Topics or topic templates the events must match: repeat the parameter.',
});
export const typeList = repeated(z.string().regex(TYPE_FILTER_PATTERN, 'must be a type like trading.order.created or a prefix like trading.*')).meta({
  description: 'Event types or prefixes (`trading.*`): repeat the parameter or separate with commas.',
});
export const seqParam = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a non-negative integer sequence number')
  .transform(Number);

/**
 * Cursor paging, the one scheme of GET /v1/events and GET /v1/state: `cursor` is the `next_cursor` of
 * the previous page (a seq, exclusive), `order` defaults to newest first, `limit` is bounded.
 */
export const pagingParams = (maxLimit: number) => ({
  cursor: seqParam.optional().meta({ description: 'The `next_cursor` of the previous page.' }),
  limit: z
    .string()
    .regex(/^\d+$/, 'must be an integer')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(maxLimit, `must be at most ${maxLimit}`))
    .optional()
    .meta({ description: `Rows per page, 1 to ${maxLimit}.` }),
  order: z.enum(['asc', 'desc']).optional().meta({ description: 'Newest first (desc, the default) or oldest first.' }),
});

export const boolParam = z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true');

/** A route that takes no query parameters: any one sent is named as unknown. */
export const noQuery = z.object({}).strict();
