import { routes, type OperationId } from '../../shared/api/routes.ts';
import { checkAnswer, pathOf, queryOf, type AnswerOf } from '../../shared/api/answer.ts';

/**
 * Where the hub is. The console is always served by the hub it talks to (the browser opened a login
 * link on that hub; the desktop window loaded one), and the hub's HttpOnly session cookie
 * authenticates every request and the stream. So no token ever lives in JavaScript, in the page's
 * address or in the stream URL, in the browser and in the desktop window alike.
 */
export interface HubConnection {
  /** '' means the page's own origin; tests point it at a hub elsewhere. */
  base: string;
}

export const SAME_ORIGIN: HubConnection = { base: '' };

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The hub's JSON answer; a non-2xx becomes an HttpError carrying the hub's own message. */
async function readAnswer<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  if (!res.ok) throw new HttpError(res.status, (body as { error?: { message?: string } } | null)?.error?.message ?? `HTTP ${res.status}`);
  return body as T;
}

/**
 * Call one operation of the API contract (shared/api/routes.ts): the path is built from its
 * parameters and the answer is checked against the operation's schema before the console uses it.
 */
export async function hubCall<K extends OperationId>(
  conn: HubConnection,
  id: K,
  init: { params?: Record<string, string | number>; query?: Parameters<typeof queryOf>[0]; body?: unknown; signal?: AbortSignal } = {},
): Promise<AnswerOf<K>> {
  const res = await fetch(conn.base + pathOf(id, init.params) + queryOf(init.query), {
    method: routes[id].method,
    ...(init.body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(init.body) } : {}),
    credentials: 'same-origin',
    cache: 'no-store',
    signal: init.signal,
  });
  return checkAnswer(id, await readAnswer<unknown>(res));
}

/** The stream URL (EventSource sends the session cookie of its origin by itself). */
export function streamUrl(conn: HubConnection, params: Record<string, string>): string {
  return `${conn.base}/v1/stream?${new URLSearchParams(params).toString()}`;
}
