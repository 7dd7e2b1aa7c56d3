import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestHub, api, publish, until, type TestHub } from '../helpers/hub.ts';
import { Subscriber } from '../helpers/sse.ts';
import { sample } from '../helpers/events.ts';

/**
 * A scoped admin is an admin of its scope: every escalation past it is refused. Tokens outside its
 * scope are answered as unknown (404), so it cannot even learn they exist.
 */
let t: TestHub;
const streams: Subscriber[] = [];

interface Created {
  id: string;
  token: string;
}

async function create(role: string, scope: Record<string, unknown>, as?: string): Promise<Created> {
  const r = await api(t.url, '/v1/tokens', { body: { role, scope }, token: as });
  if (r.status !== 201) throw new Error(`create failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as Created;
}

let admin7: Created; // user 7, strategies 1 and 2
let admin7u: Created; // user 7, any strategy
let sub8: Created;
let sub7: Created;

beforeAll(async () => {
  t = await startTestHub({ heartbeatMs: 60_000 });
  admin7 = await create('admin', { user_id: 7, strategy_ids: [1, 2] });
  admin7u = await create('admin', { user_id: 7 });
  sub8 = await create('subscriber', { user_id: 8 });
  sub7 = await create('subscriber', { user_id: 7, strategy_ids: [1] });
  expect((await publish(t.url, [sample.tradingOrder(7, 1), sample.tradingOrder(8, 1), sample.tradingOrder(8, 3), sample.storeOrder(12)])).status).toBe(201);
});
afterAll(async () => {
  for (const s of streams) s.close();
  await t?.stop();
});

describe('a scoped admin', () => {
  it('cannot create a token wider than its own scope, and the error names each widening field', async () => {
    const refused = async (scope: Record<string, unknown>, fields: string[], role = 'admin', as = admin7.token) => {
      const r = await api(t.url, '/v1/tokens', { body: { role, scope }, token: as });
      expect(r.status, JSON.stringify(scope)).toBe(403);
      expect(r.body.error.fields.map((f: { path: string }) => f.path).sort()).toEqual(fields.sort());
    };
    await refused({}, ['scope.user_id', 'scope.strategy_ids']);
    await refused({}, ['scope.user_id', 'scope.strategy_ids'], 'publisher');
    await refused({ user_id: 8, strategy_ids: [1] }, ['scope.user_id']);
    await refused({ user_id: 7 }, ['scope.strategy_ids']);
    await refused({ user_id: 7, strategy_ids: [1, 3] }, ['scope.strategy_ids']);
    await refused({ strategy_ids: [1], store_ids: [12] }, ['scope.user_id']);
    await refused({ store_ids: [12] }, ['scope.user_id'], 'subscriber', admin7u.token);

    // Within its scope (equal or narrower) it may, admins included; and they cannot widen either.
    const narrower = await create('admin', { user_id: 7, strategy_ids: [2], store_ids: [5] }, admin7.token);
    await create('subscriber', { user_id: 7, strategy_ids: ['1', '2'] }, admin7.token);
    await refused({ user_id: 7, strategy_ids: [1], store_ids: [5] }, ['scope.strategy_ids'], 'subscriber', narrower.token);
    await refused({ user_id: 7, strategy_ids: [2] }, ['scope.store_ids'], 'subscriber', narrower.token);
  });

  it('lists only the tokens within its scope', async () => {
    const ids = (await api(t.url, '/v1/tokens', { token: admin7.token })).body.tokens.map((x: { id: string; scope: { user_id?: string } }) => {
      expect(x.scope.user_id).toBe('7');
      return x.id;
    });
    expect(ids).toContain(admin7.id);
    expect(ids).toContain(sub7.id);
    expect(ids).not.toContain('tok_admin');
    expect(ids).not.toContain(sub8.id);
    expect(ids).not.toContain(admin7u.id); // user 7 but every strategy: wider than strategies 1 and 2
    const all = (await api(t.url, '/v1/tokens')).body.tokens.map((x: { id: string }) => x.id);
    expect(all).toEqual(expect.arrayContaining(['tok_admin', sub8.id, admin7u.id]));
  });

  it('cannot revoke or mint login links for tokens outside its scope: they look unknown', async () => {
    for (const id of ['tok_admin', sub8.id, admin7u.id]) {
      const del = await api(t.url, `/v1/tokens/${id}`, { method: 'DELETE', token: admin7.token });
      expect(del.status, `revoke ${id}`).toBe(404);
      expect(del.body.error.message).toBe(`no token ${id}`);
      const link = await api(t.url, `/v1/tokens/${id}/login-url`, { method: 'POST', token: admin7.token });
      expect(link.status, `login link ${id}`).toBe(404);
      // Same answer as for a token that does not exist.
      expect(link.body.error.fields).toEqual((await api(t.url, `/v1/tokens/tok_nope/login-url`, { method: 'POST', token: admin7.token })).body.error.fields);
    }
    expect((await api(t.url, '/v1/whoami', { token: sub8.token })).status).toBe(200);
    expect((await api(t.url, '/v1/whoami')).status).toBe(200);
    // Inside its scope it may.
    expect((await api(t.url, `/v1/tokens/${sub7.id}/login-url`, { method: 'POST', token: admin7.token })).status).toBe(201);
    const mine = await create('subscriber', { user_id: 7, strategy_ids: [2] }, admin7.token);
    expect((await api(t.url, `/v1/tokens/${mine.id}`, { method: 'DELETE', token: admin7.token })).body.revoked).toBe(true);
  });

  it('switches only the strategies its scope names', async () => {
    const set = (id: string, action: string, token: string) => api(t.url, `/v1/strategies/${id}/${action}`, { body: {}, token });
    for (const action of ['deactivate', 'activate']) {
      const r = await set('3', action, admin7.token);
      expect(r.status).toBe(403);
      expect(r.body.error.fields[0].path).toBe('id');
      // A scope that does not name strategies is not an admin of any one of them.
      expect((await set('1', action, admin7u.token)).status).toBe(403);
    }
    expect((await publish(t.url, sample.tradingOrder(8, 3))).status).toBe(201);
    expect((await set('1', 'deactivate', admin7.token)).body.active).toBe(false);
    expect((await set('1', 'activate', admin7.token)).body.active).toBe(true);
    expect((await set('3', 'deactivate', 'test-admin-token')).status).toBe(200);
    const listed = (await api(t.url, '/v1/strategies', { token: admin7.token })).body.strategies.map((s: { strategy_id: string }) => s.strategy_id);
    expect(listed).toEqual(['1']);
    expect((await set('3', 'activate', 'test-admin-token')).status).toBe(200);
  });

  it('sees and disconnects only connections within its scope, and its stats cover its scope only', async () => {
    const s7 = new Subscriber(t.url, {}, sub7.token);
    const s8 = new Subscriber(t.url, {}, sub8.token);
    const root = new Subscriber(t.url, { user_id: '7' });
    streams.push(s7, s8, root);
    await Promise.all([s7.waitFor('connection'), s8.waitFor('connection'), root.waitFor('connection')]);

    const listed = (await api(t.url, '/v1/connections', { token: admin7.token })).body.connections;
    expect(listed.map((c: { token_id: string }) => c.token_id)).toEqual([sub7.id]);
    expect((await api(t.url, '/v1/connections')).body.connections).toHaveLength(3);

    const stats = await api(t.url, '/v1/stats', { token: admin7.token });
    expect(stats.status).toBe(200);
    expect(stats.body.scope).toEqual({ user_id: '7', strategy_ids: ['1', '2'] });
    expect(stats.body.connections.total).toBe(1);
    expect(Object.keys(stats.body.connections.by_scope)).toEqual(['user=7 strategies=1']);
    for (const hubWide of ['log', 'rates', 'bus', 'uptime_s', 'oldest_seq']) expect(stats.body).not.toHaveProperty(hubWide);
    expect(stats.body.connections).not.toHaveProperty('slow_consumer_disconnects');
    expect(stats.body.head_seq).toBe(1); // user 7's only event, not the hub's head
    expect((await api(t.url, '/v1/stats')).body.connections.total).toBe(3);

    for (const q of ['all=1', 'user_id=8', `token_id=${sub8.id}`, 'token_id=tok_admin']) {
      const r = await api(t.url, `/v1/connections?${q}`, { method: 'DELETE', token: admin7.token });
      expect(r.body.disconnected, q).toBe(q === 'all=1' ? 1 : 0);
    }
    await s7.waitFor('force_disconnect');
    expect((await api(t.url, '/v1/connections')).body.connections.map((c: { token_id: string }) => c.token_id).sort()).toEqual(['tok_admin', sub8.id].sort());
    expect(s8.named('force_disconnect')).toHaveLength(0);
    expect(root.named('force_disconnect')).toHaveLength(0);
  });

  it('is not told the global head through its webhook endpoints', async () => {
    const global = t.hub.log.head;
    expect(global).toBeGreaterThan(1);
    const created = await api(t.url, '/v1/webhooks', { body: { url: 'http://127.0.0.1:9/hook', scope: { user_id: 7, strategy_ids: [1] } }, token: admin7.token });
    expect(created.status).toBe(201);
    expect(created.body.cursor).toBe(1); // user 7's head, not the hub's
    const listed = (await api(t.url, '/v1/webhooks', { token: admin7.token })).body.webhooks;
    expect(listed.map((w: { cursor: number }) => w.cursor)).toEqual([1]);
    const one = (await api(t.url, `/v1/webhooks/${created.body.id}`, { token: admin7.token })).body;
    expect([one.cursor, one.backlog]).toEqual([1, 0]);
    // The unscoped admin sees the real position.
    expect((await api(t.url, `/v1/webhooks/${created.body.id}`)).body.cursor).toBe(global);
    expect((await api(t.url, `/v1/webhooks/${created.body.id}`, { method: 'DELETE', token: admin7.token })).status).toBe(200);
  });

  it('cannot read hub-wide metrics or change hub settings', async () => {
    const metrics = await api(t.url, '/metrics', { token: admin7.token });
    expect(metrics.status).toBe(403);
    expect(metrics.body.error.message).toContain('unscoped admin');
    const settings = (await api(t.url, '/v1/settings', { token: admin7.token })).body;
    const put = await api(t.url, '/v1/settings', { method: 'PUT', body: { ...settings, retention_days: 1 }, token: admin7.token });
    expect(put.status).toBe(403);
    expect((await api(t.url, '/v1/settings')).body.retention_days).toBe(settings.retention_days);
    // The unscoped admin still may.
    expect((await api(t.url, '/metrics')).status).toBe(200);
    expect((await api(t.url, '/v1/settings', { method: 'PUT', body: settings })).status).toBe(200);
    await until(async () => (await api(t.url, '/v1/whoami', { token: admin7.token })).status === 200, 'the scoped admin still works');
  });
});
