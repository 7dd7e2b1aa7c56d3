import { routes, type OperationId } from '../../shared/api/routes.ts';
import { answerSchema } from '../../shared/api/answer.ts';
import { errorBodySchema } from '../../shared/api.ts';

// Every answer the integration tests receive through api() is held to the API contract: a 2xx body
// must parse with its operation's schema and an error body with the shared error schema, so a
// response that drifts from shared/api fails the test that saw it, whatever that test was about.

const table = (Object.keys(routes) as OperationId[])
  .map((id) => ({ id, method: routes[id].method, params: (routes[id].url.match(/:/g) ?? []).length, re: new RegExp(`^${routes[id].url.replace(/:[A-Za-z_]+/g, '[^/]+')}$`) }))
  // A literal path (/v1/webhooks/dead) is preferred over a parameter (/v1/webhooks/:id).
  .sort((a, b) => a.params - b.params);

export function operationFor(method: string, path: string): OperationId | null {
  const p = path.split('?')[0]!;
  return table.find((r) => r.method === method && r.re.test(p))?.id ?? null;
}

/** Throws when `body` is not what the contract says `METHOD path` answers with `status`. */
export function checkContract(method: string, path: string, status: number, body: unknown, contentType: string | null): void {
  if (!contentType?.includes('application/json')) return;
  const id = operationFor(method, path);
  // A status the operation declares itself (health's 503 while draining) has its own schema.
  const declared = id ? (routes[id].response as Record<number, unknown>)[status] : undefined;
  if (status >= 400 && !(declared && '_zod' in (declared as object))) {
    const r = errorBodySchema.safeParse(body);
    if (!r.success) throw new Error(`${method} ${path} answered ${status} with a body that is not the error body: ${r.error.message}`);
    return;
  }
  const schema = declared && '_zod' in (declared as object) ? (declared as typeof errorBodySchema) : id && status < 300 ? answerSchema(id) : null;
  if (!schema) return;
  const r = schema.safeParse(body);
  if (!r.success) throw new Error(`${method} ${path} (${id}) answered ${status} with a body its contract does not describe: ${r.error.message}`);
}
