import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { api, allEvents, createToken, freePort, publish, until, ADMIN } from '../helpers/hub.ts';
import { spawnCliHub, type ChildHub } from '../helpers/reliability.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { CURSOR_BATCHING } from '../../electron/hub/webhooks/endpoints.ts';
import { sample } from '../helpers/events.ts';
import { cleanupAfterEach } from '../helpers/cleanup.ts';

const { later, hubWith } = cleanupAfterEach();


async function receiver(): Promise<WebhookReceiver> {
  const r = new WebhookReceiver('whsec_' + Buffer.alloc(32, 1).toString('base64'));
  later(() => r.close());
  return r;
}

async function addEndpoint(url: string, body: Record<string, unknown>, token = ADMIN) {
  const r = await api(url, '/v1/webhooks', { method: 'POST', body, token });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as { id: string; secret: string };
}

describe('webhooks (Standard Webhooks)', () => {
  it('delivers the events an endpoint subscribes to, signed, exactly as the stream carries them', async () => {
    const h = await hubWith();
    const rx = await receiver();
    await rx.listen();
    const ep = await addEndpoint(h.url, { url: rx.url, types: ['store.*'], scope: { store_ids: ['12'] }, description: 'kitchen' });
    expect(ep.secret).toMatch(/^whsec_/);
    rx.setSecret(ep.secret);
    await publish(h.url, [
      sample.storeOrder(12, { data: { order_id: 'A', items: [{ name: 'Ramen', quantity: 1 }], total: 9, client_tag: 'kept' } }),
      sample.storeOrder(13, { data: { order_id: 'B', items: [{ name: 'Soup', quantity: 1 }], total: 5 } }),
      sample.tradingOrder('u1', 1),
      { type: 'store.order.updated', store_id: 12, data: { order_id: 'A', status: 'preparing' } },
    ]);
    await until(() => rx.applied.length === 2, 'two store-12 deliveries');
    const logged = (await allEvents(h.url)).filter((e) => e.store_id === '12');
    expect(rx.applied.map((a) => a.type)).toEqual(['store.order.created', 'store.order.updated']);
    // The payload's data is the event as GET /v1/events returns it: nothing dropped, nothing added.
    expect(rx.applied.map((a) => a.data)).toEqual(JSON.parse(JSON.stringify(logged)));
    expect(rx.requests.every((q) => q.verified)).toBe(true);
    const info = await api(h.url, `/v1/webhooks/${ep.id}`);
    expect(info.body).toMatchObject({ delivered: 2, dead: 0, retrying: 0, last_error: null, backlog: 0 });
    expect(info.body).not.toHaveProperty('secret');
  });

  it('a wrong secret or a tampered body is refused by the receiver library', async () => {
    const h = await hubWith();
    const rx = await receiver();
    await rx.listen();
    const ep = await addEndpoint(h.url, { url: rx.url });
    // The receiver holds another secret: every request fails verification (401) and is retried.
    await publish(h.url, sample.storeOrder(1));
    await until(() => rx.requests.length >= 1, 'an attempt');
    expect(rx.requests[0]).toMatchObject({ verified: false, status: 401 });
    expect(rx.applied).toEqual([]);
    const test = await api(h.url, `/v1/webhooks/${ep.id}/test`, { method: 'POST' });
    expect(test.body).toMatchObject({ ok: false, status: 401 });
    // The right secret verifies; the same headers on a changed body do not.
    const wh = new Webhook(ep.secret);
    const payload = JSON.stringify({ type: 'x', timestamp: new Date().toISOString(), data: { a: 1 } });
    const at = new Date();
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': wh.sign('msg_1', at, payload) };
    expect(wh.verify(payload, headers)).toEqual(JSON.parse(payload));
    expect(() => wh.verify(payload.replace('"a":1', '"a":2'), headers)).toThrow();
  });

  it('a backend that is down gets every event afterwards, in order, each applied once', async () => {
    const h = await hubWith({ webhooks: { timeoutMs: 2_000, maxAttempts: 50, baseDelayMs: 50, maxDelayMs: 400 } });
    const port = await freePort();
    const rx = await receiver();
    const ep = await addEndpoint(h.url, { url: `http://127.0.0.1:${port}/hooks` });
    rx.setSecret(ep.secret);
    const sent = Array.from({ length: 20 }, (_, i) => sample.storeOrder(1, { id: `down-${i}` }));
    for (const e of sent) await publish(h.url, e);
    // Down: attempts fail with a connection error and back off.
    await until(async () => (await api(h.url, `/v1/webhooks/${ep.id}`)).body.retrying >= 3, 'three failed attempts');
    const down = (await api(h.url, `/v1/webhooks/${ep.id}`)).body;
    expect(down.last_error).toMatch(/ECONNREFUSED/);
    expect(down.next_attempt_at).not.toBeNull();
    await rx.listen(port);
    await until(() => rx.applied.length === 20, 'all 20 delivered after the backend came back', 20_000);
    expect(rx.applied.map((a) => (a.data as { id: string }).id)).toEqual(sent.map((e) => e.id));
    expect((await api(h.url, `/v1/webhooks/${ep.id}`)).body).toMatchObject({ delivered: 20, retrying: 0, last_error: null });
  });

  it('out of attempts, an event goes to the dead-letter list; the endpoint goes on; a retry clears it', async () => {
    const h = await hubWith({ webhooks: { timeoutMs: 2_000, maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 50 } });
    const rx = await receiver();
    await rx.listen();
    const ep = await addEndpoint(h.url, { url: rx.url });
    rx.setSecret(ep.secret);
    rx.status = 500;
    const first = await publish(h.url, sample.storeOrder(1, { id: 'doomed' }));
    const seq = (first.body as { results: { seq: number }[] }).results[0]!.seq;
    await until(async () => (await api(h.url, '/v1/webhooks/dead')).body.dead.length === 1, 'a dead letter');
    const dead = (await api(h.url, `/v1/webhooks/dead?endpoint_id=${ep.id}`)).body.dead;
    expect(dead[0]).toMatchObject({ endpoint_id: ep.id, seq, type: 'store.order.created', attempts: 3, last_status: 500 });
    expect(rx.requests.filter((q) => q.id === dead[0].webhook_id)).toHaveLength(3);
    rx.status = 200;
    await publish(h.url, sample.storeOrder(1, { id: 'next' }));
    await until(() => rx.applied.some((a) => (a.data as { id: string }).id === 'next'), 'the next event');
    const retry = await api(h.url, `/v1/webhooks/${ep.id}/dead/${seq}/retry`, { method: 'POST' });
    expect(retry.body).toMatchObject({ ok: true, status: 200 });
    expect((await api(h.url, '/v1/webhooks/dead')).body.dead).toEqual([]);
    expect(rx.applied.map((a) => (a.data as { id: string }).id)).toEqual(['next', 'doomed']);
  });

  it('retention pruning other scopes while an endpoint retries is not taken for a loss', async () => {
    const h = await hubWith({ webhooks: { timeoutMs: 2_000, maxAttempts: 100, baseDelayMs: 20, maxDelayMs: 100 } });
    const rx = await receiver();
    await rx.listen();
    const ep = await addEndpoint(h.url, { url: rx.url, scope: { store_ids: ['12'] } });
    rx.setSecret(ep.secret);
    rx.status = 503;
    // One batch: the endpoint's first look finds the store-12 event behind ten of store 13.
    const sent = await publish(h.url, [...Array.from({ length: 10 }, () => sample.storeOrder(13)), sample.storeOrder(12, { id: 'wanted' })]);
    const stuck = sent.body.results[10].seq as number;
    await until(async () => (await api(h.url, `/v1/webhooks/${ep.id}`)).body.retrying >= 2, 'retrying the store-12 event');
    // Everything below the retried event goes (other stores' events), the event itself stays.
    h.hub.opts.retention.maxEvents = 1;
    await h.hub.prune();
    expect(h.hub.log.prunedThrough).toBe(stuck - 1);
    rx.status = 200;
    await until(() => rx.applied.length === 1, 'the retried event delivered');
    expect((rx.applied[0]!.data as { id: string }).id).toBe('wanted');
    expect((await api(h.url, '/v1/webhooks/dead')).body.dead).toEqual([]);
  });

  it("a scoped admin's dead-letter list holds its own letters, whatever the others have", async () => {
    const h = await hubWith({ webhooks: { timeoutMs: 2_000, maxAttempts: 1, baseDelayMs: 20, maxDelayMs: 50 } });
    const rx = await receiver();
    await rx.listen();
    rx.status = 500;
    await addEndpoint(h.url, { url: rx.url, scope: { store_ids: ['13'] } });
    const store12 = await createToken(h.url, 'admin', { store_ids: ['12'] });
    const mine = await addEndpoint(h.url, { url: rx.url, scope: { store_ids: ['12'] } }, store12);
    await publish(h.url, sample.storeOrder(12));
    await publish(h.url, Array.from({ length: 5 }, () => sample.storeOrder(13)));
    await until(async () => (await api(h.url, '/v1/webhooks/dead')).body.dead.length === 6, 'six dead letters');
    const seen = (await api(h.url, '/v1/webhooks/dead?limit=1', { token: store12 })).body.dead;
    expect(seen.map((d: { endpoint_id: string }) => d.endpoint_id)).toEqual([mine.id]);
    // Removing an endpoint removes its letters, which nothing could redeliver any more.
    await api(h.url, `/v1/webhooks/${mine.id}`, { method: 'DELETE', token: store12 });
    expect((await api(h.url, '/v1/webhooks/dead')).body.dead).toHaveLength(5);
  });

  it('bad input gets a clear error; a scoped admin only reaches its own scope', async () => {
    const h = await hubWith();
    const bad = await api(h.url, '/v1/webhooks', { method: 'POST', body: { url: 'ftp://example.com/x' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields[0].path).toBe('url');
    const badType = await api(h.url, '/v1/webhooks', { method: 'POST', body: { url: 'http://127.0.0.1:1/x', types: ['Store Orders'] } });
    expect(badType.body.error.fields[0].path).toBe('types.0');
    const badSecret = await api(h.url, '/v1/webhooks', { method: 'POST', body: { url: 'http://127.0.0.1:1/x', secret: 'hunter2' } });
    expect(badSecret.body.error.fields[0].path).toBe('secret');

    const other = await addEndpoint(h.url, { url: 'http://127.0.0.1:1/x', scope: { store_ids: ['13'] } });
    const store12 = await createToken(h.url, 'admin', { store_ids: ['12'] });
    const wide = await api(h.url, '/v1/webhooks', { method: 'POST', token: store12, body: { url: 'http://127.0.0.1:1/x' } });
    expect(wide.status).toBe(403);
    expect(wide.body.error.fields[0].path).toBe('scope.store_ids');
    const mine = await addEndpoint(h.url, { url: 'http://127.0.0.1:1/y', scope: { store_ids: ['12'] } }, store12);
    expect((await api(h.url, '/v1/webhooks', { token: store12 })).body.webhooks.map((w: { id: string }) => w.id)).toEqual([mine.id]);
    expect((await api(h.url, `/v1/webhooks/${other.id}`, { token: store12 })).status).toBe(404);
    expect((await api(h.url, `/v1/webhooks/${other.id}`, { method: 'DELETE', token: store12 })).status).toBe(404);
    const sub = await createToken(h.url, 'subscriber');
    expect((await api(h.url, '/v1/webhooks', { token: sub })).status).toBe(403);
  });
});

describe('webhook outbox across a SIGKILL', () => {
  it('every acknowledged event reaches the backend after the hub is killed mid-delivery, each applied once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relaydesk-wh-'));
    later(() => rmSync(dir, { recursive: true, force: true }));
    const db = join(dir, 'hub.db');
    const rx = await receiver();
    await rx.listen();
    rx.delayMs = 20;
    let hub: ChildHub = await spawnCliHub({ db });
    later(() => hub.kill());
    const ep = await addEndpoint(hub.url, { url: rx.url });
    rx.setSecret(ep.secret);
    const ids = Array.from({ length: 120 }, (_, i) => `kill-${i}`);
    for (let i = 0; i < ids.length; i += 10) {
      const r = await publish(hub.url, ids.slice(i, i + 10).map((id) => sample.storeOrder(1, { id })));
      expect(r.status).toBe(201);
    }
    await until(() => rx.applied.length >= 20, 'some deliveries before the kill');
    await hub.kill('SIGKILL');
    const beforeRestart = rx.applied.length;
    expect(beforeRestart).toBeLessThan(ids.length);
    hub = await spawnCliHub({ db });
    await until(() => rx.applied.length === ids.length, 'all 120 after the restart', 30_000);
    expect(rx.applied.map((a) => (a.data as { id: string }).id)).toEqual(ids);
    // At least once on the wire, once in effect: a repeat carries the same webhook-id, so the
    // backend skipped it. Cursor advances are written in batches, so what repeats is at most the
    // last unwritten batch and the one in flight at the kill.
    const repeats = rx.requests.length - new Set(rx.requests.map((q) => q.id)).size;
    expect(repeats).toBeLessThanOrEqual(CURSOR_BATCHING.maxPending + 1);
  });
});

describe('webhooks scoped to a tenant and topics', () => {
  it('delivers only the tenant\'s events whose topics its selectors match, and a scoped admin cannot widen it', async () => {
    const h = await hubWith();
    const rx = await receiver();
    await rx.listen();
    const ep = await addEndpoint(h.url, { url: rx.url, types: ['x.*'], scope: { tenant_id: 'acme', subscribe_topics: ['wards/{id}'] } });
    rx.setSecret(ep.secret);
    const sent = await publish(h.url, [
      { id: 'w-1', type: 'x.ward.note', tenant_id: 'acme', topics: ['wards/1'], data: {} },
      { id: 'w-2', type: 'x.ward.note', tenant_id: 'globex', topics: ['wards/1'], data: {} },
      { id: 'w-3', type: 'x.ward.note', tenant_id: 'acme', topics: ['beds/1'], data: {} },
      { id: 'w-4', type: 'x.ward.note', tenant_id: 'acme', data: {} },
      { id: 'w-5', type: 'x.ward.note', tenant_id: 'acme', topics: ['beds/2', 'wards/2'], data: {} },
    ]);
    await until(() => rx.applied.length === 2, 'two deliveries');
    await new Promise((r) => setTimeout(r, 300));
    // The webhook-id names the hub and the event's seq.
    const seqs = sent.body.results.map((r: { seq: number }) => r.seq);
    expect(rx.applied.map((a) => Number(a.id.split('_').pop()))).toEqual([seqs[0], seqs[4]]);
    const admin = await createToken(h.url, 'admin', { tenant_id: 'acme', subscribe_topics: ['wards/{id}'] });
    const wider = await api(h.url, '/v1/webhooks', { method: 'POST', token: admin, body: { url: rx.url, types: ['x.*'], scope: { tenant_id: 'acme' } } });
    expect(wider.status).toBe(403);
    expect(wider.body.error.fields.map((f: { path: string }) => f.path)).toEqual(['scope.subscribe_topics']);
  });
});
