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

/** GET a JSON resource from the hub; errors carry the hub's own message. */
export async function hubGet<T = unknown>(conn: HubConnection, path: string, signal?: AbortSignal): Promise<T> {
  return readAnswer<T>(await fetch(conn.base + path, { credentials: 'same-origin', cache: 'no-store', signal }));
}

/** POST JSON to the hub (the session cookie authenticates it). */
export async function hubPost<T = unknown>(conn: HubConnection, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  return readAnswer<T>(
    await fetch(conn.base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      credentials: 'same-origin',
      cache: 'no-store',
      body: JSON.stringify(body),
      signal,
    }),
  );
}

/** The stream URL (EventSource sends the session cookie of its origin by itself). */
export function streamUrl(conn: HubConnection, params: Record<string, string>): string {
  return `${conn.base}/v1/stream?${new URLSearchParams(params).toString()}`;
}
