import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  type: string;
  data: Record<string, unknown>;
  verified: boolean;
}

/**
 * A backend's webhook endpoint as a user writes one: real HTTP, verification with the Standard
 * Webhooks library, and idempotency by webhook-id (a redelivery is acknowledged, not applied twice).
 */
export class WebhookReceiver {
  /** Every request, in arrival order, including rejected and repeated ones. */
  readonly requests: { id: string; verified: boolean; status: number }[] = [];
  /** What the backend applied: each webhook-id once, in order. */
  readonly applied: Received[] = [];
  private readonly seen = new Set<string>();
  /** Status to answer with (after verifying); 200 by default. */
  status = 200;
  /** Delay before answering, to keep deliveries in flight. */
  delayMs = 0;
  private server: Server | null = null;
  port = 0;

  constructor(private secret: string) {}

  setSecret(s: string): void {
    this.secret = s;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async listen(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        let msg: { type: string; data: Record<string, unknown> } | null = null;
        try {
          msg = new Webhook(this.secret).verify(body, headers) as { type: string; data: Record<string, unknown> };
        } catch {
          msg = null;
        }
        const id = headers['webhook-id'] ?? '';
        const answer = () => {
          const status = msg ? this.status : 401;
          this.requests.push({ id, verified: !!msg, status });
          if (msg && status < 300 && !this.seen.has(id)) {
            this.seen.add(id);
            this.applied.push({ id, type: msg.type, data: msg.data, verified: true });
          }
          res.writeHead(status, { 'content-type': 'text/plain' }).end(msg ? 'ok' : 'bad signature');
        };
        if (this.delayMs) setTimeout(answer, this.delayMs);
        else answer();
      });
    });
    await new Promise<void>((res, rej) => {
      this.server!.once('error', rej);
      this.server!.listen(port, '127.0.0.1', () => res());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((res) => s.close(() => res()));
  }
}
