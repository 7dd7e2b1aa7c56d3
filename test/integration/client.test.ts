import { describe, it, expect, afterEach } from 'vitest';
import { Publisher, BufferFullError, PublishRejectedError, PublisherClosedError, NetworkError, backoffDelay, hubFetch, type PublishAck } from '../../electron/client/index.ts';
import { startTestHub, createToken, sleep, until, type TestHub, allEvents, freePort, api, ADMIN } from '../helpers/hub.ts';
import { startClosingProxy, type ClosingProxy } from '../helpers/closing-proxy.ts';



const hubs: TestHub[] = [];
const clients: Publisher[] = [];
const proxies: ClosingProxy[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close(1_000).catch(() => {});
  for (const p of proxies.splice(0)) await p.close();
  for (const h of hubs.splice(0)) await h.stop();
});
const hubUp = async (opts = {}) => {
  const h = await startTestHub(opts);
  hubs.push(h);
  return h;
};
const client = (o: ConstructorParameters<typeof Publisher>[0]) => {
  const c = new Publisher(o);
  clients.push(c);
  return c;
};

describe('Publisher client', () => {
  it('batches by size and linger, types events from shared, and flush() waits for every ack', async () => {
    const t = await hubUp();
    const token = await createToken(t.url, 'publisher');
    const c = client({ url: t.url, token, batchSize: 100, lingerMs: 30 });
    const acks: Promise<PublishAck>[] = [];
    for (let i = 0; i < 250; i++)
      acks.push(c.publish('store.order.created', { order_id: i, table_id: 3, items: [{ name: 'Bibimbap', quantity: 1, price: 12000 }], total: 12000 }, { store_id: 12 }));
    acks.push(c.publish('trading.order.batch', { summaries: [{ order_type: 'LIMIT', created: 100 }] }, { user_id: 1, strategy_id: 2, priority: 'high' }));
    acks.push(c.publish('x.deploy.finished', { service: 'api', ok: true }));
    await c.flush();
    const res = await Promise.all(acks);
    expect(res.map((a) => a.seq)).toEqual(res.map((_, i) => i + 1));
    expect(res.every((a) => !a.duplicate)).toBe(true);
    const s = c.stats();
    expect(s).toMatchObject({ bufferedEvents: 0, bufferedBytes: 0, sent: 252, retries: 0 });
    expect(s.requests).toBe(3); // 100 + 100 + 52 (the rest waited out the linger)
    const stored = await allEvents(t.url);
    expect(stored).toHaveLength(252);
    // Data is stored as the client sent it (numeric ids, no defaults added); scope keys are normalized.
    expect(stored[0]).toMatchObject({ type: 'store.order.created', store_id: '12', data: { order_id: 0, table_id: 3, items: [{ name: 'Bibimbap', quantity: 1, price: 12000 }], total: 12000 } });
    expect(stored[0]!.data).not.toHaveProperty('status');
    expect(stored[250]).toMatchObject({ type: 'trading.order.batch', priority: 'high', data: { summaries: [{ order_type: 'LIMIT', created: 100 }] } });
  });

  it('never duplicates across a hub restart mid-stream: every id stored exactly once, in order', async () => {
    const t = await hubUp();
    const token = await createToken(t.url, 'publisher');
    const retries: string[] = [];
    const c = client({ url: t.url, token, batchSize: 50, lingerMs: 5, retry: { initialMs: 50, maxMs: 500 }, onRetry: (r) => retries.push(r.error.message) });
    const acks: Promise<PublishAck>[] = [];
    const N = 3000;
    let restarted = false;
    for (let i = 0; i < N; i++) {
      acks.push(c.publish('x.load.tick', { i }, { id: `tick-${i}` }));
      if (i % 100 === 99) await sleep(5);
      if (i === 1500) {
        // Restart while batches are in flight; the client keeps queuing meanwhile.
        void t.restart().then(() => (restarted = true));
      }
    }
    await c.flush(30_000);
    await until(() => restarted, 'restart done');
    const res = await Promise.all(acks);
    expect(res).toHaveLength(N);
    const stored = (await allEvents(t.url)).filter((e) => e.type === 'x.load.tick');
    expect(stored).toHaveLength(N);
    expect(new Set(stored.map((e) => e.id)).size).toBe(N);
    expect(stored.map((e) => e.data.i)).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(c.stats().retries).toBeGreaterThan(0);
    expect(retries.length).toBeGreaterThan(0);
  });

  it('a request stored by the hub whose answer was lost is retried with the same ids: duplicate, not a second copy', async () => {
    const t = await hubUp();
    const token = await createToken(t.url, 'publisher');
    let calls = 0;
    // The first response is "lost on the wire" after the hub committed it.
    const lossy: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (++calls === 1) {
        await res.text();
        throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET', message: 'socket hang up' } });
      }
      return res;
    };
    const c = client({ url: t.url, token, fetch: lossy, retry: { initialMs: 20, maxMs: 50 } });
    const acks = await Promise.all(Array.from({ length: 10 }, (_, i) => c.publish('x.pay.captured', { i })));
    expect(calls).toBe(2);
    expect(acks.every((a) => a.duplicate)).toBe(true);
    expect(c.stats()).toMatchObject({ retries: 1, duplicates: 10, sent: 10 });
    const stored = await allEvents(t.url);
    expect(stored).toHaveLength(10);
    expect(stored.map((e) => e.id)).toEqual(acks.map((a) => a.id));
  });

  it('a batch whose kept-alive connection is closed under it is sent again with the same ids: each event stored once', async () => {
    const t = await hubUp();
    const token = await createToken(t.url, 'publisher');
    const proxy = await startClosingProxy(t.url);
    proxies.push(proxy);
    const c = client({ url: proxy.url, token, lingerMs: 1, retry: { initialMs: 20, maxMs: 50 } });
    // One at a time, so each batch after the first goes out on a kept-alive socket, which the proxy
    // closes under it ("other side closed").
    const acks: PublishAck[] = [];
    for (let n = 1; n <= 4; n++) acks.push(await c.publish('x.pay.captured', { n }, n === 4 ? { id: 'pay-4' } : {}));
    expect(proxy.closedUnderRequest).toBeGreaterThanOrEqual(1);
    expect(c.stats()).toMatchObject({ sent: 4, rejected: 0, bufferedEvents: 0 });
    expect(c.stats().retries).toBe(proxy.closedUnderRequest);
    const stored = await allEvents(t.url);
    expect(stored.map((e) => e.id)).toEqual(acks.map((a) => a.id));
    expect(stored.map((e) => e.data.n)).toEqual([1, 2, 3, 4]);
  });

  it('hubFetch sends an idempotent request again when its kept-alive connection is closed under it, but never a POST', async () => {
    const t = await hubUp();
    const proxy = await startClosingProxy(t.url);
    proxies.push(proxy);
    const admin = { url: proxy.url, token: ADMIN };
    // Each GET after the first reuses a kept-alive socket, which the proxy closes: sent once more on a fresh connection.
    for (let i = 0; i < 4; i++) expect((await hubFetch<{ head_seq: number }>(admin, 'GET', '/v1/stats')).head_seq).toBe(0);
    expect(proxy.closedUnderRequest).toBeGreaterThanOrEqual(1);

    // A POST may have been acted on: the caller learns of the failure instead of a blind second copy.
    const closedBefore = proxy.closedUnderRequest;
    const outcomes: unknown[] = [];
    for (let i = 0; i < 4; i++) outcomes.push(await hubFetch(admin, 'POST', '/v1/tokens', { role: 'subscriber', label: `post-${i}`, scope: {} }).catch((e: unknown) => e));
    const failed = outcomes.flatMap((o, i) => (o instanceof NetworkError ? [i] : []));
    expect(failed.length).toBe(proxy.closedUnderRequest - closedBefore);
    expect(failed.length).toBeGreaterThanOrEqual(1);
    for (const i of failed) expect((outcomes[i] as NetworkError).causeCode).toMatch(/^(UND_ERR_SOCKET|ECONNRESET|EPIPE)$/);
    const labels = (await api(t.url, '/v1/tokens')).body.tokens.map((x: { label: string | null }) => x.label);
    expect(labels.filter((l: string | null) => l?.startsWith('post-')).sort()).toEqual([0, 1, 2, 3].filter((i) => !failed.includes(i)).map((i) => `post-${i}`));
  });

  it('buffers while the console is closed, then delivers once it starts: each event once', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const c = client({ url, token: 'test-admin-token', batchSize: 10, lingerMs: 5, retry: { initialMs: 50, maxMs: 300 } });
    const acks = Array.from({ length: 25 }, (_, i) => c.publish('mail.email.new', { email_id: i, from: 'a@example.com', subject: `s${i}` }, { user_id: 1 }));
    await until(() => c.stats().retries >= 3, 'retries against the closed port');
    expect(c.stats()).toMatchObject({ bufferedEvents: 25, sent: 0 });
    const t = await hubUp({ port });
    const res = await Promise.all(acks);
    expect(res.map((a) => a.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    const stored = await allEvents(t.url);
    expect(stored.map((e) => e.data.email_id)).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });

  it('throws BufferFullError when the local buffer is full (events or bytes), without dropping what it holds', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const c = client({ url, token: 'x', maxBufferEvents: 5, retry: { initialMs: 1_000, maxMs: 1_000 } });
    for (let i = 0; i < 5; i++) void c.publish('x.a.b', { i });
    let err: unknown;
    try {
      void c.publish('x.a.b', { i: 5 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BufferFullError);
    expect((err as BufferFullError).bufferedEvents).toBe(5);
    expect((err as BufferFullError).message).toMatch(/publisher buffer full \(5\/5 events/);
    expect(c.stats().bufferedEvents).toBe(5);

    const small = client({ url, token: 'x', maxBufferBytes: 2_000, retry: { initialMs: 1_000, maxMs: 1_000 } });
    void small.publish('x.a.b', { blob: 'x'.repeat(1_500) });
    expect(() => small.publish('x.a.b', { blob: 'y'.repeat(600) })).toThrow(BufferFullError);
    expect(() => small.publish('x.a.b', { n: 1 })).not.toThrow();

    // close() gives up after its timeout and rejects what is left, instead of hanging.
    const closed = await c.close(200);
    expect(closed.unsent).toBe(5);
    expect(() => c.publish('x.a.b', {})).toThrow(PublisherClosedError);
  });

  it('never retries a 4xx: invalid events are rejected with the hub\'s fields; the rest of the batch is stored', async () => {
    const t = await hubUp();
    const token = await createToken(t.url, 'publisher', { store_ids: ['12'] });
    // Local validation (default) refuses before anything is sent.
    const c = client({ url: t.url, token, lingerMs: 5 });
    expect(() => c.publish('store.order.created', { order_id: 1, items: [], total: 1 }, { store_id: 12 })).toThrow(PublishRejectedError);
    try {
      c.publish('mail.email.new', { email_id: 1, from: 'a@b', subject: 'x' }, {} as { user_id: string });
    } catch (e) {
      expect((e as PublishRejectedError).fields).toEqual([{ path: 'user_id', reason: 'required for mail.* events' }]);
    }

    // Without local validation the hub decides: 403 for the out-of-scope event only.
    const raw = client({ url: t.url, token, lingerMs: 20, validate: false });
    const ok1 = raw.send({ type: 'store.order.deleted', store_id: 12, data: { order_id: 'a' } });
    const bad = raw.send({ type: 'store.order.deleted', store_id: 13, data: { order_id: 'b' } });
    const ok2 = raw.send({ type: 'store.order.deleted', store_id: 12, data: { order_id: 'c' } });
    const badErr = await bad.then(
      () => null,
      (e: unknown) => e,
    );
    expect(badErr).toBeInstanceOf(PublishRejectedError);
    expect(badErr).toMatchObject({ status: 403, code: 'forbidden', fields: [{ path: 'store_id', reason: expect.stringContaining('outside') }] });
    await expect(ok1).resolves.toMatchObject({ duplicate: false });
    await expect(ok2).resolves.toMatchObject({ duplicate: false });
    expect(raw.stats()).toMatchObject({ retries: 0, rejected: 1, sent: 2 });
    const stored = await allEvents(t.url);
    expect(stored.map((e) => e.data.order_id)).toEqual(['a', 'c']);

    // A revoked token: 401, not retried, every event rejected.
    const errors: Error[] = [];
    const revoked = client({ url: t.url, token: 'unknown-token', onError: (e) => errors.push(e) });
    const p = revoked.publish('x.a.b', {});
    await expect(p).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    expect(errors).toHaveLength(1);
    expect(revoked.stats()).toMatchObject({ requests: 1, retries: 0 });
  });

  it('rejects only the event an id conflict names and stores the rest of its batch', async () => {
    const t = await hubUp();
    const token = await createToken(t.url, 'publisher');
    const c = client({ url: t.url, token, lingerMs: 20 });
    await c.publish('x.pay.captured', { amount: 1 }, { id: 'pay-1' });
    const before = c.stats().requests;
    const ok1 = c.publish('x.pay.captured', { amount: 2 }, { id: 'pay-2' });
    const conflict = c.publish('x.pay.captured', { amount: 999 }, { id: 'pay-1' }); // same id, different content
    const ok2 = c.publish('x.pay.captured', { amount: 3 }, { id: 'pay-3' });
    await expect(conflict).rejects.toMatchObject({ name: 'PublishRejectedError', status: 409, code: 'id_conflict', eventId: 'pay-1' });
    await expect(ok1).resolves.toMatchObject({ id: 'pay-2', duplicate: false });
    await expect(ok2).resolves.toMatchObject({ id: 'pay-3', duplicate: false });
    expect(c.stats().requests - before).toBe(2); // the refused batch (naming 1.id), then the rest resent
    expect((await allEvents(t.url)).map((e) => e.data.amount)).toEqual([1, 2, 3]);
  });

  it('retries 429 after the hub\'s Retry-After, and re-sending an id is reported as a duplicate', async () => {
    const t = await hubUp({ rateLimitPerSecond: 1 });
    const token = await createToken(t.url, 'publisher');
    const waits: number[] = [];
    const c = client({ url: t.url, token, batchSize: 1, lingerMs: 0, retry: { initialMs: 10, maxMs: 5_000 }, onRetry: (r) => waits.push(r.delayMs) });
    const started = Date.now();
    const acks = await Promise.all([c.publish('x.a.b', { n: 1 }, { id: 'same' }), c.publish('x.a.b', { n: 2 }), c.publish('x.a.b', { n: 3 }), c.publish('x.a.b', { n: 1 }, { id: 'same' })]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(waits.length).toBeGreaterThan(0);
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(1_000); // Retry-After: 1
    expect(acks[3]).toMatchObject({ id: 'same', duplicate: true, seq: acks[0]!.seq });
    expect((await allEvents(t.url)).length).toBe(3);
  });

  it('backoff grows exponentially with jitter and respects the ceiling', () => {
    const lo = () => 0;
    const hi = () => 0.999;
    expect(backoffDelay(0, { initialMs: 100, maxMs: 10_000 }, null, lo)).toBe(50);
    expect(backoffDelay(3, { initialMs: 100, maxMs: 10_000 }, null, lo)).toBe(400);
    expect(backoffDelay(3, { initialMs: 100, maxMs: 10_000 }, null, hi)).toBeCloseTo(800, -1);
    expect(backoffDelay(20, { initialMs: 100, maxMs: 10_000 }, null, hi)).toBeLessThanOrEqual(10_000);
    expect(backoffDelay(0, { initialMs: 100, maxMs: 10_000 }, 3_000, lo)).toBe(3_000);
  });
});

/** Compile-time checks (run by `tsc`, never executed): data and scope keys are typed from shared/. */
export function _typeChecks(c: Publisher): void {
  const items = [{ name: 'Bibimbap', quantity: 1 }];
  void c.publish('store.order.created', { order_id: 1, items, total: 1 }, { store_id: 12 });
  // @ts-expect-error store.* events need store_id
  void c.publish('store.order.created', { order_id: 1, items, total: 1 }, {});
  // @ts-expect-error total must be a number
  void c.publish('store.order.created', { order_id: 1, items, total: '1' }, { store_id: 12 });
  // @ts-expect-error trading.* events need user_id and strategy_id
  void c.publish('trading.order.batch', { summaries: [{ order_type: 'LIMIT' }] }, { user_id: 1 });
  // @ts-expect-error unknown side
  void c.publish('trading.order.created', { order_id: 1, symbol: 'BTC', side: 'HOLD', order_type: 'LIMIT', quantity: 1, status: 'NEW', account: { account_id: 1, name: 'a', exchange: 'b' } }, { user_id: 1, strategy_id: 1 });
  // @ts-expect-error types outside the known domains need the x. prefix
  void c.publish('billing.invoice.paid', {});
  void c.publish('x.billing.invoice_paid', { any: ['json'] });
}
