import { z } from 'zod';
import { priority } from './events.ts';
import { MERCURE_ALGS } from './domains/mercure.ts';

/** Settings the console edits and the hub stores; the desktop shell reads `port` at start. */
export const settingsSchema = z
  .object({
    port: z.number().int().min(0).max(65535).default(7700),
    retention_days: z.number().positive().max(3650).default(7),
    retention_max_events: z.number().int().positive().default(1_000_000),
    notifications: z
      .object({
        muted: z.boolean().default(false),
        /** Events at or above this priority go to the notification centre. */
        min_priority: priority.default('high'),
        /** Events at or above this priority raise a desktop notification. */
        desktop_min_priority: priority.default('urgent'),
        chime_on_new_order: z.boolean().default(false),
        types: z.array(z.string().max(100)).max(100).optional(),
      })
      .strict()
      .default({ muted: false, min_priority: 'high', desktop_min_priority: 'urgent', chime_on_new_order: false }),
    /**
     * The Mercure protocol on /.well-known/mercure (applied at the hub's next start). The keys are not
     * here: every token may read settings, and a key would let it sign its own Mercure tokens; the
     * desktop app takes them from MERCURE_PUBLISHER_JWT_KEY / MERCURE_SUBSCRIBER_JWT_KEY, as `serve` does.
     */
    mercure: z
      .object({
        alg: z.enum(MERCURE_ALGS).default('HS256'),
        anonymous: z.boolean().default(false),
        subscriptions: z.boolean().default(false),
      })
      .strict()
      .default({ alg: 'HS256', anonymous: false, subscriptions: false }),
  })
  .strict();
export type Settings = z.infer<typeof settingsSchema>;
