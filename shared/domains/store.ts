import { z } from 'zod';

// Loose at every level: these schemas check the fields they name and keep every other one, because
// an event is stored and delivered as its publisher sent it (shared/events.ts#normalizeData).

const money = z.number().finite().nonnegative();
const orderId = z.union([z.string().min(1).max(128), z.number().int()]).transform(String);
const tableId = z.union([z.string().min(1).max(64), z.number().int()]).transform(String);

export const storeOrderStatus = z.enum(['pending', 'accepted', 'preparing', 'ready', 'served', 'completed', 'cancelled']);
export type StoreOrderStatus = z.infer<typeof storeOrderStatus>;

export const storeOrderItem = z.looseObject({
  name: z.string().min(1).max(200),
  quantity: z.number().int().positive().max(10_000),
  price: money.optional(),
  options: z.array(z.string().max(200)).max(50).optional(),
});

export const storeOrderCreated = z.looseObject({
  order_id: orderId,
  table_id: tableId.optional(),
  table_label: z.string().max(64).optional(),
  session_id: z.string().max(128).optional(),
  order_number: z.union([z.string().max(32), z.number().int()]).optional(),
  items: z.array(storeOrderItem).min(1).max(500),
  total: money,
  currency: z.string().length(3).optional(),
  status: storeOrderStatus.default('pending'),
  note: z.string().max(1000).optional(),
});

export const storeOrderUpdated = z.looseObject({
  order_id: orderId,
  status: storeOrderStatus,
  table_id: tableId.optional(),
  note: z.string().max(1000).optional(),
});

export const storeOrderDeleted = z.looseObject({
  order_id: orderId,
  table_id: tableId.optional(),
  reason: z.string().max(500).optional(),
});

export const storeSessionEnded = z.looseObject({
  table_id: tableId,
  session_id: z.string().max(128).optional(),
});

export const storeTypes = {
  'store.order.created': storeOrderCreated,
  'store.order.updated': storeOrderUpdated,
  'store.order.deleted': storeOrderDeleted,
  'store.session.ended': storeSessionEnded,
} as const;

/**
 * How a kitchen moves an order along, as the console's buttons and the store backend both read it:
 * the `order.status` action asks the backend to set `params.status`, and the backend answers by
 * publishing the order's update (and an action outcome).
 */
export const ORDER_STATUS_ACTION = 'order.status';

/** The one forward step from each status ("bump"), with its button label; none for final states. */
export const ORDER_BUMP: Partial<Record<StoreOrderStatus, { to: StoreOrderStatus; label: string }>> = {
  pending: { to: 'accepted', label: 'Accept' },
  accepted: { to: 'preparing', label: 'Start' },
  preparing: { to: 'ready', label: 'Ready' },
  ready: { to: 'served', label: 'Served' },
};

/** Statuses an order can still be cancelled from (cancelling needs a reason). */
export const ORDER_CANCELLABLE: readonly StoreOrderStatus[] = ['pending', 'accepted', 'preparing', 'ready'];

/** Whether `to` is a status change the store accepts from `from`. */
export function orderTransitionAllowed(from: StoreOrderStatus, to: StoreOrderStatus): boolean {
  return ORDER_BUMP[from]?.to === to || (to === 'cancelled' && ORDER_CANCELLABLE.includes(from));
}
