import { z } from 'zod';

// Loose at every level: these schemas check the fields they name and keep every other one, because
// an event is stored and delivered as its publisher sent it (shared/events.ts#normalizeData).

const id = z.union([z.string().min(1).max(128), z.number().int()]).transform(String);
const qty = z.number().finite().nonnegative();
const price = z.number().finite().nonnegative();

export const tradingSide = z.enum(['BUY', 'SELL']);
export const tradingOrderType = z.enum(['MARKET', 'LIMIT', 'STOP_LIMIT', 'STOP_MARKET', 'TAKE_PROFIT', 'TRAILING_STOP']);
export const tradingOrderStatus = z.enum(['NEW', 'OPEN', 'PARTIALLY_FILLED', 'FILLED', 'CANCELLED', 'EXPIRED', 'REJECTED']);

/** Seed 001 unified every trading event on `account.account_id` (2025-10-12); we keep that shape. */
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

export const tradingTypes = {
  'trading.order.created': tradingOrderEvent,
  'trading.order.updated': tradingOrderEvent,
  'trading.order.filled': tradingOrderEvent,
  'trading.order.cancelled': tradingOrderEvent,
  'trading.order.batch': tradingOrderBatch,
  'trading.position.created': tradingPositionEvent,
  'trading.position.updated': tradingPositionEvent,
  'trading.position.closed': tradingPositionEvent,
} as const;

/**
 * Cancelling a trading order from the console: the `trading.order.cancel` action asks the bot that
 * owns the order; it answers with an action outcome and, when done, `trading.order.cancelled`.
 */
export const TRADING_CANCEL_ACTION = 'trading.order.cancel';

/** Orders still working at the exchange, the only ones a cancel can reach. */
export const TRADING_CANCELLABLE: readonly z.infer<typeof tradingOrderStatus>[] = ['NEW', 'OPEN', 'PARTIALLY_FILLED'];
