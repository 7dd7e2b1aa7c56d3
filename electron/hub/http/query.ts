import { z } from 'zod';
import { badRequest } from '../errors.ts';
import { scopeKey } from '../../../shared/scope.ts';
import { TYPE_FILTER_PATTERN } from '../../../shared/events.ts';
import { topicSelectorSchema, MAX_TOPIC_SELECTORS } from '../../../shared/topic-selector.ts';
import type { SeqPage } from '../log.ts';

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

export const scopeList = repeated(scopeKey);
/** Topic selectors: repeated, never split on commas (a URI or a template may hold one). */
export const topicList = repeated(topicSelectorSchema, { commas: false, max: MAX_TOPIC_SELECTORS });
export const typeList = repeated(z.string().regex(TYPE_FILTER_PATTERN, 'must be a type like trading.order.created or a prefix like trading.*'));
export const seqParam = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a non-negative integer sequence number')
  .transform(Number);
/**
 * Cursor paging, the one scheme of GET /v1/events and GET /v1/state: `cursor` is the `next_cursor` of
 * the previous page (a seq, exclusive), `order` defaults to newest first, `limit` is bounded.
 */
export const pagingParams = (maxLimit: number) => ({
  cursor: seqParam.optional(),
  limit: z
    .string()
    .regex(/^\d+$/, 'must be an integer')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(maxLimit, `must be at most ${maxLimit}`))
    .optional(),
  order: z.enum(['asc', 'desc']).optional(),
});

export function seqPage(q: { cursor?: number; limit?: number; order?: 'asc' | 'desc' }, defaultLimit: number): SeqPage {
  const order = q.order ?? 'desc';
  const limit = q.limit ?? defaultLimit;
  return { limit, order, ...(q.cursor !== undefined ? (order === 'asc' ? { after: q.cursor } : { before: q.cursor }) : {}) };
}

export const boolParam = z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true');

/** Parse a query (or params/body) with a strict schema; unknown keys and bad values name the field. */
export function parseWith<T extends z.ZodTypeAny>(schema: T, input: unknown, where: string): z.output<T> {
  const r = schema.safeParse(input ?? {});
  if (r.success) return r.data;
  const fields = r.error.issues.flatMap((i) => {
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => ({ path: k, reason: `unknown ${where} parameter` }));
    return [{ path: i.path.map(String).join('.') || where, reason: i.message }];
  });
  throw badRequest(`invalid ${where}: ${fields.map((f) => `${f.path} ${f.reason}`).join('; ')}`, fields);
}
