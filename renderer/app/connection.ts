import { connectionInfoSchema } from '../../shared/desktop-bridge.ts';

/**
 * Where the hub is and how to authenticate. The Electron preload hands us {hubUrl, token}; in the
 * browser the page is served by the hub itself and the HttpOnly session cookie does the work, so
 * no secret ever lives in JavaScript or the address bar.
 */
export interface HubConnection {
  /** '' means same origin. */
  base: string;
  token: string | null;
}

export async function resolveConnection(): Promise<HubConnection> {
  if (window.relaydesk) {
    const info = connectionInfoSchema.parse(await window.relaydesk.getConnection());
    return { base: info.hubUrl.replace(/\/+$/, ''), token: info.token };
  }
  return { base: '', token: null };
}

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

const authHeaders = (conn: HubConnection): Record<string, string> => (conn.token ? { authorization: `Bearer ${conn.token}` } : {});

/** GET a JSON resource from the hub; errors carry the hub's own message. */
export async function hubGet<T = unknown>(conn: HubConnection, path: string, signal?: AbortSignal): Promise<T> {
  return readAnswer<T>(await fetch(conn.base + path, { headers: authHeaders(conn), credentials: 'same-origin', cache: 'no-store', signal }));
}

/** POST JSON to the hub (the session cookie or the desktop token authenticates it). */
export async function hubPost<T = unknown>(conn: HubConnection, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  return readAnswer<T>(
    await fetch(conn.base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders(conn) },
      credentials: 'same-origin',
      cache: 'no-store',
      body: JSON.stringify(body),
      signal,
    }),
  );
}

/** The stream URL. EventSource cannot send headers, so the desktop token rides in `access_token`. */
export function streamUrl(conn: HubConnection, params: Record<string, string>): string {
  const q = new URLSearchParams(params);
  if (conn.token) q.set('access_token', conn.token);
  return `${conn.base}/v1/stream?${q.toString()}`;
}
