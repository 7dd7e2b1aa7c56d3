import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { localEngine, type EngineFactory } from '../../electron/hub/engine.ts';
import { errorBodySchema } from '../../shared/api.ts';
import { routes } from '../../shared/api/routes.ts';
import { ADMIN, api } from '../helpers/hub.ts';
import { cleanupAfterEach } from '../helpers/cleanup.ts';

/**
 * Server-side failures answer in the hub's error body like every refusal does: during shutdown
 * (draining, then the server closing) and when a handler fails unexpectedly. Clients parse one
 * error shape, whatever went wrong and whoever answered.
 */

const { later: cleanup, hubWith } = cleanupAfterEach();

/** Raw answer: status, headers and the body parsed as JSON (not through api(), which retries). */
async function get(url: string, path: string, init: RequestInit = {}) {
  const res = await fetch(url + path, { ...init, headers: { authorization: `Bearer ${ADMIN}`, ...(init.headers as Record<string, string>) } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text) as unknown };
}

describe('5xx answers use the error body', () => {
  it('while the hub is shutting down, a request that arrives is answered 503 shutting_down in the error body; health says draining', async () => {
    // The real local engine, whose close() waits until the test lets it finish: the drain phase of
    // a hub whose engine takes a moment to close (a Redis bus, commits on a slow disk), held open
    // long enough for requests to arrive during it.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const holdingEngine: EngineFactory = (env) => {
      const engine = localEngine(env);
      const close = engine.close.bind(engine);
      return Object.assign(engine, { close: async () => (await held, close()) });
    };
    const t = await hubWith({}, holdingEngine);
    const url = t.url;
    const closing = t.hub.close();
    // Registered after the hub's stop, so it runs first: the drain ends, then the stop finds it closed.
    cleanup(() => {
      release();
      return closing;
    });
    expect(t.hub.draining).toBe(true);

    for (const [method, path, body] of [
      ['GET', '/v1/events', undefined],
      ['POST', '/v1/events', JSON.stringify({ type: 'x.ping', data: {} })],
      ['GET', '/v1/whoami', undefined],
      ['GET', '/no/such/route', undefined],
      ['GET', '/v1/openapi.json', undefined],
    ] as const) {
      const r = await get(url, path, { method, body, headers: body ? { 'content-type': 'application/json' } : {} });
      expect(r.status, `${method} ${path}`).toBe(503);
      const parsed = errorBodySchema.safeParse(r.body);
      expect(parsed.success, `${method} ${path}: ${JSON.stringify(r.body)}`).toBe(true);
      expect(parsed.data!.error).toMatchObject({ status: 503, code: 'shutting_down' });
      expect(r.headers.get('retry-after'), `${method} ${path}`).toBe('2');
      expect(r.headers.get('connection'), `${method} ${path}`).toBe('close');
    }
    // Load balancers poll health: it answers in its own shape, saying why.
    const health = await get(url, '/healthz');
    expect(health.status).toBe(503);
    expect(routes.health.response[503].parse(health.body)).toMatchObject({ status: 'draining' });

    release();
    await closing;
  });

  it('an unexpected failure in a handler is a 500 in the error body, and the hub keeps serving', async () => {
    const t = await hubWith();
    expect((await api(t.url, '/v1/inbox')).status).toBe(200);
    // Under the hub, another connection to the same SQLite file takes the inbox table away: the
    // next inbox read fails in a way no handler expects ("no such table").
    const db = new Database(t.dbFile);
    cleanup(() => db.close());
    db.exec('ALTER TABLE inbox_marks RENAME TO inbox_marks_away');
    const r = await get(t.url, '/v1/inbox');
    expect(r.status).toBe(500);
    expect(errorBodySchema.parse(r.body).error).toEqual({ status: 500, code: 'internal', message: 'internal error; see the hub log' });
    expect(JSON.stringify(r.body)).not.toMatch(/inbox_marks|SQLITE/);
    db.exec('ALTER TABLE inbox_marks_away RENAME TO inbox_marks');
    expect((await api(t.url, '/v1/inbox')).status).toBe(200);
  });
});
