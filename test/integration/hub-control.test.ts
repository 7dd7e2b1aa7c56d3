import { describe, it, expect, afterEach } from 'vitest';
import { startTestHub, api, publish, createToken, until, type TestHub } from '../helpers/hub.ts';
import { Subscriber, rawStream } from '../helpers/sse.ts';
import { sample } from '../helpers/events.ts';
import type { TokenRow } from '../../electron/hub/tokens.ts';

let t: TestHub | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

describe('strategy deactivation and forced disconnects', () => {
  it('refuses publishes for an inactive strategy and disconnects its subscribers with a reason', async () => {
    t = await startTestHub();
    const s7 = new Subscriber(t.url, { strategy_id: '7' });
    const s8 = new Subscriber(t.url, { strategy_id: '8' });
    await Promise.all([s7.waitFor('connection'), s8.waitFor('connection')]);
    const r = await api(t.url, '/v1/strategies/7/deactivate', { body: { reason: 'risk limit breached' } });
    expect(r.body).toMatchObject({ strategy_id: '7', active: false, disconnected: 1 });
    const fd = await s7.waitFor('force_disconnect');
    expect(fd.data).toMatchObject({ reason: 'strategy_deactivated', retry_ms: null });
    expect(fd.data.message).toContain('risk limit breached');

    const refused = await publish(t.url, [sample.tradingOrder('u', 8), sample.tradingOrder('u', 7)]);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'strategy_inactive', fields: [{ path: '1.strategy_id', reason: 'strategy is inactive' }] });
    expect((await api(t.url, '/v1/stream?strategy_id=7')).status).toBe(409);

    await publish(t.url, sample.tradingOrder('u', 8));
    await s8.waitForEvents(1);
    expect(s8.named('force_disconnect')).toHaveLength(0);

    await api(t.url, '/v1/strategies/7/activate', { body: {} });
    expect((await publish(t.url, sample.tradingOrder('u', 7))).status).toBe(201);
    const list = await api(t.url, '/v1/strategies');
    expect(list.body.strategies).toEqual([expect.objectContaining({ strategy_id: '7', active: true })]);
    s7.close();
    s8.close();
  });

  it('disconnects by scope on admin request and on token revocation', async () => {
    t = await startTestHub();
    const tok = await createToken(t.url, 'subscriber', { store_ids: ['a'] });
    const byStore = new Subscriber(t.url, {}, tok);
    const other = new Subscriber(t.url, { store_id: 'b' });
    await Promise.all([byStore.waitFor('connection'), other.waitFor('connection')]);
    expect((await api(t.url, '/v1/connections', { method: 'DELETE' })).status).toBe(400);
    const d = await api(t.url, '/v1/connections?store_id=a', { method: 'DELETE' });
    expect(d.body.disconnected).toBe(1);
    expect((await byStore.waitFor('force_disconnect')).data.reason).toBe('admin');
    byStore.close();

    const again = new Subscriber(t.url, {}, tok);
    await again.waitFor('connection');
    const id = (await api(t.url, '/v1/tokens')).body.tokens.find((x: { scope: { store_ids?: string[] } }) => x.scope.store_ids?.[0] === 'a').id;
    const rev = await api(t.url, `/v1/tokens/${id}`, { method: 'DELETE' });
    expect(rev.body).toEqual({ revoked: true, disconnected: 1 });
    expect((await again.waitFor('force_disconnect')).data.reason).toBe('token_revoked');
    again.close();
    expect((await api(t.url, '/v1/stream', { token: tok })).status).toBe(401);
    expect(other.named('force_disconnect')).toHaveLength(0);
    other.close();
  });
});

describe('slow consumers', () => {
  it('disconnects a reader that stopped reading while a fast subscriber keeps up, and the slow one catches up from the log', async () => {
    t = await startTestHub({ queue: { maxEvents: 200, maxBytes: 256 * 1024, stallTimeoutMs: 5_000 } });
    const fast = new Subscriber(t.url, { type: 'x.flood.*' });
    const slow = rawStream(t.url, '/v1/stream?type=x.flood.*');
    await slow.ready;
    await fast.waitFor('connection');
    slow.pause();
    const pad = 'x'.repeat(2000);
    let sent = 0;
    for (let i = 0; i < 40; i++) {
      await publish(t.url, Array.from({ length: 50 }, (_, j) => ({ type: 'x.flood.e', data: { i: i * 50 + j, pad } })));
      sent += 50;
      // The fast reader shares this process with the hub: it reads between publishes, as a separate client would all along.
      await fast.waitForEvents(sent, 20_000);
    }
    await fast.waitForEvents(sent, 20_000);
    const stats = await until(async () => {
      const s = (await api(t!.url, '/v1/stats')).body;
      return s.connections.slow_consumer_disconnects >= 1 && s;
    }, 'slow consumer disconnect');
    expect(stats.connections.total).toBe(1);
    expect(fast.events.map((e) => (e.data as { i: number }).i)).toEqual(Array.from({ length: sent }, (_, i) => i));
    slow.destroy();

    // On reconnect it catches up from the log: nothing was lost for it either.
    const catchUp = new Subscriber(t.url, { type: 'x.flood.*', lastEventId: '0' });
    await catchUp.waitForEvents(sent, 20_000);
    expect(catchUp.events.length).toBe(sent);
    catchUp.close();
    fast.close();
    const metrics = await api(t.url, '/metrics');
    expect(metrics.body).toMatch(/relaydesk_slow_consumer_disconnects_total [1-9]/);
  });
});

describe('pruned tokens stay dead', () => {
  it('a token restated after it was pruned (a hub putting its tokens back into a Redis that lost data) comes back revoked, never live', async () => {
    t = await startTestHub();
    const secret = await createToken(t.url, 'subscriber', {}, 'kiosk');
    const id = (await api(t.url, '/v1/whoami', { token: secret })).body.token_id as string;
    await api(t.url, `/v1/tokens/${id}`, { method: 'DELETE' });
    // What another hub that has not pruned yet would restate: the row as it knows it, revoked.
    const restated = t.hub.db.prepare('SELECT * FROM tokens WHERE id = ?').get(id) as TokenRow;
    expect((await api(t.url, '/v1/tokens/prune', { body: { label: 'kiosk' } })).body).toEqual({ deleted: 1 });
    expect(t.hub.tokens.get(id)).toBeUndefined();

    // The bus entry arrives (applied as every hub applies one) before the restated revoke does.
    t.hub.control.apply({ op: 'token.create', row: { ...restated, last_used_at: null } });
    expect((await api(t.url, '/v1/whoami', { token: secret })).status).toBe(401);
    expect(t.hub.tokens.get(id)?.revoked_at).toBe(restated.revoked_at);
  });
});
