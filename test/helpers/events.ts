import type { PublishEnvelope } from '../../shared/events.ts';

let n = 0;
const uid = () => `${Date.now().toString(36)}-${(n++).toString(36)}`;

/** Realistic, schema-valid events for each domain. */
export const sample = {
  storeOrder(store: string | number, extra: Partial<PublishEnvelope> = {}): PublishEnvelope {
    const id = uid();
    return {
      type: 'store.order.created',
      store_id: store,
      data: { order_id: `o-${id}`, table_id: 'T1', items: [{ name: 'Bibimbap', quantity: 1, price: 12 }], total: 12 },
      ...extra,
    };
  },
  tradingOrder(user: string | number, strategy: string | number, extra: Partial<PublishEnvelope> = {}): PublishEnvelope {
    return {
      type: 'trading.order.created',
      user_id: user,
      strategy_id: strategy,
      data: {
        order_id: `t-${uid()}`,
        symbol: 'BTC/USDT',
        side: 'BUY',
        order_type: 'LIMIT',
        quantity: 0.01,
        price: 95000,
        status: 'NEW',
        account: { account_id: 1, name: 'Main', exchange: 'BINANCE' },
      },
      ...extra,
    };
  },
  position(user: string | number, strategy: string | number, extra: Partial<PublishEnvelope> = {}): PublishEnvelope {
    return {
      type: 'trading.position.updated',
      user_id: user,
      strategy_id: strategy,
      data: { position_id: `p-${uid()}`, symbol: 'ETH/USDT', quantity: 1.5, previous_quantity: 1, entry_price: 3100, account: { account_id: 1, name: 'Main', exchange: 'BYBIT' } },
      ...extra,
    };
  },
  mail(user: string | number, extra: Partial<PublishEnvelope> = {}): PublishEnvelope {
    return {
      type: 'mail.email.new',
      user_id: user,
      data: { email_id: `m-${uid()}`, from: 'supplier@example.com', subject: 'Invoice', snippet: 'Please find attached', folder: 'INBOX' },
      ...extra,
    };
  },
};
