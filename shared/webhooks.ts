import { z } from 'zod';
import { tokenScopeSchema } from './scope.ts';
import { TYPE_FILTER_PATTERN } from './events.ts';

/**
 * Webhook endpoints: the hub POSTs the events an endpoint subscribes to, signed as the Standard
 * Webhooks specification says (webhook-id / webhook-timestamp / webhook-signature, HMAC-SHA256 with
 * a `whsec_` secret), so a backend verifies them with any Standard Webhooks library.
 */
const secretSchema = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, 'must be whsec_ followed by at least 24 bytes of base64 (as Standard Webhooks libraries generate)');

export const createWebhookRequest = z
  .object({
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
      .max(2048),
    /** Event type filters as GET /v1/stream takes them (`store.*`, `trading.order.cancelled`); none means all. */
    types: z.array(z.string().regex(TYPE_FILTER_PATTERN, 'must be a type or a prefix ending in .*')).max(50).default([]),
    /** Only events inside this scope are sent; it must lie within the caller's own scope. */
    scope: tokenScopeSchema.default({}),
    description: z.string().max(200).optional(),
    /** Bring your own secret (to share it with the backend ahead of time); one is generated otherwise. */
    secret: secretSchema.optional(),
  })
  .strict();
export type CreateWebhookRequest = z.input<typeof createWebhookRequest>;

export const webhookEndpointSchema = z.object({
  id: z.string(),
  url: z.string(),
  types: z.array(z.string()),
  scope: tokenScopeSchema,
  description: z.string().nullable(),
  created_at: z.string(),
  /** The last event seq handled (delivered, or given up on into the dead-letter list). */
  cursor: z.number().int(),
  delivered: z.number().int(),
  failed_attempts: z.number().int(),
  dead: z.number().int(),
  /** Events after the cursor waiting for this endpoint (an upper bound: scope and type filters apply). */
  backlog: z.number().int(),
  /** Attempts made at the event currently being retried (0 when the endpoint is healthy). */
  retrying: z.number().int(),
  next_attempt_at: z.string().nullable(),
  last_success_at: z.string().nullable(),
  last_error: z.string().nullable(),
  last_status: z.number().int().nullable(),
});
export type WebhookEndpoint = z.infer<typeof webhookEndpointSchema>;

/** Only the create response carries the secret. */
export const createdWebhookSchema = webhookEndpointSchema.extend({ secret: z.string() });
export type CreatedWebhook = z.infer<typeof createdWebhookSchema>;

export const deadLetterSchema = z.object({
  endpoint_id: z.string(),
  seq: z.number().int(),
  webhook_id: z.string(),
  type: z.string(),
  attempts: z.number().int(),
  last_error: z.string().nullable(),
  last_status: z.number().int().nullable(),
  dead_at: z.string(),
});
export type DeadLetter = z.infer<typeof deadLetterSchema>;

export const webhookListSchema = z.object({ webhooks: z.array(webhookEndpointSchema) });
export const deadLetterListSchema = z.object({ dead: z.array(deadLetterSchema) });
export const webhookTestResultSchema = z.object({ ok: z.boolean(), status: z.number().int().nullable(), error: z.string().nullable(), webhook_id: z.string(), duration_ms: z.number() });
export type WebhookTestResult = z.infer<typeof webhookTestResultSchema>;

/** POST /v1/webhooks/dead/purge: which dead letters to delete. One of `before` or `all` is required. */
export const purgeDeadRequest = z
  .object({
    /** Only this endpoint's (else every endpoint the caller may see). */
    endpoint_id: z.string().min(1).max(64).optional(),
    /** Only letters that died before this instant. */
    before: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
    all: z.literal(true, { message: 'must be true' }).optional(),
  })
  .strict()
  .refine((b) => b.before !== undefined || b.all === true, { path: ['before'], message: 'say which letters: before=<date-time>, or all=true for every one' })
  .refine((b) => !(b.before !== undefined && b.all === true), { path: ['all'], message: 'give before or all, not both' });
export type PurgeDeadRequest = z.infer<typeof purgeDeadRequest>;
