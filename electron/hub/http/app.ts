import Fastify, { LogController, type FastifyInstance, type FastifyError, type FastifyBaseLogger } from 'fastify';
import { existsSync } from 'node:fs';
import type { Hub } from '../hub.ts';
import { HubError, isStorageError, storageUnavailable } from '../errors.ts';
import { registerBodyParsers } from './body.ts';
import { registerSecurity } from './security.ts';
import { guardConnections } from './connections.ts';
import { registerAuth } from './auth.ts';
import { registerRateLimit, type RateCharger } from './rate-limit.ts';
import { registerContract, validationError } from './contract.ts';
import { registerApiDocs } from './docs.ts';
import { publishRoutes } from './routes/publish.ts';
import { streamRoutes } from './routes/stream.ts';
import { queryRoutes } from './routes/query.ts';
import { adminRoutes } from './routes/admin.ts';
import { opsRoutes } from './routes/ops.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { inboxRoutes } from './routes/inbox.ts';
import { actionRoutes } from './routes/actions.ts';
import { consoleRoutes } from './routes/console.ts';
import { mercureRoutes } from './routes/mercure.ts';
import type { ErrorBody } from '../../../shared/api.ts';
import { routes } from '../../../shared/api/routes.ts';

/** Query strings never reach the logs with a token in them. */
function redactUrl(url: string): string {
  // `authorization` is a Mercure subscriber's JWT (routes/mercure.ts).
  return url.replace(/([?&](?:access_token|code|authorization)=)[^&]*/gi, '$1[redacted]');
}

/** A route as registered: one method (Fastify's HEAD twins of GET routes included) and its path. */
export interface RegisteredRoute {
  method: string;
  url: string;
}
const registered = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/**
 * Every route the app registered, plugins' included (Swagger UI's files, the console's static
 * files), for the check that each one is an operation of the contract or knowingly left out.
 */
export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  return registered.get(app) ?? [];
}

export interface RouteContext {
  hub: Hub;
  /** Charges a read's rows and bytes to the caller's rate limit (requests are counted by the rate-limit hook). */
  limiter: RateCharger;
}

/**
 * From the moment the hub starts closing (draining: commits flushing, streams told to come back,
 * then the server closing), a new request is answered 503 shutting_down in the hub's error body,
 * with Retry-After and Connection: close, so a client or balancer retries elsewhere or after the
 * restart. Health is still answered by its own route: it reports `draining` (503) in its own shape.
 */
function refuseWhileDraining(app: FastifyInstance, hub: Hub): void {
  app.addHook('onRequest', async (req, reply) => {
    if (!hub.draining || req.routeOptions.url === routes.health.url) return;
    reply.header('connection', 'close');
    throw new HubError(503, 'shutting_down', 'the hub is shutting down; retry against the restarted hub', undefined, { 'retry-after': '2' });
  });
}

/**
 * The hub's Fastify app, every route declared. Synchronous, so a hub has its app from construction:
 * plugins registered here load when the app starts (`ready`/`listen`), in the order registered.
 */
export function buildApp(hub: Hub): FastifyInstance {
  const app: FastifyInstance = Fastify({
    loggerInstance: hub.logger as unknown as FastifyBaseLogger,
    // Per-request lines would dominate at thousands of publishes per second; errors are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: hub.opts.bodyLimitBytes,
    // A client that opens a socket and sends nothing, or sends slowly, must not hold it: the request
    // head must arrive within 10 s and the whole request (body included) within 30 s, and a kept-alive
    // socket is closed after 5 s without a request. An SSE stream is unaffected: its request is
    // complete once its head is in, and it is never idle between requests. Node checks these every
    // connectionsCheckingInterval; the default 30 s would let a deadline overrun by that much.
    http: { headersTimeout: 10_000, connectionsCheckingInterval: 1_000 },
    requestTimeout: 30_000,
    connectionTimeout: 0,
    keepAliveTimeout: 5_000,
    // Fastify's own 503 while closing has its own body ({"error":"Service Unavailable",…}); the
    // hub refuses requests during shutdown itself (refuseWhileDraining), with the error body.
    return503OnClosing: false,
    forceCloseConnections: true,
  });
  app.server.maxHeadersCount = 100;
  const list: RegisteredRoute[] = [];
  registered.set(app, list);
  // On the root before anything registers, so every plugin's routes pass through it.
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) list.push({ method, url: r.url });
  });
  guardConnections(app.server, hub.opts.maxConnections, hub.logger);
  refuseWhileDraining(app, hub);
  registerBodyParsers(app);
  registerContract(app);
  registerSecurity(app, { allowedHosts: hub.opts.allowedHosts, corsOrigins: hub.opts.corsOrigins });

  app.setErrorHandler((err: FastifyError | HubError, req, reply) => {
    let body: ErrorBody['error'];
    err = validationError(err) ?? err;
    // A full or unwritable disk outside the publish path (tokens, settings, strategies) is a 503 too.
    if (!(err instanceof HubError) && isStorageError(err)) err = storageUnavailable(err);
    if (err instanceof HubError) {
      body = { status: err.status, code: err.code, message: err.message, ...(err.fields ? { fields: err.fields } : {}) };
      for (const [k, v] of Object.entries(err.headers ?? {})) reply.header(k, v);
    } else if (err.statusCode && err.statusCode >= 500 && err.statusCode < 600 && err.code?.startsWith('FST_ERR_')) {
      // Fastify's own server-side refusals (a handler timeout is a 503) keep their status.
      req.log.error({ err, url: redactUrl(req.url) }, 'request failed');
      body = { status: err.statusCode, code: err.code.replace(/^FST_ERR_/, '').toLowerCase(), message: err.message };
    } else if (err.statusCode && err.statusCode < 500) {
      const code = (err.code ?? 'invalid_request').replace(/^FST_ERR_/, '').toLowerCase();
      const field = err.statusCode === 413 ? 'body' : err.statusCode === 415 ? 'headers.content-type' : 'request';
      const reason =
        err.statusCode === 413
          ? `body larger than ${hub.opts.bodyLimitBytes} bytes`
          : err.statusCode === 415
            ? 'use application/json or application/x-ndjson'
            : err.message;
      body = { status: err.statusCode, code, message: err.message, fields: [{ path: field, reason }] };
    } else {
      req.log.error({ err, url: redactUrl(req.url) }, 'unhandled error');
      body = { status: 500, code: 'internal', message: 'internal error; see the hub log' };
    }
    hub.metrics.rejected.inc({ status: String(body.status) });
    if (body.status >= 500 || body.status === 429) req.log.warn({ status: body.status, code: body.code, url: redactUrl(req.url) }, body.message);
    else req.log.debug({ status: body.status, code: body.code, url: redactUrl(req.url) }, body.message);
    reply.code(body.status).header('cache-control', 'no-store').send({ error: body });
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: { status: 404, code: 'not_found', message: `no route ${req.method} ${redactUrl(req.url.split('?')[0]!)}` } });
  });

  // Registered before the routes: it collects each route's schema as the route is added.
  registerApiDocs(app);
  app.register(async (api) => {
    // Authentication first (onRequest), so the rate limit can key on the token it found.
    registerAuth(api, hub.tokens);
    const shared = hub.engine.rateLimitStore?.();
    const limiter = await registerRateLimit(api, { defaultPerSecond: hub.opts.rateLimitPerSecond, redis: shared?.redis, redisPrefix: shared?.prefix });
    const ctx: RouteContext = { hub, limiter };
    publishRoutes(api, ctx);
    streamRoutes(api, ctx);
    queryRoutes(api, ctx);
    adminRoutes(api, ctx);
    opsRoutes(api, ctx);
    webhookRoutes(api, ctx);
    inboxRoutes(api, ctx);
    actionRoutes(api, ctx);
  });
  // Its own plugin: the form body parser it adds stays on the Mercure routes (which authenticate
  // with the Mercure JWTs, not the hub's tokens, so they are not under the auth hook).
  app.register(async (m) => mercureRoutes(m, { hub }));
  // In a plugin of its own, so it loads after the API document plugin and its routes are documented.
  app.register(async (root) => consoleRoutes(root, { hub }, hub.opts.rendererDir && existsSync(hub.opts.rendererDir) ? hub.opts.rendererDir : undefined));
  return app;
}
