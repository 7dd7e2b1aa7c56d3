import { expect, it as test } from 'vitest';
import { backoffDelay, BACKOFF_STEPS_MS, JITTER } from '../../../renderer/stream/backoff.ts';
import { csvCell, toCsv, toNdjson } from '../../../renderer/live/export.ts';
import { batchText } from '../../../renderer/stream/describe.ts';
import { matches } from '../../../renderer/live/filter.ts';
import { applyEvent, emptyTables, type Change } from '../../../renderer/stream/projections.ts';
import type { HubEvent } from '../../../shared/events.ts';

// Pure console logic, no browser needed (it ran under Playwright before): the parts whose exact
// numbers and strings matter.

test('backoff: 1 s, 2 s, 5 s, then 15 s, each within +-10 %', () => {
  const expected = [1_000, 2_000, 5_000, 15_000, 15_000, 15_000];
  expected.forEach((base, i) => {
    expect(backoffDelay(i + 1, () => 0)).toBe(Math.round(base * (1 - JITTER)));
    expect(backoffDelay(i + 1, () => 1)).toBe(Math.round(base * (1 + JITTER)));
    expect(backoffDelay(i + 1, () => 0.5)).toBe(base);
  });
  // Real randomness stays inside the band.
  for (let i = 0; i < 200; i++) {
    const d = backoffDelay(4);
    expect(d).toBeGreaterThanOrEqual(13_500);
    expect(d).toBeLessThanOrEqual(16_500);
  }
  expect(BACKOFF_STEPS_MS).toEqual([1_000, 2_000, 5_000, 15_000]);
});

const ev = (seq: number, type: string, data: Record<string, unknown>, keys: Partial<HubEvent> = {}): HubEvent => ({
  seq,
  id: `ev-${seq}`,
  type,
  data,
  store_id: null,
  user_id: null,
  strategy_id: null,
  priority: 'normal',
  time: '2026-01-01T00:00:00.000Z',
  received_at: '2026-01-01T00:00:00.000Z',
  ...keys,
});

test('CSV: quoting, doubled quotes, formula injection neutralised; NDJSON one object per line', () => {
  expect(csvCell('plain')).toBe('plain');
  expect(csvCell('a,b')).toBe('"a,b"');
  expect(csvCell('say "hi"')).toBe('"say ""hi"""');
  expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
  expect(csvCell('=SUM(A1)')).toBe("'=SUM(A1)");
  expect(csvCell(null)).toBe('');
  const evs = [ev(1, 'x.a.b', { v: 'x,y' }), ev(2, 'x.a.b', { v: 2 })];
  const csv = toCsv(evs).split('\r\n');
  expect(csv[0]).toBe('seq,id,type,time,received_at,priority,store_id,user_id,strategy_id,tenant_id,topics,summary,data');
  expect(csv[1]).toContain('"{""v"":""x,y""}"');
  expect(toNdjson(evs).split('\n').filter(Boolean).map((l) => JSON.parse(l).seq)).toEqual([1, 2]);
});

test('batch summary text reads like the seed: "50 LIMIT created, 10 cancelled"', () => {
  expect(batchText({ summaries: [{ order_type: 'LIMIT', created: 50, cancelled: 10, filled: 0, failed: 0 }] })).toBe('50 LIMIT created, 10 cancelled');
  expect(batchText({ summaries: [{ order_type: 'MARKET', filled: 3 }, { order_type: 'LIMIT', failed: 1 }] })).toBe('3 MARKET filled; 1 LIMIT failed');
});

test('live filter: type patterns as the hub matches them, scope key, case-insensitive text', () => {
  const e = ev(5, 'trading.order.created', { symbol: 'BTC/USDT' }, { user_id: 'u1', strategy_id: '3' });
  expect(matches({ type: 'trading.*', scope: '', text: '' }, e)).toBe(true);
  expect(matches({ type: 'store.*', scope: '', text: '' }, e)).toBe(false);
  expect(matches({ type: '', scope: 'strategy_id=3', text: '' }, e)).toBe(true);
  expect(matches({ type: '', scope: 'strategy_id=4', text: '' }, e)).toBe(false);
  expect(matches({ type: '', scope: '', text: 'btc/usdt' }, e)).toBe(true);
  expect(matches({ type: '', scope: '', text: 'ETH' }, e)).toBe(false);
});

test('client projections follow the hub rules: merge, classification, session end, deletes', () => {
  const t = emptyTables();
  const out: Change[] = [];
  applyEvent(t, ev(1, 'store.order.created', { order_id: 'A', table_id: '4', items: [], total: 1, status: 'pending' }, { store_id: '1' }), { order_id: 'A', table_id: '4', status: 'pending' }, out);
  applyEvent(t, ev(2, 'store.order.updated', { order_id: 'A', status: 'ready' }, { store_id: '1' }), { order_id: 'A', status: 'ready' }, out);
  expect(t.store_order.get('1///A')!.data).toMatchObject({ table_id: '4', status: 'ready', last_type: 'store.order.updated' });
  applyEvent(t, ev(3, 'store.session.ended', { table_id: '4' }, { store_id: '1' }), { table_id: '4' }, out);
  expect(t.store_order.size).toBe(0);
  applyEvent(t, ev(4, 'mail.email.new', {}, { user_id: 'u' }), { email_id: 'm', from: 'a', subject: 's' }, out);
  applyEvent(t, ev(5, 'mail.email.classified', {}, { user_id: 'u' }), { email_id: 'm', category: 'c', priority: 'high' }, out);
  expect(t.mail.get('/u//m')!.data).toMatchObject({ from: 'a', classification: { category: 'c', priority: 'high' } });
  expect(out.map((c) => c.op)).toEqual(['upsert', 'upsert', 'delete', 'upsert', 'upsert']);
});

test('a row fetched whole from the hub is not rolled back by older events still on their way', () => {
  const t = emptyTables();
  const out: Change[] = [];
  // The hub's copy at seq 10 (status ready), put in by the row filler.
  t.store_order.set('1///B', { key: '1///B', seq: 10, store_id: '1', user_id: null, strategy_id: null, created_at: 't0', updated_at: 't10', data: { order_id: 'B', table_id: '7', status: 'ready' } });
  applyEvent(t, ev(8, 'store.order.updated', {}, { store_id: '1' }), { order_id: 'B', status: 'preparing' }, out);
  applyEvent(t, ev(9, 'store.order.deleted', {}, { store_id: '1' }), { order_id: 'B' }, out);
  expect(t.store_order.get('1///B')).toMatchObject({ seq: 10, data: { status: 'ready' } });
  expect(out).toEqual([]);
  applyEvent(t, ev(11, 'store.order.updated', {}, { store_id: '1' }), { order_id: 'B', status: 'served' }, out);
  expect(t.store_order.get('1///B')).toMatchObject({ seq: 11, data: { table_id: '7', status: 'served' } });
});

test('client projections keep the buttons of the event that last changed a row, as the hub does', () => {
  const t = emptyTables();
  const out: Change[] = [];
  const retry = { id: 'job.retry', label: 'Retry', style: 'primary' as const };
  const key = '/7//j-1';
  applyEvent(t, ev(1, 'job.queued', {}, { user_id: '7' }), { job_id: 'j-1', title: 'Draft' }, out);
  expect(t.job.get(key)).not.toHaveProperty('actions');
  applyEvent(t, ev(2, 'job.failed', {}, { user_id: '7', actions: [retry], topics: ['jobs/j-1'] }), { job_id: 'j-1', error: 'rate limited', retryable: true }, out);
  expect(t.job.get(key)!.actions).toEqual({ seq: 2, id: 'ev-2', type: 'job.failed', topics: ['jobs/j-1'], items: [retry] });
  // The change that follows says nothing of buttons: the Retry was about the failure, so it goes.
  applyEvent(t, ev(3, 'job.progress', {}, { user_id: '7' }), { job_id: 'j-1', progress: 10, stage: 'drafting' }, out);
  expect(t.job.get(key)).not.toHaveProperty('actions');
  applyEvent(t, ev(4, 'job.failed', {}, { user_id: '7', actions: [] }), { job_id: 'j-1', error: 'again', retryable: false }, out);
  expect(t.job.get(key)).not.toHaveProperty('actions');
  // An event older than the row (a row fetched whole from the hub) changes neither data nor buttons.
  applyEvent(t, ev(6, 'job.failed', {}, { user_id: '7', actions: [retry] }), { job_id: 'j-1', error: 'third', retryable: true }, out);
  applyEvent(t, ev(5, 'job.progress', {}, { user_id: '7' }), { job_id: 'j-1', progress: 20, stage: 'drafting' }, out);
  expect(t.job.get(key)).toMatchObject({ seq: 6, actions: { seq: 6, id: 'ev-6', items: [retry] } });
  expect(t.job.get(key)!.actions).not.toHaveProperty('topics');
});
