import { z } from 'zod';
import { defineDomain, str, type Data } from './define.ts';

// Loose at every level: these schemas check the fields they name and keep every other one, because
// an event is stored and delivered as its publisher sent it (shared/events.ts#normalizeData).

const id = z.union([z.string().min(1).max(128), z.number().int()]).transform(String);
const qty = z.number().finite().nonnegative();
const price = z.number().finite().nonnegative();

export const tradingSide = z.enum(['BUY', 'SELL']);
export const tradingOrderType = z.enum(['MARKET', 'LIMIT', 'STOP_LIMIT', 'STOP_MARKET', 'TAKE_PROFIT', 'TRAILING_STOP']);
export const tradingOrderStatus = z.enum(['NEW', 'OPEN', 'PARTIALLY_FILLED', 'FILLED', 'CANCELLED', 'EXPIRED', 'REJECTED']);

/** Every trading event names its account as `account.account_id`, as trading bots already send it; we keep that shape. */
export const tradingAccount = z.looseObject({
  account_id: id,
  name: z.string().max(200),
  exchange: z.string().max(64),
});

const orderCore = {
  order_id: id,
  symbol: z.string().min(1).max(64),
  side: tradingSide,
  order_type: tradingOrderType,
  quantity: qty,
  price: price.nullable().optional(),
  stop_price: price.nullable().optional(),
  filled_quantity: qty.optional(),
  average_price: price.nullable().optional(),
  status: tradingOrderStatus,
  account: tradingAccount,
  /** Set by backends for orders that are part of a batch already summarised by trading.order.batch. */
  suppress_toast: z.boolean().optional(),
};

export const tradingOrderEvent = z.looseObject(orderCore);

export const tradingPositionEvent = z.looseObject({
  position_id: id,
  symbol: z.string().min(1).max(64),
  quantity: z.number().finite(),
  previous_quantity: z.number().finite().optional(),
  entry_price: price,
  unrealized_pnl: z.number().finite().optional(),
  account: tradingAccount,
});

export const tradingBatchSummary = z.looseObject({
  order_type: tradingOrderType,
  created: z.number().int().nonnegative().default(0),
  cancelled: z.number().int().nonnegative().default(0),
  filled: z.number().int().nonnegative().default(0),
  failed: z.number().int().nonnegative().default(0),
});

export const tradingOrderBatch = z.looseObject({
  summaries: z.array(tradingBatchSummary).min(1).max(50),
  /** When true, consoles show only the batch toast, not one per order (the trading bot's own suppress_toast flag, which it sets on every order of a batch). */
  suppress_toasts: z.boolean().default(true),
  batch_id: z.string().max(128).optional(),
});

/** "50 LIMIT created, 10 cancelled; 5 MARKET filled" from a trading.order.batch payload. */
export function batchText(d: Data): string {
  const summaries = Array.isArray(d.summaries) ? (d.summaries as Data[]) : [];
  return summaries
    .map((x) => {
      const parts = (['created', 'cancelled', 'filled', 'failed'] as const).filter((k) => Number(x[k] ?? 0) > 0).map((k) => `${Number(x[k])} ${k}`);
      if (!parts.length) return `${String(x.order_type)}: no changes`;
      parts[0] = `${parts[0]!.split(' ')[0]} ${String(x.order_type)} ${parts[0]!.split(' ')[1]}`;
      return parts.join(', ');
    })
    .join('; ');
}

/** "BUY 0.01 BTC/USDT LIMIT @ 95000 · PARTIALLY_FILLED · filled 0.005 · BINANCE (order EX-77)". */
function orderText(d: Data): string {
  const exchange = (d.account as { exchange?: unknown } | undefined)?.exchange;
  return `${str(d.side)} ${str(d.quantity)} ${str(d.symbol)} ${str(d.order_type)}${d.price != null ? ` @ ${str(d.price)}` : ''} · ${str(d.status)}${d.filled_quantity !== undefined ? ` · filled ${str(d.filled_quantity)}` : ''}${exchange ? ` · ${str(exchange)}` : ''} (order ${str(d.order_id)})`;
}

/** "Position ETH/USDT 1 → 1.5 @ 3100 · pnl 12". */
const positionText = (closed: boolean) => (d: Data) =>
  `Position ${str(d.symbol)} ${d.previous_quantity !== undefined ? `${str(d.previous_quantity)} → ` : ''}${str(d.quantity)} @ ${str(d.entry_price)}${d.unrealized_pnl !== undefined ? ` · pnl ${str(d.unrealized_pnl)}` : ''}${closed ? ' · closed' : ''}`;

// Every trading state change merges into its row, a create too, so a create that arrives after an
// update of the same order keeps the update's fields. A create still carries the whole row.
const orderRule = { op: 'patch', kind: 'trading_order', id: 'order_id', wholeRow: true } as const;
const positionRule = { op: 'patch', kind: 'position', id: 'position_id', wholeRow: true } as const;
// The trading bot's own chatter: worth a toast only to someone watching trading, and not for the
// orders of a batch it already summarised (it marks those suppress_toast).
const orderToast = { view: 'trading', group: 'trading.order', when: (d: Data) => d.suppress_toast !== true };

export const trading = defineDomain({
  name: 'trading',
  types: {
    'trading.order.created': tradingOrderEvent,
    'trading.order.updated': tradingOrderEvent,
    'trading.order.filled': tradingOrderEvent,
    'trading.order.cancelled': tradingOrderEvent,
    'trading.order.batch': tradingOrderBatch,
    'trading.position.created': tradingPositionEvent,
    'trading.position.updated': tradingPositionEvent,
    'trading.position.closed': tradingPositionEvent,
  },
  requiredKeys: ['user_id', 'strategy_id'],
  kinds: {
    trading_order: { field: 'trading_orders', cap: 5_000, view: 'orders', prunedWithLog: { field: 'status', in: ['FILLED', 'CANCELLED', 'EXPIRED', 'REJECTED'] } },
    position: { field: 'positions', cap: 5_000, view: 'positions' },
  },
  state: {
    'trading.order.created': orderRule,
    'trading.order.updated': { ...orderRule, wholeRow: false },
    'trading.order.filled': { ...orderRule, wholeRow: false },
    'trading.order.cancelled': { ...orderRule, wholeRow: false },
    'trading.order.batch': null,
    'trading.position.created': positionRule,
    'trading.position.updated': { ...positionRule, wholeRow: false },
    'trading.position.closed': { op: 'delete', kind: 'position', id: 'position_id' },
  },
  summary: {
    'trading.order.created': orderText,
    'trading.order.updated': orderText,
    'trading.order.filled': orderText,
    'trading.order.cancelled': orderText,
    'trading.order.batch': (d) => `${batchText(d)}${d.batch_id ? ` (batch ${str(d.batch_id)})` : ''}`,
    'trading.position.created': positionText(false),
    'trading.position.updated': positionText(false),
    'trading.position.closed': positionText(true),
  },
  viewToasts: {
    'trading.order.created': orderToast,
    'trading.order.updated': orderToast,
    'trading.order.filled': orderToast,
    'trading.order.cancelled': orderToast,
    'trading.order.batch': { view: 'trading', group: 'trading.batch' },
  },
  colour: '35',
});
export const tradingTypes = trading.types;

/**
 * Cancelling a trading order from the console: the `trading.order.cancel` action asks the bot that
 * owns the order; it answers with an action outcome and, when done, `trading.order.cancelled`.
 */
export const TRADING_CANCEL_ACTION = 'trading.order.cancel';

/** Orders still working at the exchange, the only ones a cancel can reach. */
export const TRADING_CANCELLABLE: readonly z.infer<typeof tradingOrderStatus>[] = ['NEW', 'OPEN', 'PARTIALLY_FILLED'];
