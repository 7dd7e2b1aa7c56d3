import { describe, it, expect } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { registeredRoutes } from '../../electron/hub/http/app.ts';
import { FULL_SURFACE_OPTIONS } from '../../electron/hub/http/docs.ts';
import { routes } from '../../shared/api/routes.ts';
import { cleanupAfterEach } from '../helpers/cleanup.ts';

/**
 * Every route a hub registers is an operation of the contract (shared/api/routes.ts), or on the
 * short list below of routes that are knowingly not API operations. A route added without a
 * contract entry fails here: add it to routes.ts and declare it with route() (http/contract.ts).
 */

/** Routes that are not operations of the API, each with the reason. Keep it short. */
const NOT_OPERATIONS: { method: string; url: string; why: string }[] = [
  // Swagger UI (@fastify/swagger-ui): the reference page, its files, and the copies of the API
  // document it loads (the document itself is the getOpenApi operation, /v1/openapi.json).
  { method: 'GET', url: '/v1/docs', why: 'the API reference page' },
  // Its HEAD twin is registered under the prefix with a trailing slash (the GET is matched both ways).
  { method: 'HEAD', url: '/v1/docs/', why: 'the API reference page' },
  { method: 'GET', url: '/v1/docs/static/index.html', why: 'the API reference page' },
  { method: 'GET', url: '/v1/docs/static/swagger-initializer.js', why: "the reference page's start script" },
  { method: 'GET', url: '/v1/docs/static/*', why: "Swagger UI's files" },
  { method: 'GET', url: '/v1/docs/json', why: 'the API document as the reference page loads it' },
  { method: 'GET', url: '/v1/docs/yaml', why: 'the API document in YAML, from the reference page' },
  // The console's files (@fastify/static, from the renderer bundle); `/` is the page, or a line
  // saying the bundle is not built.
  { method: 'GET', url: '/', why: 'the console page' },
  { method: 'GET', url: '/*', why: "the console's static files" },
];

/** Fastify answers HEAD on every GET route by itself: HEAD is covered by the GET's operation. */
const HEAD_OF_GET = 'HEAD';

const cleanup = cleanupAfterEach();

function uncovered(list: readonly { method: string; url: string }[]): string[] {
  const contract = new Set(Object.values(routes).map((c) => `${c.method} ${c.url}`));
  const covered = (method: string, url: string) =>
    contract.has(`${method} ${url}`) || NOT_OPERATIONS.some((n) => n.method === method && n.url === url);
  return list
    .filter(({ method, url }) => !covered(method, url) && !(method === HEAD_OF_GET && covered('GET', url)))
    .map(({ method, url }) => `${method} ${url}`);
}

describe('every route has a contract entry', () => {
  it('a hub with every route on (Mercure, its subscriptions API, the console files) registers only contract operations and the listed exceptions', async () => {
    // Without a console bundle (`/` says it is not built), then with one (its files under `/*`; a
    // one-file bundle is enough here).
    const t = await cleanup.hubWith({ ...FULL_SURFACE_OPTIONS });
    const list = [...registeredRoutes(t.hub.app)];
    const rendererDir = join(t.dir, 'renderer');
    mkdirSync(rendererDir);
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>console</title>');
    await t.restart({ rendererDir });
    list.push(...registeredRoutes(t.hub.app));

    expect(uncovered(list), 'routes without a contract entry: add them to shared/api/routes.ts').toEqual([]);
    // And the other way round: every operation of the contract is served by this hub.
    const served = new Set(list.map((r) => `${r.method} ${r.url}`));
    expect(Object.entries(routes).filter(([, c]) => !served.has(`${c.method} ${c.url}`)).map(([id]) => id)).toEqual([]);
    // The exceptions are all in use: a stale one would quietly widen the list.
    for (const n of NOT_OPERATIONS) expect(list.some((r) => r.method === n.method && r.url === n.url), `${n.method} ${n.url}`).toBe(true);
  });

  it('a route added without a contract entry is named', async () => {
    const t = await cleanup.hubWith();
    const list = [...registeredRoutes(t.hub.app), { method: 'POST', url: '/v1/undeclared' }, { method: 'GET', url: '/v1/docs-not-really' }];
    expect(uncovered(list)).toEqual(['POST /v1/undeclared', 'GET /v1/docs-not-really']);
  });
});
