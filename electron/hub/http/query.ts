import { z } from 'zod';
import { badRequest } from '../errors.ts';
import { scopeKey } from '../../../shared/scope.ts';
import { TYPE_FILTER_PATTERN } from '../../../shared/events.ts';

/** A query parameter that may repeat (`?strategy_id=1&strategy_id=2`) or be comma-separated. */
export const repeated = (item: z.ZodType<string, string | number>) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).filter((s) => s !== ''))
    .pipe(z.array(item as z.ZodType<string, string>).max(100, 'at most 100 values'));

export const scopeList = repeated(scopeKey);
export const typeList = repeated(z.string().regex(TYPE_FILTER_PATTERN, 'must be a type like trading.order.created or a prefix like trading.*'));
export const seqParam = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a non-negative integer sequence number')
  .transform(Number);
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
