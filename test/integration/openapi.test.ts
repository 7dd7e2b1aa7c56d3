import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate, compileErrors } from '@readme/openapi-parser';
import { startTestHub, api, type TestHub } from '../helpers/hub.ts';
import { routes } from '../../shared/api/routes.ts';
import { FULL_SURFACE_OPTIONS, renderApiDocument } from '../../electron/hub/http/docs.ts';
import { CONSOLE_CSP } from '../../electron/hub/http/security.ts';

/**
 * The API document: generated from the routes' shared schemas, served by the hub, checked in as
 * docs/openapi.json, and valid enough for a client generator in any language.
 */

interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
  responses: Record<string, { content?: Record<string, unknown> }>;
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, unknown> };
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, { type: string; scheme?: string }> } };

describe('the API document', () => {
  let t: TestHub;
  let doc: Doc;
  beforeAll(async () => {
    t = await startTestHub({ ...FULL_SURFACE_OPTIONS });
    const r = await api<Doc>(t.url, '/v1/openapi.json', { token: null });
    expect(r.status).toBe(200);
    doc = r.body;
  });
  afterAll(async () => {
    await t.stop();
  });

  it('is served without a token and docs/openapi.json is the current one (run `npm run openapi` after changing a route)', () => {
    const file = readFileSync(join(import.meta.dirname, '../../docs/openapi.json'), 'utf8');
    expect(file === renderApiDocument(doc), 'docs/openapi.json is stale: run `npm run openapi` and commit it').toBe(true);
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const r = await validate(structuredClone(doc) as never);
    expect(r.valid, r.valid ? '' : compileErrors(r)).toBe(true);
  });

  it('documents every operation of the contract once, each with an operationId, its security and an error body', () => {
    const ops = Object.entries(doc.paths).flatMap(([path, byMethod]) => Object.entries(byMethod).map(([method, op]) => ({ path, method, op })));
    const ids = ops.map((o) => o.op.operationId);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set(Object.keys(routes)));
    for (const [id, c] of Object.entries(routes)) {
      const path = c.url.replace(/:([A-Za-z_]+)/g, '{$1}');
      const op = doc.paths[path]?.[c.method.toLowerCase()];
      expect(op?.operationId, `${c.method} ${path}`).toBe(id);
      expect(op!.responses['4XX'], `${id} documents its errors`).toBeDefined();
      for (const p of path.match(/\{[^}]+\}/g) ?? []) expect(op!.parameters?.some((x) => x.in === 'path' && `{${x.name}}` === p), `${id} ${p}`).toBe(true);
    }
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    // Public routes say so; the Mercure ones take the protocol's JWT; every other one takes a hub
    // bearer token (or the console's cookie).
    const publicOps = ops.filter((o) => o.op.security?.length === 0).map((o) => o.op.operationId).sort();
    expect(publicOps).toEqual(['exchangeLoginCode', 'getOpenApi', 'health', 'logout']);
    const mercureOps = ops.filter((o) => o.path.startsWith('/.well-known/mercure'));
    expect(mercureOps.map((o) => o.op.operationId).sort()).toEqual(['mercurePublish', 'mercureSubscribe', 'mercureSubscription', 'mercureSubscriptions', 'mercureTopicSubscriptions']);
    for (const o of ops) {
      if (publicOps.includes(o.op.operationId!)) continue;
      if (mercureOps.includes(o)) {
        expect(o.op.security, o.op.operationId).toEqual(expect.arrayContaining([{ mercureBearer: [] }, { mercureQuery: [] }, { mercureCookie: [] }]));
        expect(o.op.security, o.op.operationId).not.toContainEqual({ bearerAuth: [] });
      } else expect(o.op.security, o.op.operationId).toContainEqual({ bearerAuth: [] });
    }
    expect(doc.paths['/v1/stream']!.get!.security).toContainEqual({ accessToken: [] });
    // Anonymous subscribers are possible (--mercure-anonymous); publishers always need a JWT.
    expect(doc.paths['/.well-known/mercure']!.get!.security).toContainEqual({});
    expect(doc.paths['/.well-known/mercure']!.post!.security).not.toContainEqual({});
    expect(doc.components.securitySchemes).toMatchObject({
      mercureBearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      mercureQuery: { type: 'apiKey', in: 'query', name: 'authorization' },
      mercureCookie: { type: 'apiKey', in: 'cookie', name: 'mercureAuthorization' },
    });
  });

  it('describes the stream as text/event-stream and the publish body as JSON or NDJSON', () => {
    expect(Object.keys(doc.paths['/v1/stream']!.get!.responses['200']!.content!)).toEqual(['text/event-stream']);
    expect(Object.keys(doc.paths['/v1/events']!.post!.requestBody!.content).sort()).toEqual(['application/json', 'application/x-ndjson']);
  });

  it('describes the Mercure protocol: a form publish with repeated topics, an SSE subscribe with repeated topic selectors, JSON-LD subscriptions', () => {
    const mercure = doc.paths['/.well-known/mercure']!;
    const form = mercure.post!.requestBody!.content as Record<string, { schema: { properties: Record<string, { type: string }>; required: string[] } }>;
    expect(Object.keys(form)).toEqual(['application/x-www-form-urlencoded']);
    const fields = form['application/x-www-form-urlencoded']!.schema;
    expect(Object.keys(fields.properties).sort()).toEqual(['data', 'id', 'private', 'retry', 'topic', 'type']);
    expect(fields.properties.topic!.type).toBe('array');
    expect(fields.required).toEqual(['topic']);
    expect(Object.keys(mercure.post!.responses['200']!.content!)).toEqual(['text/plain']);
    const topic = (mercure.get!.parameters as { name: string; in: string; required?: boolean; schema: { type: string } }[]).find((p) => p.name === 'topic');
    expect(topic).toMatchObject({ in: 'query', required: true, schema: { type: 'array' } });
    expect(Object.keys(mercure.get!.responses['200']!.content!)).toEqual(['text/event-stream']);
    expect(Object.keys(doc.paths['/.well-known/mercure/subscriptions']!.get!.responses['200']!.content!)).toEqual(['application/ld+json']);
    for (const op of [mercure.get!, mercure.post!]) expect(op.responses['4XX']!.content!['application/json']).toBeDefined();
  });
});

describe('the API document of a hub without Mercure', () => {
  it('lists no Mercure route: the document describes the routes this hub serves', async () => {
    const t = await startTestHub();
    try {
      const r = await api<Doc>(t.url, '/v1/openapi.json', { token: null });
      expect(Object.keys(r.body.paths).filter((p) => p.includes('mercure'))).toEqual([]);
      const others = new Set(Object.values(routes).filter((c) => !c.url.startsWith('/.well-known/mercure')).map((c) => c.url.replace(/:([A-Za-z_]+)/g, '{$1}')));
      expect(new Set(Object.keys(r.body.paths))).toEqual(others);
    } finally {
      await t.stop();
    }
  });
});

describe('the API reference page', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('is served by the hub under the console CSP, and loads only its own files (works offline)', async () => {
    const res = await fetch(`${t.url}/v1/docs/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    const html = await res.text();
    expect(html).not.toMatch(/https?:\/\//);
    // No inline script: the CSP allows only scripts from the hub itself.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => new URL(m[1]!, `${t.url}/v1/docs/`).href);
    expect(assets.length).toBeGreaterThan(2);
    for (const a of assets) {
      expect(a.startsWith(t.url), a).toBe(true);
      const r = await fetch(a);
      expect(r.status, a).toBe(200);
      if (a.endsWith('.js')) expect(r.headers.get('content-security-policy'), a).toBe(CONSOLE_CSP);
    }
  });
});
