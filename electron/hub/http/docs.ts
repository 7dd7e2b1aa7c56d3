import type { FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { OpenAPIV3_1 } from 'openapi-types';
import { CONSOLE_CSP } from './security.ts';
import { SESSION_COOKIE } from './auth.ts';
import { MERCURE_COOKIE } from '../mercure/auth.ts';
import { operation } from './contract.ts';
import type { HubOptions } from '../config.ts';

export const API_VERSION = '1';

/**
 * Options under which a hub serves every route there is, so its document is the whole API: the
 * Mercure routes (and their subscriptions API) exist only on a hub given a Mercure key. docs/openapi.json
 * is the document of such a hub (`npm run openapi`); the key here only switches the routes on.
 */
export const FULL_SURFACE_OPTIONS = {
  mercure: { publisherKey: 'openapi-document-only', alg: 'HS256', anonymous: true, subscriptions: true },
} as const satisfies Partial<HubOptions>;

/**
 * The API document is generated from the routes as they are registered (their shared zod schemas,
 * converted by fastify-type-provider-zod's transform), so it cannot describe a route the hub does
 * not serve or miss one it does. Security comes from each route's `config.auth`, or from the
 * contract where a route takes other credentials (the Mercure JWTs).
 */
export function registerApiDocs(app: FastifyInstance): void {
  app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'RelayDesk hub API',
        version: API_VERSION,
        description:
          'A durable event hub: publish events, read history and state, stream live events (Server-Sent Events), manage tokens, webhooks and actions. ' +
          'Every error answers `{"error": {"status", "code", "message", "fields": [{"path", "reason"}]}}`. ' +
          'Requests are rate-limited per token (per client IP without one); a read costs extra per rows examined and bytes sent, and 429 says when to retry (Retry-After).',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'A hub token: `Authorization: Bearer <token>`.' },
          consoleSession: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'The console session cookie (same origin only).' },
          accessToken: { type: 'apiKey', in: 'query', name: 'access_token', description: 'GET /v1/stream only, for a browser EventSource.' },
          mercureBearer: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'Mercure routes: a Mercure JWT (HS256 or RS256 with the hub\'s Mercure key) with a `mercure` claim (`publish`, `subscribe` topic selectors).',
          },
          mercureQuery: { type: 'apiKey', in: 'query', name: 'authorization', description: 'Mercure routes: the Mercure JWT as the `authorization` query parameter.' },
          mercureCookie: {
            type: 'apiKey',
            in: 'cookie',
            name: MERCURE_COOKIE,
            description: 'Mercure routes: the Mercure JWT in the cookie (ignored on requests admitted only by --cors-origin *; a publish needs an Origin or Referer).',
          },
        },
      },
      tags: ['events', 'state', 'actions', 'inbox', 'webhooks', 'tokens', 'strategies', 'connections', 'settings', 'ops', 'console', 'mercure'].map((name) => ({ name })),
    },
    transform: (input) => {
      // Only the contract's operations are documented (not the console's static files).
      if (!(input.schema as { operationId?: string } | undefined)?.operationId) return { schema: { hide: true } as never, url: input.url };
      const out = jsonSchemaTransform(input);
      const auth = input.route.config?.auth;
      if (out.schema && !(out.schema as { hide?: boolean }).hide) {
        // A route that says who may call it (the Mercure JWTs) keeps that; the rest follow config.auth.
        (out.schema as Record<string, unknown>).security =
          (input.schema as { security?: unknown }).security ??
          (auth ? [{ bearerAuth: [] }, { consoleSession: [] }, ...(auth.queryToken ? [{ accessToken: [] }] : [])] : []);
      }
      return out;
    },
    transformObject: jsonSchemaTransformObject,
  });

  // A readable reference, served from the hub itself (Swagger UI's files ship in the package, no
  // CDN), under the console's Content-Security-Policy: the page loads only its own scripts.
  app.register(fastifySwaggerUi, {
    routePrefix: '/v1/docs',
    staticCSP: CONSOLE_CSP,
    uiConfig: { deepLinking: true, defaultModelsExpandDepth: 0 },
    uiHooks: {
      onRequest: async (_req, reply) => {
        reply.header('content-security-policy', CONSOLE_CSP);
      },
    },
  });

  // In a plugin, so it is added once the document plugin has loaded (and is documented itself).
  app.register(async (docs) => {
    docs.route({
      ...operation('getOpenApi'),
      handler: async (_req, reply) => reply.header('cache-control', 'no-cache').send(app.swagger() as OpenAPIV3_1.Document),
    });
  });
}

/** The checked-in copy of the API document (docs/openapi.json), as `npm run openapi` writes it. */
export function renderApiDocument(doc: unknown): string {
  return JSON.stringify(doc, null, 2) + '\n';
}
