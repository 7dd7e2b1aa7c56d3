import { z } from 'zod';
import { createTokenRequest, createdTokenSchema, historyPageSchema, publishResultSchema, statsSchema } from '../api.ts';
import { statePageSchema } from '../state.ts';
import { settingsSchema } from '../settings.ts';
import { createWebhookRequest, createdWebhookSchema, deadLetterListSchema, purgeDeadRequest, webhookEndpointSchema, webhookListSchema, webhookTestResultSchema } from '../webhooks.ts';
import { inboxChangeSchema, inboxMarkSchema, inboxPageSchema } from '../inbox.ts';
import { actionAcceptedResponse, actionListQuerySchema, actionListSchema, actionParams, actionRequestSchema, actionStatusSchema } from '../domains/action.ts';
import { eventStreamSchema, historyQuerySchema, publishBodySchema, streamQuerySchema } from './events.ts';
import { healthSchema, whoamiSchema } from './identity.ts';
import {
  closeConnectionsQuery,
  connectionListSchema,
  disconnectedSchema,
  idParams,
  loginUrlSchema,
  prunedTokensSchema,
  pruneTokensRequest,
  revokeResultSchema,
  strategyChangeSchema,
  strategyChangedSchema,
  strategyListSchema,
  strategyParams,
  tokenListSchema,
} from './admin.ts';
import { deadLetterParams, deadLetterQuery, deadLettersDeletedSchema, webhookParams, webhookRemovedSchema } from './webhooks.ts';
import { inboxQuery } from './inbox.ts';
import { stateQuerySchema, stateViewParams } from './state.ts';
import { noQuery } from './query.ts';
import {
  ldJson,
  mercurePublishForm,
  mercurePublishedSchema,
  mercureSecurity,
  mercureStreamSchema,
  mercureSubscribeQuery,
  mercureSubscriberParams,
  mercureSubscriptionSchema,
  mercureSubscriptionsSchema,
  mercureTopicParams,
} from './mercure.ts';
import './components.ts';

/** A response whose body is not JSON: the SSE stream, Prometheus text. */
export interface ContentResponse {
  description: string;
  content: Record<string, { schema: z.ZodType }>;
}

/**
 * One operation of the API: where it is, what it takes and what it answers (its success statuses;
 * the error statuses share one body, errorBodySchema, and are added where the hub declares the route).
 */
export interface RouteContract {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Fastify's path syntax (`:id`); the API document writes `{id}`. */
  url: string;
  summary: string;
  /** Longer text for the API document, where the summary is not enough. */
  description?: string;
  tags: readonly string[];
  /**
   * Who may call it, for the API document, when it is not a hub token (`config.auth` on the route):
   * the Mercure routes take the protocol's JWTs. An empty requirement (`{}`) means "or none".
   */
  security?: readonly Record<string, readonly string[]>[];
  params?: z.ZodType;
  querystring?: z.ZodType;
  body?: z.ZodType;
  /** Content types the body may be sent as, when not only application/json. */
  consumes?: readonly string[];
  response: Record<number, z.ZodType | ContentResponse>;
}


const loginCodeQuery = z.object({ code: z.string().min(1).max(200) }).strict();
const noContent = z.null().optional().meta({ description: 'No content.' });

/**
 * Every operation, by its operationId. Clients look a route up here for its response schema
 * (`routes.whoami.response[200].parse(body)`), so a change of shape is one change.
 */
export const routes = {
  publishEvents: {
    method: 'POST',
    url: '/v1/events',
    summary: 'Publish one event or a batch (all or nothing)',
    tags: ['events'],
    querystring: noQuery,
    body: publishBodySchema,
    consumes: ['application/json', 'application/x-ndjson'],
    response: { 201: publishResultSchema },
  },
  listEvents: {
    method: 'GET',
    url: '/v1/events',
    summary: 'Read the event history within the caller’s scope',
    tags: ['events'],
    querystring: historyQuerySchema,
    response: { 200: historyPageSchema },
  },
  streamEvents: {
    method: 'GET',
    url: '/v1/stream',
    summary: 'Subscribe to live events (Server-Sent Events), after a replay or a snapshot if asked',
    tags: ['events'],
    querystring: streamQuerySchema,
    response: { 200: { description: 'An endless Server-Sent Events stream.', content: { 'text/event-stream': { schema: eventStreamSchema } } } },
  },
  getState: {
    method: 'GET',
    url: '/v1/state/:view',
    summary: 'Read a page of the current state (orders, positions, mail) within the caller’s scope',
    tags: ['state'],
    params: stateViewParams,
    querystring: stateQuerySchema,
    response: { 200: statePageSchema },
  },
  whoami: { method: 'GET', url: '/v1/whoami', summary: 'Who the caller is, and the head of its scope', tags: ['state'], querystring: noQuery, response: { 200: whoamiSchema } },

  createToken: { method: 'POST', url: '/v1/tokens', summary: 'Create a token (the secret is shown once)', tags: ['tokens'], body: createTokenRequest, response: { 201: createdTokenSchema } },
  listTokens: { method: 'GET', url: '/v1/tokens', summary: 'List the tokens within the caller’s scope', tags: ['tokens'], response: { 200: tokenListSchema } },
  revokeToken: { method: 'DELETE', url: '/v1/tokens/:id', summary: 'Revoke a token and close its streams', tags: ['tokens'], params: idParams, response: { 200: revokeResultSchema } },
  pruneTokens: {
    method: 'POST',
    url: '/v1/tokens/prune',
    summary: 'Delete revoked tokens of one label, keeping the most recently revoked few (unscoped admin)',
    tags: ['tokens'],
    body: pruneTokensRequest,
    response: { 200: prunedTokensSchema },
  },
  createLoginUrl: { method: 'POST', url: '/v1/tokens/:id/login-url', summary: 'Make a one-time console login link for a token', tags: ['tokens'], params: idParams, response: { 201: loginUrlSchema } },

  listStrategies: { method: 'GET', url: '/v1/strategies', summary: 'List strategies and whether each is active', tags: ['strategies'], response: { 200: strategyListSchema } },
  activateStrategy: {
    method: 'POST',
    url: '/v1/strategies/:id/activate',
    summary: 'Activate a strategy',
    tags: ['strategies'],
    params: strategyParams,
    body: strategyChangeSchema,
    response: { 200: strategyChangedSchema },
  },
  deactivateStrategy: {
    method: 'POST',
    url: '/v1/strategies/:id/deactivate',
    summary: 'Deactivate a strategy and close the streams that only receive it',
    tags: ['strategies'],
    params: strategyParams,
    body: strategyChangeSchema,
    response: { 200: strategyChangedSchema },
  },

  listConnections: { method: 'GET', url: '/v1/connections', summary: 'List open streams within the caller’s scope', tags: ['connections'], response: { 200: connectionListSchema } },
  closeConnections: {
    method: 'DELETE',
    url: '/v1/connections',
    summary: 'Close the streams that match a selector',
    tags: ['connections'],
    querystring: closeConnectionsQuery,
    response: { 200: disconnectedSchema },
  },

  getSettings: { method: 'GET', url: '/v1/settings', summary: 'Read the hub settings', tags: ['settings'], response: { 200: settingsSchema } },
  putSettings: { method: 'PUT', url: '/v1/settings', summary: 'Replace the hub settings (unscoped admin)', tags: ['settings'], body: settingsSchema, response: { 200: settingsSchema } },

  createWebhook: { method: 'POST', url: '/v1/webhooks', summary: 'Add a webhook endpoint (the secret is shown once)', tags: ['webhooks'], body: createWebhookRequest, response: { 201: createdWebhookSchema } },
  listWebhooks: { method: 'GET', url: '/v1/webhooks', summary: 'List webhook endpoints within the caller’s scope', tags: ['webhooks'], response: { 200: webhookListSchema } },
  listDeadLetters: { method: 'GET', url: '/v1/webhooks/dead', summary: 'List events given up on', tags: ['webhooks'], querystring: deadLetterQuery, response: { 200: deadLetterListSchema } },
  getWebhook: { method: 'GET', url: '/v1/webhooks/:id', summary: 'Read a webhook endpoint and its delivery state', tags: ['webhooks'], params: webhookParams, response: { 200: webhookEndpointSchema } },
  deleteWebhook: { method: 'DELETE', url: '/v1/webhooks/:id', summary: 'Remove a webhook endpoint', tags: ['webhooks'], params: webhookParams, response: { 200: webhookRemovedSchema } },
  testWebhook: { method: 'POST', url: '/v1/webhooks/:id/test', summary: 'Send a signed test message now', tags: ['webhooks'], params: webhookParams, response: { 200: webhookTestResultSchema } },
  purgeDeadLetters: {
    method: 'POST',
    url: '/v1/webhooks/dead/purge',
    summary: 'Delete dead letters (one endpoint’s or all the caller may see, optionally only older ones)',
    tags: ['webhooks'],
    body: purgeDeadRequest,
    response: { 200: deadLettersDeletedSchema },
  },
  deleteDeadLetter: {
    method: 'DELETE',
    url: '/v1/webhooks/:id/dead/:seq',
    summary: 'Delete one dead letter',
    tags: ['webhooks'],
    params: deadLetterParams,
    response: { 200: deadLettersDeletedSchema },
  },
  retryDeadLetter: {
    method: 'POST',
    url: '/v1/webhooks/:id/dead/:seq/retry',
    summary: 'Deliver a dead letter again now',
    tags: ['webhooks'],
    params: deadLetterParams,
    response: { 200: webhookTestResultSchema },
  },

  listInbox: { method: 'GET', url: '/v1/inbox', summary: 'Notable events with the token’s read and dismissed marks', tags: ['inbox'], querystring: inboxQuery, response: { 200: inboxPageSchema } },
  markInboxRead: { method: 'POST', url: '/v1/inbox/read', summary: 'Mark events read', tags: ['inbox'], body: inboxMarkSchema, response: { 200: inboxChangeSchema } },
  markInboxUnread: { method: 'POST', url: '/v1/inbox/unread', summary: 'Mark events unread', tags: ['inbox'], body: inboxMarkSchema, response: { 200: inboxChangeSchema } },
  dismissInbox: { method: 'POST', url: '/v1/inbox/dismiss', summary: 'Dismiss events', tags: ['inbox'], body: inboxMarkSchema, response: { 200: inboxChangeSchema } },

  requestAction: {
    method: 'POST',
    url: '/v1/actions',
    summary: 'Ask a backend to act (recorded as an action.requested event)',
    tags: ['actions'],
    body: actionRequestSchema,
    response: { 202: actionAcceptedResponse },
  },
  listActions: {
    method: 'GET',
    url: '/v1/actions',
    summary: 'The action history in the caller’s scope, newest first',
    tags: ['actions'],
    querystring: actionListQuerySchema,
    response: { 200: actionListSchema },
  },
  getAction: { method: 'GET', url: '/v1/actions/:action_id', summary: 'Read an action’s state and outcomes', tags: ['actions'], params: actionParams, response: { 200: actionStatusSchema } },

  health: { method: 'GET', url: '/healthz', summary: 'Health for load balancers (503 while draining or forked)', tags: ['ops'], response: { 200: healthSchema, 503: healthSchema } },
  getStats: { method: 'GET', url: '/v1/stats', summary: 'Hub statistics (a scoped admin sees its scope)', tags: ['ops'], response: { 200: statsSchema } },
  getMetrics: {
    method: 'GET',
    url: '/metrics',
    summary: 'Prometheus metrics (unscoped admin)',
    tags: ['ops'],
    response: { 200: { description: 'Prometheus text exposition format.', content: { 'text/plain': { schema: z.string() } } } },
  },
  getOpenApi: { method: 'GET', url: '/v1/openapi.json', summary: 'This API document (OpenAPI 3.1)', tags: ['ops'], response: { 200: z.record(z.string(), z.unknown()) } },

  exchangeLoginCode: {
    method: 'GET',
    url: '/auth/exchange',
    summary: 'Trade a one-time login code for the console session cookie, then redirect to the console',
    tags: ['console'],
    querystring: loginCodeQuery,
    response: { 303: noContent },
  },
  logout: { method: 'POST', url: '/auth/logout', summary: 'End the console session', tags: ['console'], response: { 204: noContent } },

  // The Mercure protocol (served with --mercure-publisher-jwt-key; the subscriptions API with
  // --mercure-subscriptions). Refusals are the protocol's statuses (400, 401 with
  // WWW-Authenticate: Bearer realm="mercure", 403, 404, 415) in the hub's error body.
  mercurePublish: {
    method: 'POST',
    url: '/.well-known/mercure',
    summary: 'Publish a Mercure update (stored as a mercure.update event)',
    description:
      'A publisher JWT whose `mercure.publish` claim matches every topic of the update. A publish authorized by the cookie needs an Origin or Referer header (CSRF).',
    tags: ['mercure'],
    security: mercureSecurity,
    body: mercurePublishForm,
    consumes: ['application/x-www-form-urlencoded'],
    response: { 200: { description: 'Stored: the update id.', content: { 'text/plain': { schema: mercurePublishedSchema } } } },
  },
  mercureSubscribe: {
    method: 'GET',
    url: '/.well-known/mercure',
    summary: 'Subscribe to Mercure updates (Server-Sent Events)',
    description:
      'A subscriber JWT receives public updates and the private ones its `mercure.subscribe` claim matches; without a JWT (only on a hub started with --mercure-anonymous) public updates only. HEAD answers the same checks and headers without a stream.',
    tags: ['mercure'],
    security: [...mercureSecurity, {}],
    querystring: mercureSubscribeQuery,
    response: { 200: { description: 'An endless Server-Sent Events stream of updates.', content: { 'text/event-stream': { schema: mercureStreamSchema } } } },
  },
  mercureSubscriptions: {
    method: 'GET',
    url: '/.well-known/mercure/subscriptions',
    summary: 'The active Mercure subscriptions on this hub',
    description: "A subscriber JWT whose `mercure.subscribe` claim matches this URL (as sent, percent-encoded).",
    tags: ['mercure'],
    security: mercureSecurity,
    response: { 200: ldJson(mercureSubscriptionsSchema, 'The subscriptions, as JSON-LD.') },
  },
  mercureTopicSubscriptions: {
    method: 'GET',
    url: '/.well-known/mercure/subscriptions/:topic',
    summary: 'The active Mercure subscriptions of one topic selector',
    description: "A subscriber JWT whose `mercure.subscribe` claim matches this URL (as sent, percent-encoded).",
    tags: ['mercure'],
    security: mercureSecurity,
    params: mercureTopicParams,
    response: { 200: ldJson(mercureSubscriptionsSchema, 'The subscriptions, as JSON-LD.') },
  },
  mercureSubscription: {
    method: 'GET',
    url: '/.well-known/mercure/subscriptions/:topic/:subscriber',
    summary: 'One active Mercure subscription',
    description: "A subscriber JWT whose `mercure.subscribe` claim matches this URL (as sent, percent-encoded); 404 when the subscriber is not connected.",
    tags: ['mercure'],
    security: mercureSecurity,
    params: mercureSubscriberParams,
    response: { 200: ldJson(mercureSubscriptionSchema, 'The subscription, as JSON-LD.') },
  },
} as const satisfies Record<string, RouteContract>;

export type OperationId = keyof typeof routes;
