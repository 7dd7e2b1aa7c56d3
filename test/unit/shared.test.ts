import { describe, it, expect } from 'vitest';
import { validateEvent, typeMatches, jsonDepth, normalizeData, eventContentKey, KNOWN_TYPES } from '../../shared/events.ts';
import { rfc3339Ms } from '../../shared/time.ts';
import { parseData } from '../../renderer/stream/projections.ts';
import { inScope, scopeViolation } from '../../shared/scope.ts';
import { sseFrame, formatEventId, parseEventId } from '../../shared/wire.ts';
import { chainContains } from '../../electron/hub/epoch.ts';
import { sample } from '../helpers/events.ts';

describe('event validation', () => {
  it('accepts every domain sample and normalises integer scope keys to strings', () => {
    const r = validateEvent(sample.tradingOrder(7, 3));
    expect(r.ok).toBe(true);
    if (r.ok) expect([r.event.user_id, r.event.strategy_id, r.event.priority]).toEqual(['7', '3', 'normal']);
  });

  it('names the field and reason for typed data errors', () => {
    const r = validateEvent({ type: 'trading.order.filled', user_id: 1, strategy_id: 1, data: { order_id: 1, symbol: 'X', side: 'HOLD' } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.path)).toEqual(expect.arrayContaining(['data.side', 'data.order_type', 'data.account']));
  });

  it('refuses domain events without the scope keys their domain needs', () => {
    const { store_id: _s, ...noStore } = sample.storeOrder(1);
    const r = validateEvent(noStore);
    expect(r.ok ? [] : r.errors).toEqual([{ path: 'store_id', reason: 'required for store.* events' }]);
  });

  it('accepts any object under the custom prefix and refuses unknown types elsewhere', () => {
    expect(validateEvent({ type: 'x.shift.swap_requested', data: { anything: [1, { a: 2 }] } }).ok).toBe(true);
    const r = validateEvent({ type: 'shift.swap', data: {} });
    expect(!r.ok && r.errors[0]!.path).toBe('type');
  });

  it('rejects CR, LF and NUL in type and id, unknown envelope keys, and deep data', () => {
    for (const bad of [
      { type: 'x.a\nevent: evil', data: {} },
      { type: 'x.a', id: 'a\r\nid: 9', data: {} },
      { type: 'x.a', id: 'a\u0000', data: {} },
      { type: 'x.a', data: {}, extra: 1 },
    ])
      expect(validateEvent(bad).ok).toBe(false);
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 40; i++) deep = (deep.a = {}) as Record<string, unknown>;
    expect(validateEvent({ type: 'x.deep', data: root }).ok).toBe(false);
  });

  it('keeps data as sent; normalizeData gives the schema\'s reading with unnamed fields kept', () => {
    const data = { order_id: 7, items: [{ name: 'Tea', quantity: 1, spice: 'mild' }], total: 3, client_tag: 'pos-2' };
    const r = validateEvent({ type: 'store.order.created', store_id: 1, data });
    expect(r.ok && r.event.data).toEqual(data);
    const n = normalizeData('store.order.created', data);
    expect(n).toEqual({ order_id: '7', items: [{ name: 'Tea', quantity: 1, spice: 'mild' }], total: 3, status: 'pending', client_tag: 'pos-2' });
    expect(data.order_id).toBe(7);
    expect(normalizeData('x.any', data)).toBe(data);
    expect(normalizeData('store.order.created', { order_id: 1 })).toBeNull();
    // The console applies the same reading to its tables; the event it keeps (and its inspector
    // shows) is untouched, unknown fields included.
    const ev = { seq: 1, id: 'a', type: 'store.order.created', data, store_id: '1', user_id: null, strategy_id: null, priority: 'normal' as const, time: '', received_at: '' };
    expect(parseData(ev)).toEqual(n);
    expect(ev.data).toEqual({ order_id: 7, items: [{ name: 'Tea', quantity: 1, spice: 'mild' }], total: 3, client_tag: 'pos-2' });
  });

  it('compares event content regardless of key order, not regardless of fields', () => {
    const ev = (data: Record<string, unknown>) => ({ type: 'x.a', data, store_id: null, user_id: null, strategy_id: null, priority: 'normal' as const });
    expect(eventContentKey(ev({ a: 1, b: { c: 2, d: [1, { f: 1, e: 2 }] } }))).toBe(eventContentKey(ev({ b: { d: [1, { e: 2, f: 1 }], c: 2 }, a: 1 })));
    expect(eventContentKey(ev({ a: 1 }))).not.toBe(eventContentKey(ev({ a: 1, extra: null })));
    expect(eventContentKey(ev({ a: [1, 2] }))).not.toBe(eventContentKey(ev({ a: [2, 1] })));
  });

  it('reads RFC 3339 times with any offset as instants', () => {
    const z = Date.parse('2026-11-22T16:30:00Z');
    for (const s of ['2026-11-23T01:30:00+09:00', '2026-11-22t16:30:00z', '2026-11-22 16:30:00Z', '2026-11-22T16:30:00-00:00', '2026-11-22T11:00:00-05:30'])
      expect(rfc3339Ms(s), s).toBe(z);
    expect(rfc3339Ms('2024-02-29T00:00:00.123456Z')).toBe(Date.parse('2024-02-29T00:00:00.123Z'));
    for (const s of ['2025-02-29T00:00:00Z', '2026-11-22T16:30:00', '2026-11-22T24:00:00Z', '2026-11-22T16:30:00+09', '2026-11-22'])
      expect(rfc3339Ms(s), s).toBeNull();
  });

  it('measures depth iteratively even for hostile nesting', () => {
    let v: unknown = 1;
    for (let i = 0; i < 100_000; i++) v = [v];
    expect(jsonDepth(v, 50)).toBe(50);
  });

  it('knows every seed domain type', () => {
    expect(KNOWN_TYPES).toEqual(
      expect.arrayContaining(['store.session.ended', 'trading.order.batch', 'trading.position.closed', 'mail.email.classified', 'mail.sync.error']),
    );
  });
});

describe('type filters', () => {
  it('matches exact types and prefix wildcards only', () => {
    expect(typeMatches(['trading.*'], 'trading.order.created')).toBe(true);
    expect(typeMatches(['trading.*'], 'tradingx.order')).toBe(false);
    expect(typeMatches(['store.order.created'], 'store.order.updated')).toBe(false);
    expect(typeMatches(undefined, 'anything.at.all')).toBe(true);
  });
});

describe('scope', () => {
  it('fails closed when the event lacks a key the scope constrains', () => {
    expect(inScope({ strategy_ids: ['1'] }, { strategy_id: null })).toBe(false);
    expect(inScope({ user_id: '1' }, { user_id: '1', strategy_id: '9' })).toBe(true);
    expect(inScope({ user_id: '1', strategy_ids: ['2'] }, { user_id: '1', strategy_id: '3' })).toBe(false);
    expect(scopeViolation({ store_ids: ['a'] }, { store_id: 'b' })).toBe('store_id');
    expect(inScope({}, {})).toBe(true);
  });
});

describe('SSE framing', () => {
  it('builds id/event/data frames and refuses anything that could split a frame', () => {
    expect(sseFrame('store.order.created', '{"a":1}', 5)).toBe('id: 5\nevent: store.order.created\ndata: {"a":1}\n\n');
    expect(() => sseFrame('bad\nname', '{}')).toThrow();
    expect(() => sseFrame(null, '{"a":"\n"}')).toThrow();
    expect(() => sseFrame(null, '{}', -1)).toThrow();
    // CR, LF and NUL inside event data are JSON-escaped: the frame stays one data line.
    const frame = sseFrame(null, JSON.stringify({ s: 'line1\r\nline2\u0000' }), 1);
    expect(frame.split('\n')).toEqual(['id: 1', 'data: {"s":"line1\\r\\nline2\\u0000"}', '', '']);
  });
  it('event ids are <seq>@<epoch>; a plain seq still parses; anything else is refused', () => {
    expect(sseFrame(null, '{}', { seq: 7, epoch: 'Ab_-9' })).toBe('id: 7@Ab_-9\ndata: {}\n\n');
    expect(formatEventId(7)).toBe('7');
    expect(parseEventId('7@Ab_-9')).toEqual({ seq: 7, epoch: 'Ab_-9' });
    expect(parseEventId(' 12 ')).toEqual({ seq: 12 });
    for (const bad of ['', '7@', '@x', '7@a b', '7@a\nid: 9', '-1', '1e3', '7@' + 'x'.repeat(33)]) expect(parseEventId(bad), bad).toBeNull();
    expect(() => sseFrame(null, '{}', { seq: 1, epoch: 'a\nb' })).toThrow();
  });

  it('a position belongs to a chain of epochs up to where the next epoch began', () => {
    const chain = [
      { id: 'E1', base: 0 },
      { id: 'E2', base: 3 },
    ];
    expect(chainContains(chain, 3, 'E1')).toBe(true);
    expect(chainContains(chain, 4, 'E1')).toBe(false);
    expect(chainContains(chain, 99, 'E2')).toBe(true);
    expect(chainContains(chain, 1, 'E9')).toBe(false);
  });
});
