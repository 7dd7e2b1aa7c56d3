import { z } from 'zod';

// Route parameters and queries of the webhook API; the endpoint and dead-letter shapes are in
// shared/webhooks.ts.

export const deadLetterQuery = z
  .object({
    endpoint_id: z.string().max(64).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();
export const webhookParams = z.object({ id: z.string().min(1).max(200) });
export const deadLetterParams = z.object({ id: z.string().min(1).max(200), seq: z.coerce.number().int().positive() });
export const webhookRemovedSchema = z.object({ removed: z.literal(true) });
export const deadLettersDeletedSchema = z.object({ deleted: z.number().int().nonnegative() });
