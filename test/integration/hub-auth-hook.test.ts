import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestHub, api, createToken, type TestHub } from '../helpers/hub.ts';
import { routes, type OperationId } from '../../shared/api/routes.ts';

/**
 * Authentication is declared on each route (config.auth) and checked by one hook before anything
 * else: no route that declares it can be reached without a token, whatever else is wrong with the
 * request, and the public ones are exactly the few meant to be.
 */
const PUBLIC: OperationId[] = ['health', 'getOpenApi', 'exchangeLoginCode', 'logout'];

const samplePath = (url: string) => url.replace(/:([A-Za-z_]+)/g, (_, name: string) => (name === 'seq' ? '1' : name === 'view' ? 'orders' : 'x'));

describe('the auth hook', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('every operation but the public ones answers 401 without a token, with the error body naming the header', async () => {
    for (const [id, c] of Object.entries(routes) as [OperationId, (typeof routes)[OperationId]][]) {
      // Routes that name their own credentials (the Mercure JWTs) are not behind the hub's tokens;
      // their 401s are the protocol's (mercure.test.ts).
      if (PUBLIC.includes(id) || 'security' in c) continue;
      const r = await api(t.url, samplePath(c.url), { method: c.method, token: null, ...(c.method === 'POST' || c.method === 'PUT' ? { body: {} } : {}) });
      expect([id, r.status]).toEqual([id, 401]);
      expect(r.body.error).toMatchObject({ status: 401, code: 'unauthorized', fields: [{ path: 'headers.authorization', reason: 'required' }] });
    }
    for (const id of PUBLIC) {
      const c = routes[id];
      const r = await api(t.url, samplePath(c.url), { method: c.method, token: null });
      expect([id, r.status]).not.toEqual([id, 401]);
    }
  });

  it('refuses before the body is read or the query checked: no token and broken JSON is a 401, not a 400', async () => {
    const r = await api(t.url, '/v1/events?bogus=1', { raw: '{"type":', headers: { 'content-type': 'application/json' }, token: null });
    expect(r.status).toBe(401);
  });

  it('a role the route does not allow is a 403 naming the token kind it needs, before the body is checked', async () => {
    const sub = await createToken(t.url, 'subscriber');
    const r = await api(t.url, '/v1/events', { body: { not: 'an event' }, token: sub });
    expect(r.status).toBe(403);
    expect(r.body.error.message).toBe('a subscriber token cannot publish events (needs a publisher or admin token)');
    expect(r.body.error.fields).toEqual([{ path: 'token', reason: 'role subscriber not allowed' }]);
  });
});
