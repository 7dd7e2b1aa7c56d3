import { z } from 'zod';
import { formatMoney } from '../money.ts';
import { tableLabel } from '../table-label.ts';
import { defineDomain, str } from './define.ts';

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

/** Items as the kitchen reads them: "2× Bibimbap, 1× Tea". */
function itemsText(items: unknown): string {
  if (!Array.isArray(items) || !items.length) return '0 items';
  return (items as { name?: unknown; quantity?: unknown }[]).map((i) => `${str(i.quantity)}× ${str(i.name)}`).join(', ');
}

export const store = defineDomain({
  name: 'store',
  types: {
    'store.order.created': storeOrderCreated,
    'store.order.updated': storeOrderUpdated,
    'store.order.deleted': storeOrderDeleted,
    'store.session.ended': storeSessionEnded,
  },
  // An order without a store could only be delivered to unscoped admins: refused at publish instead
  // of silently missing from every store's console.
  requiredKeys: ['store_id'],
  kinds: {
    store_order: { field: 'store_orders', cap: 5_000, view: 'orders' },
  },
  state: {
    'store.order.created': { op: 'create', kind: 'store_order', id: 'order_id' },
    'store.order.updated': { op: 'patch', kind: 'store_order', id: 'order_id' },
    'store.order.deleted': { op: 'delete', kind: 'store_order', id: 'order_id' },
    // A table's session ends: every order of the table goes from the board.
    'store.session.ended': { op: 'end_session', kind: 'store_order', match: 'table_id' },
  },
  summary: {
    'store.order.created': (d) => `Order ${str(d.order_number ?? d.order_id)} · ${tableLabel(d) ?? 'takeaway'} · ${itemsText(d.items)} · ${formatMoney(d.total, d.currency)}`,
    'store.order.updated': (d) => `Order ${str(d.order_id)} → ${str(d.status)}${tableLabel(d) !== null ? ` (${tableLabel(d)!})` : ''}${d.note ? ` · ${str(d.note)}` : ''}`,
    'store.order.deleted': (d) => `Order ${str(d.order_id)} deleted${d.reason ? `: ${str(d.reason)}` : ''}`,
    'store.session.ended': (d) => `${tableLabel(d) ?? 'Table'} session ended${d.session_id ? ` (session ${str(d.session_id)})` : ''}`,
  },
  colour: '36',
});
export const storeTypes = store.types;

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
