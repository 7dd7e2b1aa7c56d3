import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { hubFetch, type HttpOptions } from '../client/index.ts';
import type { HubEvent } from '../../shared/events.ts';
import type { TokenScope } from '../../shared/scope.ts';
import type { CreatedWebhook, WebhookEndpoint } from '../../shared/webhooks.ts';
import type { DemoLog } from './runtime.ts';


const MAX_BODY_BYTES = 1024 * 1024;
/** Webhook ids remembered for deduplication; deliveries to one endpoint are in log order, so old ids do not come back. */
const MAX_SEEN = 10_000;

/** An outcome's event id derived from the action's, so a repeated answer is a duplicate in the log. */
export const outcomeId = (actionId: string, what: string) => (actionId.length + what.length < 128 ? `${actionId}~${what}` : undefined);

export interface Receiver {
  url: string;
  endpointId: string;
  /** Remove the endpoint from the hub, then stop listening. */
  stop(): Promise<void>;
}

export interface ReceiverOptions {
  admin: HttpOptions;
  types: string[];
  scope: TokenScope;
  /** Tells this backend's endpoint apart in `relaydesk webhooks list` (and a stale one from a killed demo). */
  description: string;
  /** Applies one event; called once per webhook-id, and must not throw. */
  handle(event: HubEvent): void;
  log: DemoLog;
}

/**
 * A backend's webhook endpoint, written as a user would write one: a plain HTTP server that checks
 * every request with the Standard Webhooks library (401 otherwise) and applies each webhook-id once
 * (a redelivery after a lost answer is acknowledged, not applied again).
 */
export async function startReceiver(o: ReceiverOptions): Promise<Receiver> {
  let wh: Webhook | null = null;
  const seen = new Set<string>();
  const server: Server = createServer((req, res) => {
    const answer = (status: number, text: string) => res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
    if (req.method !== 'POST') return answer(405, 'POST only');
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        answer(413, 'body too large');
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return;
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      let msg: { type: string; data: HubEvent };
      try {
        if (!wh) throw new Error('not registered yet');
        msg = wh.verify(Buffer.concat(chunks).toString('utf8'), headers) as typeof msg;
      } catch {
        o.log.warn(`demo: refused a webhook request that failed verification (webhook-id ${headers['webhook-id'] ?? 'missing'})`);
        return answer(401, 'bad signature');
      }
      const id = headers['webhook-id']!;
      if (!seen.has(id)) {
        if (msg.data && typeof msg.data === 'object' && typeof msg.data.type === 'string') o.handle(msg.data);
        seen.add(id);
        if (seen.size > MAX_SEEN) seen.delete(seen.values().next().value!);
      }
      answer(200, 'ok');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  const close = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  let endpointId: string;
  try {
    // An endpoint left behind by a demo that was killed points at a port nobody listens on: remove it.
    const { webhooks } = await hubFetch<{ webhooks: WebhookEndpoint[] }>(o.admin, 'GET', '/v1/webhooks');
    for (const w of webhooks.filter((x) => x.description === o.description))
      await hubFetch(o.admin, 'DELETE', `/v1/webhooks/${w.id}`).catch(() => {});
    const created = await hubFetch<CreatedWebhook>(o.admin, 'POST', '/v1/webhooks', { url, types: o.types, scope: o.scope, description: o.description });
    wh = new Webhook(created.secret);
    endpointId = created.id;
  } catch (err) {
    await close();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    url,
    endpointId,
    stop: () =>
      (stopping ??= (async () => {
        await hubFetch(o.admin, 'DELETE', `/v1/webhooks/${endpointId}`).catch((err: Error) => o.log.warn(`demo: could not remove webhook ${endpointId}: ${err.message}`));
        await close();
      })()),
  };
}
