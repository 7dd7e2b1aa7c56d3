import { z } from 'zod';

/** Rows of the projections the hub keeps in the same transaction as the log. */
export const projectionRowSchema = z.object({
  key: z.string(),
  seq: z.number().int(),
  store_id: z.string().nullable(),
  user_id: z.string().nullable(),
  strategy_id: z.string().nullable(),
  updated_at: z.string(),
  created_at: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type ProjectionRow = z.infer<typeof projectionRowSchema>;

export const stateKinds = ['store_order', 'trading_order', 'position', 'mail', 'mail_sync'] as const;
export type StateKind = (typeof stateKinds)[number];

export const snapshotSchema = z.object({
  seq: z.number().int().nonnegative(),
  store_orders: z.array(projectionRowSchema),
  trading_orders: z.array(projectionRowSchema),
  positions: z.array(projectionRowSchema),
  mail: z.array(projectionRowSchema),
  mail_sync: z.array(projectionRowSchema),
});
export type Snapshot = z.infer<typeof snapshotSchema>;
