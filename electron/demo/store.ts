import type { Runtime } from './runtime.ts';

/** Seed 000: a restaurant with tables, QR-code sessions and a kitchen order lifecycle. */
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

export function startStore(rt: Runtime, storeId = DEMO_STORE_ID): void {
  const tables: Table[] = Array.from({ length: 8 }, (_, i) => ({ id: `T${i + 1}`, session: null, open: new Set<string>(), orders: 0 }));
  let orderNo = 100 + rt.int(0, 50);
  let sessionNo = 0;
  const keys = { store_id: storeId };

  const advance = (table: Table, orderId: string, steps: readonly ['accepted' | 'preparing' | 'ready' | 'served', number, number][]) => {
    const [status, min, max] = steps[0]!;
    rt.after(rt.between(min, max), () => {
      // About one order in 20 is cancelled and removed before the kitchen starts on it.
      if (status === 'preparing' && rt.chance(0.05)) {
        rt.safely(() => rt.client.publish('store.order.deleted', { order_id: orderId, table_id: table.id, reason: rt.pick(CANCEL_REASONS) }, { ...keys, priority: 'high' }));
        table.open.delete(orderId);
        return;
      }
      const waitedLong = status === 'ready' && rt.chance(0.15);
      rt.safely(() =>
        rt.client.publish(
          'store.order.updated',
          { order_id: orderId, status, table_id: table.id, ...(waitedLong ? { note: 'waiting over 10 minutes; please serve now' } : {}) },
          { ...keys, priority: waitedLong ? 'urgent' : status === 'ready' ? 'high' : 'normal' },
        ),
      );
      if (status === 'served') {
        table.open.delete(orderId);
        maybeEndSession(table);
        return;
      }
      advance(table, orderId, steps.slice(1));
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
    advance(table, orderId, [
      ['accepted', 2_000, 5_000],
      ['preparing', 2_000, 6_000],
      ['ready', 8_000, 20_000],
      ['served', 3_000, 8_000],
    ]);
  };

  rt.every(4_000, 9_000, newOrder, 300);
}
