import { z } from 'zod';
import { errorBodySchema, tokenInfoSchema } from '../api.ts';
import { hubEventSchema, publishEnvelope } from '../events.ts';
import { tokenScopeSchema } from '../scope.ts';
import { projectionRowSchema } from '../state.ts';
import { webhookEndpointSchema } from '../webhooks.ts';

/**
 * Schemas the API document names (components/schemas) instead of repeating inline wherever they are
 * used, so a generated client has one HubEvent type, one ErrorBody, and so on. A schema that reads
 * differently than it is written (a scope key may be sent as a number, is answered as a string)
 * gets a second component for requests, suffixed `Input`.
 */
const named: [z.ZodType, string][] = [
  [errorBodySchema, 'ErrorBody'],
  [hubEventSchema, 'HubEvent'],
  [publishEnvelope, 'PublishEvent'],
  [tokenScopeSchema, 'TokenScope'],
  [tokenInfoSchema, 'TokenInfo'],
  [projectionRowSchema, 'ProjectionRow'],
  [webhookEndpointSchema, 'WebhookEndpoint'],
];
for (const [schema, id] of named) if (!z.globalRegistry.has(schema)) z.globalRegistry.add(schema, { id });
