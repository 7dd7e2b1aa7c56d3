import { z } from 'zod';
import { priority } from './events.ts';

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
  })
  .strict();
export type Settings = z.infer<typeof settingsSchema>;
