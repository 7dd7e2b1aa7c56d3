import { describe, expect, it } from 'vitest';
import { formatMoney } from '../../../shared/money.ts';
import { tableLabel } from '../../../shared/table-label.ts';
import { ToastQueue, toastFor, type ToastContext } from '../../../renderer/notify/toast-queue.ts';
import type { HubEvent } from '../../../shared/events.ts';

describe('formatMoney', () => {
  it('formats by currency with its own minor units', () => {
    expect(formatMoney(54000, 'KRW', 'en-US')).toBe('₩54,000');
    expect(formatMoney('12.5', 'usd', 'en-US')).toBe('$12.50');
    expect(formatMoney(1234.5, 'EUR', 'de-DE').replace(/\s/g, ' ')).toBe('1.234,50 €');
  });
  it('keeps a code Intl does not know instead of dropping it, and says "-" for no amount', () => {
    expect(formatMoney(10, 'POINTS', 'en-US')).toBe('10 POINTS');
    expect(formatMoney(3.256, undefined, 'en-US')).toBe('3.26');
    expect(formatMoney(undefined, 'KRW')).toBe('-');
    expect(formatMoney('abc', 'KRW')).toBe('-');
  });
});

describe('tableLabel', () => {
  it('prefixes a bare id only', () => {
    expect(tableLabel({ table_id: 2 })).toBe('Table 2');
    expect(tableLabel({ table_id: 'A12' })).toBe('Table A12');
    expect(tableLabel({ table_label: 'Table 2', table_id: 2 })).toBe('Table 2');
    expect(tableLabel({ table_id: 'Terrace 4' })).toBe('Terrace 4');
    expect(tableLabel({ table_id: 'Bar' })).toBe('Bar');
    expect(tableLabel({})).toBeNull();
  });
});

const ev = (type: string, priority: HubEvent['priority'] = 'normal', data: Record<string, unknown> = {}): HubEvent =>
  ({ seq: 1, id: 'x', type, priority, data, store_id: null, user_id: 'u', strategy_id: '1', time: '2026-12-02T00:00:00Z', received_at: '2026-12-02T00:00:00Z' }) as unknown as HubEvent;
const ctx = (view: string, extra: Partial<ToastContext> = {}): ToastContext => ({ view, minPriority: 'high', muted: false, ...extra });

describe('toastFor', () => {
  const order = ev('trading.order.updated', 'normal', { symbol: 'BTC/USDT', side: 'BUY', quantity: 1, order_type: 'LIMIT', status: 'FILLED' });
  it('interrupts with trading chatter only someone watching trading', () => {
    expect(toastFor(order, order.data as Record<string, unknown>, ctx('orders'))).toBeNull();
    expect(toastFor(order, order.data as Record<string, unknown>, ctx('trading'))?.group).toBe('trading.order');
    expect(toastFor(order, { ...(order.data as object), suppress_toast: true }, ctx('trading'))).toBeNull();
  });
  it('toasts alerts anywhere, unless muted', () => {
    const hot = ev('store.order.created', 'urgent', { order_id: '1', table_id: 3, items: [], total: 1 });
    expect(toastFor(hot, hot.data as Record<string, unknown>, ctx('mail'))?.tone).toBe('warn');
    expect(toastFor(hot, hot.data as Record<string, unknown>, ctx('mail', { muted: true }))).toBeNull();
  });
});

describe('ToastQueue', () => {
  it('groups a burst into one toast with a count', () => {
    const q = new ToastQueue(3, 6_000);
    for (let i = 0; i < 10; i++) q.push('trading.order', `order ${i}`, 'info', 1_000 + i);
    expect(q.items).toHaveLength(1);
    expect(q.items[0]).toMatchObject({ text: 'order 9', count: 10 });
  });
  it('never shows more than three; the rest are counted in one "more" toast', () => {
    const q = new ToastQueue(3, 6_000);
    for (let i = 0; i < 6; i++) q.push(`g${i}`, `alert ${i}`, i === 5 ? 'warn' : 'info', 1_000);
    expect(q.items.map((t) => t.text)).toEqual(['alert 0', 'alert 1', '4 more: see Alerts and the live view']);
    expect(q.items[2]!.tone).toBe('warn');
  });
  it('expires and dismisses', () => {
    const q = new ToastQueue(3, 6_000);
    q.push('a', 'a', 'info', 0);
    q.push('b', 'b', 'info', 5_000);
    expect(q.expire(6_500)).toBe(true);
    expect(q.items.map((t) => t.text)).toEqual(['b']);
    q.dismiss(q.items[0]!.id);
    expect(q.items).toEqual([]);
  });
});
