import type { z } from 'zod';
import { badRequest } from '../errors.ts';
import type { SeqPage } from '../log.ts';

// The query building blocks are part of the API contract (shared/api/query.ts); re-exported for
// the hub modules that import them from here.
export { repeated, scopeList, topicList, typeList, seqParam, pagingParams, boolParam } from '../../../shared/api/query.ts';

export function seqPage(q: { cursor?: number; limit?: number; order?: 'asc' | 'desc' }, defaultLimit: number): SeqPage {
  const order = q.order ?? 'desc';
  const limit = q.limit ?? defaultLimit;
  return { limit, order, ...(q.cursor !== undefined ? (order === 'asc' ? { after: q.cursor } : { before: q.cursor }) : {}) };
}

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
