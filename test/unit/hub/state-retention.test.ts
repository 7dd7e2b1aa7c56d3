import { afterEach, describe, expect, it } from 'vitest';
import { ev, openCore, type Core } from './parts.ts';

let core: Core | undefined;
afterEach(() => {
  core?.close();
  core = undefined;
});

const account = { account_id: 1, name: 'Main', exchange: 'BINANCE' };
const tradingOrder = (id: string, status: string) =>
  ev({ type: 'trading.order.updated', user_id: 7, strategy_id: 1, data: { order_id: id, symbol: 'BTC/USDT', side: 'BUY', order_type: 'LIMIT', quantity: 1, status, account } });

describe('state rows leave with the retained log as their domain says', () => {
  it('mail always, trading orders and jobs once finished; store orders and positions stay', async () => {
    const c = (core = openCore());
    await c.engine.publish([
      ev({ type: 'mail.email.new', user_id: 7, data: { email_id: 'm1', from: 'a@example.com', subject: 'old' } }),
      tradingOrder('done', 'FILLED'),
      tradingOrder('open', 'OPEN'),
      ev({ type: 'job.completed', data: { job_id: 'j-done' } }),
      ev({ type: 'job.progress', data: { job_id: 'j-running', progress: 10, stage: 'draft' } }),
      ev({ type: 'store.order.created', store_id: 12, data: { order_id: 'o1', items: [{ name: 'Tea', quantity: 1 }], total: 3 } }),
      ev({ type: 'trading.position.updated', user_id: 7, strategy_id: 1, data: { position_id: 'p1', symbol: 'ETH/USDT', quantity: 1, entry_price: 3000, account } }),
    ]);
    const before = c.log.head + 1;
    await c.engine.publish([ev({ type: 'mail.email.new', user_id: 7, data: { email_id: 'm2', from: 'a@example.com', subject: 'new' } })]);

    expect(c.projections.pruneBefore(before)).toBe(3);
    const snap = c.projections.snapshot(c.log.head, {}, {});
    expect(snap.mail.map((r) => r.data.email_id)).toEqual(['m2']);
    expect(snap.trading_orders.map((r) => r.data.order_id)).toEqual(['open']);
    expect(snap.jobs.map((r) => r.data.job_id)).toEqual(['j-running']);
    expect(snap.store_orders).toHaveLength(1);
    expect(snap.positions).toHaveLength(1);
  });
});
