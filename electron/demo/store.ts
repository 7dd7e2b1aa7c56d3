import type { Runtime } from './runtime.ts';
import { outcomeId } from './receiver.ts';
import type { HubEvent } from '../../shared/events.ts';
import { actionRequested } from '../../shared/domains/action.ts';
import { ORDER_BUMP, ORDER_STATUS_ACTION, orderTransitionAllowed, storeOrderStatus, type StoreOrderStatus } from '../../shared/domains/store.ts';

/** A restaurant with tables, QR-code sessions and a kitchen order lifecycle. */
const MENU = [
  { name: 'Bibimbap', price: 12_000 },
  { name: 'Kimchi jjigae', price: 10_000 },
  { name: 'Bulgogi', price: 18_000 },
  { name: 'Tteokbokki', price: 8_000 },
  { name: 'Japchae', price: 11_000 },
  { name: 'Haemul pajeon', price: 16_000 },
  { name: 'Naengmyeon', price: 11_000 },
  { name: 'Soju', price: 5_000 },
  { name: 'Cass beer', price: 6_000 },
] as const;
const OPTIONS = ['less spicy', 'extra rice', 'no egg', 'extra spicy'];
const CANCEL_REASONS = ['customer changed their mind', 'ordered at the wrong table', 'kitchen out of stock', 'duplicate order'];

export const DEMO_STORE_ID = '12';

interface Table {
  id: string;
  session: string | null;
  open: Set<string>;
  orders: number;
}

interface Order {
  id: string;
  table: Table;
  status: StoreOrderStatus;
  /** Removed by the kitchen (store.order.deleted): no status applies any more. */
  deleted: boolean;
  /** Bumped on every change, so a step the simulation scheduled earlier sees it is stale. */
  gen: number;
}

/** How long the kitchen takes to reach each status (ms at rate 1). */
const STEP_MS: Partial<Record<StoreOrderStatus, [number, number]>> = {
  accepted: [2_000, 5_000],
  preparing: [2_000, 6_000],
  ready: [8_000, 20_000],
  served: [3_000, 8_000],
};
/** Orders remembered after they finish, so an action on one is rejected naming its status. */
const MAX_KNOWN_ORDERS = 500;

export interface StoreBackend {
  /** Answers an `action.requested` delivered by webhook: outcome events under the request's keys. */
  handleAction(event: HubEvent): void;
}

export function startStore(rt: Runtime, storeId = DEMO_STORE_ID): StoreBackend {
  const tables: Table[] = Array.from({ length: 8 }, (_, i) => ({ id: `T${i + 1}`, session: null, open: new Set<string>(), orders: 0 }));
  const orders = new Map<string, Order>();
  let orderNo = 100 + rt.int(0, 50);
  let sessionNo = 0;
  const keys = { store_id: storeId };

  const finish = (o: Order) => {
    o.table.open.delete(o.id);
    maybeEndSession(o.table);
  };

  // The kitchen moves an order one step at a time from whatever status it has now, so an order an
  // operator moved continues from there and a step planned before the operator's change is dropped.
  const advance = (o: Order) => {
    const next = ORDER_BUMP[o.status]?.to;
    if (!next) return finish(o);
    const gen = ++o.gen;
    const [min, max] = STEP_MS[next]!;
    rt.after(rt.between(min, max), () => {
      if (o.gen !== gen) return;
      // About one order in 20 is cancelled and removed before the kitchen starts on it.
      if (next === 'preparing' && rt.chance(0.05)) {
        rt.safely(() => rt.client.publish('store.order.deleted', { order_id: o.id, table_id: o.table.id, reason: rt.pick(CANCEL_REASONS) }, { ...keys, priority: 'high' }));
        o.deleted = true;
        o.table.open.delete(o.id);
        return;
      }
      const waitedLong = next === 'ready' && rt.chance(0.15);
      rt.safely(() =>
        rt.client.publish(
          'store.order.updated',
          { order_id: o.id, status: next, table_id: o.table.id, ...(waitedLong ? { note: 'waiting over 10 minutes; please serve now' } : {}) },
          { ...keys, priority: waitedLong ? 'urgent' : next === 'ready' ? 'high' : 'normal' },
        ),
      );
      o.status = next;
      advance(o);
    });
  };

  const maybeEndSession = (table: Table) => {
    if (table.open.size || !table.session) return;
    // Guests leave after a few orders: the table's session ends and the QR code is reset.
    if (table.orders >= rt.int(1, 4)) {
      const session = table.session;
      rt.after(rt.between(4_000, 12_000), () => {
        if (table.open.size || table.session !== session) return;
        rt.safely(() => rt.client.publish('store.session.ended', { table_id: table.id, session_id: session }, keys));
        table.session = null;
        table.orders = 0;
      });
    }
  };

  const newOrder = () => {
    const free = tables.filter((t) => t.open.size < 2);
    if (!free.length) return;
    const table = rt.pick(free);
    table.session ??= `S-${Date.now().toString(36)}-${++sessionNo}`;
    table.orders++;
    orderNo++;
    const orderId = `ord-${storeId}-${orderNo}`;
    const items = Array.from({ length: rt.int(1, 4) }, () => {
      const m = rt.pick(MENU);
      return { name: m.name, quantity: rt.int(1, 3), price: m.price, ...(rt.chance(0.2) ? { options: [rt.pick(OPTIONS)] } : {}) };
    });
    const total = items.reduce((s, i) => s + i.quantity * i.price, 0);
    table.open.add(orderId);
    const order: Order = { id: orderId, table, status: 'pending', deleted: false, gen: 0 };
    orders.set(orderId, order);
    if (orders.size > MAX_KNOWN_ORDERS) orders.delete(orders.keys().next().value!);
    rt.safely(() =>
      rt.client.publish(
        'store.order.created',
        {
          order_id: orderId,
          order_number: orderNo,
          table_id: table.id,
          table_label: `Table ${table.id.slice(1)}`,
          session_id: table.session!,
          items,
          total,
          currency: 'KRW',
          status: 'pending',
          ...(rt.chance(0.1) ? { note: 'allergy: peanuts' } : {}),
        },
        // A large party's order is worth a toast.
        { ...keys, priority: total >= 80_000 ? 'high' : 'normal' },
      ),
    );
    advance(order);
  };

  rt.every(4_000, 9_000, newOrder, 300);

  /** Why the store refuses to set `to` on the order, or null when it does. */
  const refusal = (orderId: string, to: StoreOrderStatus, note: string | undefined): string | null => {
    const o = orders.get(orderId);
    if (!o) return `order ${orderId} is not an order of store ${storeId} that this backend knows`;
    if (o.deleted) return `order ${orderId} was removed by the kitchen`;
    if (!orderTransitionAllowed(o.status, to)) {
      const bump = ORDER_BUMP[o.status]?.to;
      return `order ${orderId} is ${o.status}; it cannot go to ${to}${bump ? ` (only to ${bump}, or cancelled)` : ''}`;
    }
    if (to === 'cancelled' && !note) return 'cancelling an order needs a reason (params.reason)';
    return null;
  };

  return {
    handleAction(event) {
      const parsed = actionRequested.safeParse(event.data);
      if (!parsed.success) return rt.log.warn(`demo: ignored a malformed action.requested (seq ${event.seq})`);
      const req = parsed.data;
      // The outcome goes under the request's own keys: that is how the hub ties it to the request.
      const at = { store_id: event.store_id ?? storeId, ...(event.user_id ? { user_id: event.user_id } : {}), ...(event.strategy_id ? { strategy_id: event.strategy_id } : {}) };
      const outcome = (type: 'action.accepted' | 'action.rejected' | 'action.completed', data: Record<string, unknown>) =>
        rt.safely(() => rt.client.publish(type, { action_id: req.action_id, ...data }, { ...at, priority: 'high', id: outcomeId(req.action_id, type.slice(7)) }));
      if (req.name !== ORDER_STATUS_ACTION) return outcome('action.rejected', { reason: `the store backend does not handle ${req.name}` });
      const status = storeOrderStatus.safeParse(req.params.status);
      if (!status.success) return outcome('action.rejected', { reason: `params.status must be one of ${storeOrderStatus.options.join(', ')}` });
      const to = status.data;
      const orderId = req.target.id;
      const given = req.params.reason ?? req.params.note;
      const note = typeof given === 'string' && given.trim() ? given.trim().slice(0, 1000) : undefined;
      const why = refusal(orderId, to, note);
      if (why) return outcome('action.rejected', { reason: why });
      const o = orders.get(orderId)!;
      outcome('action.accepted', { message: `order ${orderId}: ${o.status} → ${to}` });
      const from = o.status;
      o.status = to;
      o.gen++;
      rt.safely(() =>
        rt.client.publish(
          'store.order.updated',
          { order_id: orderId, status: to, table_id: o.table.id, ...(note ? { note } : {}) },
          { store_id: storeId, priority: to === 'cancelled' ? 'high' : 'normal', id: outcomeId(req.action_id, 'order') },
        ),
      );
      outcome('action.completed', { result: { order_id: orderId, from, status: to } });
      advance(o);
    },
  };
}
