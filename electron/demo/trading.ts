import type { Runtime } from './runtime.ts';
import type { DataIn } from '../client/index.ts';
import type { HubEvent } from '../../shared/events.ts';
import { actionRequested } from '../../shared/domains/action.ts';
import { TRADING_CANCEL_ACTION } from '../../shared/domains/trading.ts';

/** A trading bot: orders, fills and positions per (user, strategy), and bulk order batches. */
type OrderData = DataIn<'trading.order.created'>;
type OrderType = OrderData['order_type'];

interface Strategy {
  id: string;
  name: string;
  account: { account_id: number; name: string; exchange: string };
  symbols: { symbol: string; price: number; lot: number }[];
}

export const DEMO_TRADING_USER = '1';
export const DEMO_STRATEGIES: Strategy[] = [
  {
    id: '1',
    name: 'BTC grid',
    account: { account_id: 101, name: 'Main', exchange: 'BINANCE' },
    symbols: [{ symbol: 'BTC/USDT', price: 95_000, lot: 0.01 }],
  },
  {
    id: '2',
    name: 'ETH/SOL momentum',
    account: { account_id: 202, name: 'Futures', exchange: 'BYBIT' },
    symbols: [
      { symbol: 'ETH/USDT', price: 3_100, lot: 0.25 },
      { symbol: 'SOL/USDT', price: 180, lot: 5 },
    ],
  },
];

const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;

/** An order the bot placed, until it is filled or cancelled (then `closed` with its final status). */
interface LiveOrder {
  base: OrderData;
  strategyId: string;
  status: OrderData['status'];
  filled: number;
  closed: boolean;
}
const MAX_KNOWN_ORDERS = 500;

export interface TradingBackend {
  /** Answers a `trading.order.cancel` action delivered by webhook, under the request's keys. */
  handleAction(event: HubEvent): void;
}

export function startTrading(rt: Runtime, userId = DEMO_TRADING_USER, strategies = DEMO_STRATEGIES): TradingBackend {
  const live = new Map<string, LiveOrder>();
  let orderSeq = 0;
  let batchSeq = 0;
  const positions = new Map<string, { id: string; qty: number; entry: number }>();

  for (const s of strategies) {
    const keys = { user_id: userId, strategy_id: s.id };
    const orderId = () => `${s.account.exchange.slice(0, 3)}-${s.id}-${Date.now().toString(36)}-${++orderSeq}`;

    const tick = () => {
      for (const m of s.symbols) m.price = Math.max(1, m.price * (1 + (rt.random() - 0.5) * 0.004));
    };

    const position = (symbol: string, side: 'BUY' | 'SELL', qty: number, price: number) => {
      const key = `${s.id}:${symbol}`;
      const p = positions.get(key);
      const previous = p?.qty ?? 0;
      const next = round(previous + (side === 'BUY' ? qty : -qty), 6);
      const mark = s.symbols.find((x) => x.symbol === symbol)!.price;
      if (!p) {
        const created = { id: `pos-${s.id}-${symbol.split('/')[0]!.toLowerCase()}-${Date.now().toString(36)}`, qty: next, entry: price };
        positions.set(key, created);
        rt.safely(() => rt.client.publish('trading.position.created', { position_id: created.id, symbol, quantity: next, previous_quantity: 0, entry_price: round(price, 2), unrealized_pnl: 0, account: s.account }, keys));
        return;
      }
      const entry = Math.sign(next) === Math.sign(previous) && Math.abs(next) > Math.abs(previous) ? (p.entry * Math.abs(previous) + price * qty) / Math.abs(next) : p.entry;
      const pnl = round((mark - entry) * next, 2);
      if (next === 0) {
        positions.delete(key);
        rt.safely(() => rt.client.publish('trading.position.closed', { position_id: p.id, symbol, quantity: 0, previous_quantity: previous, entry_price: round(p.entry, 2), unrealized_pnl: 0, account: s.account }, keys));
        return;
      }
      p.qty = next;
      p.entry = entry;
      // A drawdown beyond 2% of notional is what an operator must see now.
      const drawdown = pnl < -Math.abs(entry * next) * 0.02;
      rt.safely(() =>
        rt.client.publish(
          'trading.position.updated',
          { position_id: p.id, symbol, quantity: next, previous_quantity: previous, entry_price: round(entry, 2), unrealized_pnl: pnl, account: s.account },
          { ...keys, priority: drawdown ? 'urgent' : 'normal' },
        ),
      );
    };

    const order = () => {
      tick();
      const m = rt.pick(s.symbols);
      const key = `${s.id}:${m.symbol}`;
      const held = positions.get(key)?.qty ?? 0;
      // Lean towards flattening a large position so the book stays realistic.
      const side: 'BUY' | 'SELL' = held > m.lot * 3 ? 'SELL' : held < -m.lot * 3 ? 'BUY' : rt.chance(0.5) ? 'BUY' : 'SELL';
      const orderType: OrderType = rt.chance(0.7) ? 'LIMIT' : 'MARKET';
      const quantity = round(m.lot * rt.int(1, 4), 6);
      const price = orderType === 'LIMIT' ? round(m.price * (side === 'BUY' ? 0.999 : 1.001), 2) : null;
      const id = orderId();
      const base: OrderData = { order_id: id, symbol: m.symbol, side, order_type: orderType, quantity, price, status: 'NEW', filled_quantity: 0, account: s.account };

      // One order in 25 is rejected by the exchange.
      if (rt.chance(0.04)) {
        rt.safely(() => rt.client.publish('trading.order.created', { ...base, status: 'REJECTED' }, { ...keys, priority: 'high' }));
        return;
      }
      rt.safely(() => rt.client.publish('trading.order.created', base, keys));
      const o: LiveOrder = { base, strategyId: s.id, status: 'NEW', filled: 0, closed: false };
      live.set(id, o);
      if (live.size > MAX_KNOWN_ORDERS) live.delete(live.keys().next().value!);
      const fillPrice = () => round(price ?? m.price, 2);
      // Every later step first checks the order is still open: an operator may have cancelled it.
      if (orderType === 'LIMIT' && rt.chance(0.2)) {
        rt.after(rt.between(5_000, 15_000), () => {
          if (o.closed) return;
          Object.assign(o, { closed: true, status: 'CANCELLED' });
          rt.safely(() => rt.client.publish('trading.order.cancelled', { ...base, status: 'CANCELLED' }, keys));
        });
        return;
      }
      rt.after(rt.between(500, 3_000), () => {
        if (o.closed) return;
        o.status = 'OPEN';
        rt.safely(() => rt.client.publish('trading.order.updated', { ...base, status: 'OPEN' }, keys));
        const partial = quantity > m.lot && rt.chance(0.5);
        const finish = () => {
          if (o.closed) return;
          Object.assign(o, { closed: true, status: 'FILLED', filled: quantity });
          const avg = fillPrice();
          rt.safely(() => rt.client.publish('trading.order.filled', { ...base, status: 'FILLED', filled_quantity: quantity, average_price: avg }, keys));
          position(m.symbol, side, quantity, avg);
        };
        if (partial)
          rt.after(rt.between(1_000, 3_000), () => {
            if (o.closed) return;
            Object.assign(o, { status: 'PARTIALLY_FILLED', filled: round(quantity / 2, 6) });
            rt.safely(() => rt.client.publish('trading.order.updated', { ...base, status: 'PARTIALLY_FILLED', filled_quantity: round(quantity / 2, 6), average_price: fillPrice() }, keys));
            rt.after(rt.between(1_000, 4_000), finish);
          });
        else rt.after(rt.between(500, 2_500), finish);
      });
    };

    /** A rebalance places 100 orders at once; the console shows one summary toast, not 100. */
    const batch = () => {
      tick();
      const batchId = `batch-${s.id}-${++batchSeq}`;
      const m = rt.pick(s.symbols);
      let filled = 0;
      let cancelled = 0;
      let failed = 0;
      for (let i = 0; i < 100; i++) {
        const side = i % 2 ? 'SELL' : 'BUY';
        const r = rt.random();
        const status = r < 0.6 ? 'OPEN' : r < 0.85 ? 'FILLED' : r < 0.97 ? 'CANCELLED' : 'REJECTED';
        if (status === 'FILLED') filled++;
        else if (status === 'CANCELLED') cancelled++;
        else if (status === 'REJECTED') failed++;
        const offset = (i - 50) * 0.0005;
        rt.safely(() =>
          rt.client.publish(
            'trading.order.created',
            {
              order_id: `${batchId}-${i}`,
              symbol: m.symbol,
              side,
              order_type: 'LIMIT',
              quantity: m.lot,
              price: round(m.price * (1 + offset), 2),
              status,
              filled_quantity: status === 'FILLED' ? m.lot : 0,
              account: s.account,
              suppress_toast: true,
            },
            keys,
          ),
        );
      }
      rt.safely(() =>
        rt.client.publish(
          'trading.order.batch',
          { batch_id: batchId, suppress_toasts: true, summaries: [{ order_type: 'LIMIT', created: 100, filled, cancelled, failed }] },
          { ...keys, priority: failed > 0 ? 'high' : 'normal' },
        ),
      );
      rt.log.info(`demo: strategy ${s.id} placed a batch of 100 orders (${batchId})`);
    };

    rt.every(3_000, 7_000, order, 500 + Number(s.id) * 700);
    rt.every(60_000, 120_000, batch, rt.between(15_000, 30_000));
  }

  return {
    handleAction(event) {
      // Only requests about one of this bot's strategies are ours to answer; one that names a store
      // is the store backend's, which answers everything in its store.
      if (event.user_id !== userId || !event.strategy_id || event.store_id) return;
      const parsed = actionRequested.safeParse(event.data);
      if (!parsed.success) return rt.log.warn(`demo: ignored a malformed action.requested (seq ${event.seq})`);
      const req = parsed.data;
      const at = { user_id: userId, strategy_id: event.strategy_id };
      const outcome = (type: 'action.accepted' | 'action.rejected' | 'action.completed', data: Record<string, unknown>) =>
        rt.safely(() => rt.client.publish(type, { action_id: req.action_id, ...data }, { ...at, priority: 'high' }));
      if (req.name !== TRADING_CANCEL_ACTION) return outcome('action.rejected', { reason: `the trading backend does not handle ${req.name}` });
      const orderId = req.target.id;
      const o = live.get(orderId);
      if (!o || o.strategyId !== event.strategy_id) return outcome('action.rejected', { reason: `order ${orderId} is not an open order of strategy ${event.strategy_id} that this backend knows` });
      if (o.closed) return outcome('action.rejected', { reason: `order ${orderId} is ${o.status}; only an open order can be cancelled` });
      outcome('action.accepted', { message: `cancelling order ${orderId} (${o.status})` });
      Object.assign(o, { closed: true, status: 'CANCELLED' });
      rt.safely(() =>
        rt.client.publish('trading.order.cancelled', { ...o.base, status: 'CANCELLED', filled_quantity: o.filled }, { user_id: userId, strategy_id: o.strategyId }),
      );
      outcome('action.completed', { result: { order_id: orderId, status: 'CANCELLED', filled_quantity: o.filled } });
    },
  };
}
