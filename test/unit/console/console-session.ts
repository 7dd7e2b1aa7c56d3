import { EventSource } from 'eventsource';
import type { EventSourceFactory } from '../../../renderer/stream/client.ts';
import { api } from '../../helpers/hub.ts';

/**
 * Sign in the way the console does (a one-time login link; the hub answers with its session cookie)
 * and open streams that carry that cookie, as the page's EventSource would. Uses the real
 * `eventsource` package, whose fetch hook is where a browser would attach the cookie.
 */
export async function consoleSession(hubUrl: string, role: 'subscriber' | 'operator' | 'admin', scope: Record<string, unknown> = {}) {
  const created = await api(hubUrl, '/v1/tokens', { body: { role, scope, label: `console ${role}` } });
  if (created.status !== 201) throw new Error(`token create failed: ${created.status}`);
  const link = await api(hubUrl, `/v1/tokens/${created.body.id}/login-url`, { method: 'POST' });
  const res = await fetch(link.body.url as string, { redirect: 'manual' });
  const cookie = res.headers.getSetCookie()[0]?.split(';')[0];
  if (res.status !== 303 || !cookie) throw new Error(`login link answered ${res.status}`);
  return { tokenId: created.body.id as string, cookie, ...withCookie(cookie) };
}

export function withCookie(cookie: string) {
  const opened: string[] = [];
  const eventSource: EventSourceFactory = (url) => {
    opened.push(url);
    return new EventSource(url, {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), cookie } }),
    }) as unknown as ReturnType<EventSourceFactory>;
  };
  return { eventSource, opened, get: (url: string) => fetch(url, { headers: { cookie } }) };
}
