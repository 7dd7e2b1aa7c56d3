import type { z } from 'zod';
import { routes, type ContentResponse, type OperationId } from './routes.ts';

type Routes = typeof routes;
type SuccessStatus = 200 | 201 | 202;
type SuccessSchema<K extends OperationId> = {
  [S in keyof Routes[K]['response']]: S extends SuccessStatus ? Routes[K]['response'][S] : never;
}[keyof Routes[K]['response']];

/** What a successful call of operation K answers, as its contract says. */
export type AnswerOf<K extends OperationId> = SuccessSchema<K> extends z.ZodType ? z.output<SuccessSchema<K>> : unknown;

/** An answer the contract does not describe: a hub of another version, or a proxy in the way. */
export class ContractError extends Error {
  constructor(
    readonly operation: string,
    readonly issues: { path: string; reason: string }[],
  ) {
    super(`the hub's answer to ${operation} does not match the API contract: ${issues.map((i) => `${i.path || '(body)'} ${i.reason}`).join('; ')}`);
    this.name = 'ContractError';
  }
}

const isSchema = (v: z.ZodType | ContentResponse): v is z.ZodType => !('content' in v && 'description' in v && !('_zod' in v));

/** The JSON schema of an operation's success answer (null for one without a JSON body). */
export function answerSchema(id: OperationId): z.ZodType | null {
  for (const [status, s] of Object.entries(routes[id].response as Record<number, z.ZodType | ContentResponse>))
    if (Number(status) >= 200 && Number(status) < 300 && isSchema(s)) return s;
  return null;
}

/**
 * Check a hub answer against its operation's schema. The value is returned as the hub sent it, not
 * as zod rebuilt it: keys the schema does not name (an event's extra fields) are kept.
 */
export function checkAnswer<K extends OperationId>(id: K, value: unknown): AnswerOf<K> {
  const schema = answerSchema(id);
  if (schema) {
    const r = schema.safeParse(value);
    if (!r.success) throw new ContractError(id, r.error.issues.slice(0, 10).map((i) => ({ path: i.path.map(String).join('.'), reason: i.message })));
  }
  return value as AnswerOf<K>;
}

/** An operation's path with its parameters filled in: `pathOf('getAction', { action_id: 'a/1' })`. */
export function pathOf(id: OperationId, params: Record<string, string | number> = {}): string {
  return routes[id].url.replace(/:([A-Za-z_]+)/g, (_, name: string) => {
    const v = params[name];
    if (v === undefined) throw new Error(`${id} needs the path parameter ${name}`);
    return encodeURIComponent(String(v));
  });
}

/** A query string from optional values; lists repeat the parameter. Empty when nothing is set. */
export function queryOf(q: Record<string, string | number | boolean | readonly string[] | undefined> = {}): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) u.append(k, x);
    else u.append(k, String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : '';
}
