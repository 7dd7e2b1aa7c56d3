import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { builtinRegistry, defineDomain, DomainRegistry, BUILTIN_DOMAINS, type AnyDomain } from '../../shared/domains/index.ts';
import { KNOWN_TYPES, REQUIRED_KEYS } from '../../shared/events.ts';
import { SNAPSHOT_CAPS, stateFields, stateKinds, stateViews } from '../../shared/state.ts';
import { stateChangeOf } from '../../shared/state-changes.ts';
import type { OptionsFor } from '../../electron/client/index.ts';

const ev = (type: string, keys: { store_id?: string; user_id?: string; strategy_id?: string } = {}) => ({
  type,
  store_id: keys.store_id ?? null,
  user_id: keys.user_id ?? null,
  strategy_id: keys.strategy_id ?? null,
  time: '2026-12-02T10:00:00.000Z',
});

describe('the domain registry', () => {
  it('derives the lists every part used to keep by hand, unchanged on the wire', () => {
    expect(stateKinds).toEqual(['store_order', 'trading_order', 'position', 'mail', 'mail_sync', 'job', 'schedule', 'swap', 'emergency_call']);
    expect(stateFields).toEqual({ store_order: 'store_orders', trading_order: 'trading_orders', position: 'positions', mail: 'mail', mail_sync: 'mail_sync', job: 'jobs', schedule: 'schedules', swap: 'swaps', emergency_call: 'emergency_calls' });
    expect(stateViews).toEqual({ orders: ['store_order', 'trading_order'], positions: ['position'], mail: ['mail', 'mail_sync'], jobs: ['job'], schedule: ['schedule', 'swap', 'emergency_call'] });
    expect(SNAPSHOT_CAPS).toEqual({ store_order: 5_000, trading_order: 5_000, position: 5_000, mail: 1_000, mail_sync: 5_000, job: 5_000, schedule: 2_000, swap: 5_000, emergency_call: 2_000 });
    expect(REQUIRED_KEYS).toEqual({ store: ['store_id'], trading: ['user_id', 'strategy_id'], mail: ['user_id'], action: [], job: [], schedule: ['tenant_id'], mercure: [] });
    expect(KNOWN_TYPES).toEqual(BUILTIN_DOMAINS.flatMap((d) => Object.keys(d.types)));
  });

  it('maps every type to the state change it always made', () => {
    const s = { store_id: '12', user_id: '7' };
    const t = { user_id: '7', strategy_id: '1' };
    expect(stateChangeOf(ev('store.order.created', s), { order_id: '1', total: 3 })).toEqual({ op: 'create', kind: 'store_order', key: '12/7//1', fields: { order_id: '1', total: 3, last_type: 'store.order.created' } });
    expect(stateChangeOf(ev('store.order.updated', s), { order_id: '1', status: 'ready' })).toMatchObject({ op: 'patch', kind: 'store_order', key: '12/7//1' });
    expect(stateChangeOf(ev('store.order.deleted', s), { order_id: '1' })).toEqual({ op: 'delete', kind: 'store_order', key: '12/7//1' });
    expect(stateChangeOf(ev('store.session.ended', s), { table_id: 'T4' })).toMatchObject({ op: 'end_session', kind: 'store_order', carried: s, field: 'table_id', value: 'T4' });
    for (const type of ['trading.order.created', 'trading.order.updated', 'trading.order.filled', 'trading.order.cancelled'])
      expect(stateChangeOf(ev(type, t), { order_id: 'o' })).toMatchObject({ op: 'patch', kind: 'trading_order', key: '/7/1/o' });
    expect(stateChangeOf(ev('trading.order.batch', t), { summaries: [] })).toBeNull();
    for (const type of ['trading.position.created', 'trading.position.updated'])
      expect(stateChangeOf(ev(type, t), { position_id: 'p' })).toMatchObject({ op: 'patch', kind: 'position', key: '/7/1/p' });
    expect(stateChangeOf(ev('trading.position.closed', t), { position_id: 'p' })).toEqual({ op: 'delete', kind: 'position', key: '/7/1/p' });
    const u = { user_id: '7' };
    expect(stateChangeOf(ev('mail.email.new', u), { email_id: 'e' })).toMatchObject({ op: 'create', kind: 'mail', key: '/7//e' });
    expect(stateChangeOf(ev('mail.email.classified', u), { email_id: 'e', category: 'spam', priority: 'low' })).toEqual({
      op: 'patch',
      kind: 'mail',
      key: '/7//e',
      fields: { email_id: 'e', classification: { category: 'spam', priority: 'low' }, last_type: 'mail.email.classified' },
    });
    expect(stateChangeOf(ev('mail.email.updated', u), { email_id: 'e', read: true })).toMatchObject({ op: 'patch', kind: 'mail' });
    expect(stateChangeOf(ev('mail.email.updated', u), { email_id: 'e', deleted: true })).toEqual({ op: 'delete', kind: 'mail', key: '/7//e' });
    expect(stateChangeOf(ev('mail.sync.error', u), { connection_id: 'c', error: 'x' })).toEqual({
      op: 'patch',
      kind: 'mail_sync',
      key: '/7//c',
      fields: { connection_id: 'c', error: 'x', state: 'error', at: '2026-12-02T10:00:00.000Z', last_type: 'mail.sync.error' },
    });
    expect(stateChangeOf(ev('mail.sync.started', u), {})).toMatchObject({ key: '/7//default', fields: { state: 'started' } });
    for (const type of KNOWN_TYPES.filter((x) => x.startsWith('action.'))) expect(stateChangeOf(ev(type), { action_id: 'a' })).toBeNull();
  });

  it('knows which types carry a whole row', () => {
    expect(KNOWN_TYPES.filter((x) => builtinRegistry.startsWholeRow(x))).toEqual([
      'store.order.created',
      'trading.order.created',
      'trading.position.created',
      'mail.email.new',
      'mail.sync.started',
      'mail.sync.completed',
      'mail.sync.error',
      'job.queued',
      'schedule.published',
      'schedule.swap.requested',
      'schedule.emergency.called',
    ]);
  });

  it('summarizes every known type without "undefined", and unknown ones as cut JSON', () => {
    for (const type of KNOWN_TYPES) expect(builtinRegistry.summarize({ type, data: {} })).not.toMatch(/undefined|\[object Object\]/);
    expect(builtinRegistry.summarize({ type: 'x.big', data: { s: 'a'.repeat(500) } })).toHaveLength(160);
  });

  it('refuses a domain it could not serve, with the reason', () => {
    const dom = (over: Partial<AnyDomain>): AnyDomain => ({ name: 'shift', types: { 'shift.swap': z.object({}) }, requiredKeys: [], kinds: {}, state: { 'shift.swap': null }, summary: { 'shift.swap': () => 'swap' }, ...over });
    expect(() => builtinRegistry.with(dom({ name: 'store' }))).toThrow(/registered twice/);
    expect(() => builtinRegistry.with(dom({ name: 'x' }))).toThrow(/name must be/);
    expect(() => builtinRegistry.with(dom({ types: { 'shiftx.swap': z.object({}) } }))).toThrow(/must start with "shift\."/);
    expect(() => builtinRegistry.with(dom({ state: {} }))).toThrow(/shift\.swap has no state rule/);
    expect(() => builtinRegistry.with(dom({ summary: {} }))).toThrow(/shift\.swap has no summary/);
    expect(() => builtinRegistry.with(dom({ state: { 'shift.swap': { op: 'patch', kind: 'mail', id: 'id' } } }))).toThrow(/does not own/);
    expect(() => builtinRegistry.with(dom({ kinds: { rota: { field: 'mail', cap: 10, view: 'mail' } } }))).toThrow(/already the field of mail/);
    expect(() => builtinRegistry.with(dom({ kinds: { swap: { field: 'shift_swaps', cap: 10, view: 'shift' } } }))).toThrow(/kind swap is already owned/);
    // A registry with more domains is a new one: the built-in registry is never changed.
    const more = builtinRegistry.with(dom({}));
    expect(more.isKnown('shift.swap')).toBe(true);
    expect(builtinRegistry.isKnown('shift.swap')).toBe(false);
    expect(new DomainRegistry(BUILTIN_DOMAINS).typeNames).toEqual(builtinRegistry.typeNames);
  });
});

// Exhaustiveness is the compiler's job: `tsc` (npm run typecheck) fails if any of these compile.
export const missingStateRule = defineDomain({
  name: 'shift',
  types: { 'shift.swap': z.object({}), 'shift.cover': z.object({}) },
  requiredKeys: [],
  kinds: { swap: { field: 'swaps', cap: 10, view: 'swaps' } },
  // @ts-expect-error shift.cover has no state rule
  state: { 'shift.swap': null },
  summary: { 'shift.swap': () => 'swap', 'shift.cover': () => 'cover' },
});
export const missingSummary = defineDomain({
  name: 'shift',
  types: { 'shift.swap': z.object({}) },
  requiredKeys: [],
  kinds: {},
  state: { 'shift.swap': null },
  // @ts-expect-error shift.swap has no summary
  summary: {},
});
export const unknownKind = defineDomain({
  name: 'shift',
  types: { 'shift.swap': z.object({}) },
  requiredKeys: [],
  kinds: { swap: { field: 'swaps', cap: 10, view: 'swaps' } },
  // @ts-expect-error a rule may only name a kind its domain owns
  state: { 'shift.swap': { op: 'patch', kind: 'mail', id: 'id' } },
  summary: { 'shift.swap': () => 'swap' },
});

// The publisher client's required scope keys come from the same declarations.
export const clientKeys: OptionsFor<'store.order.created'>[] = [{ store_id: 12 }];
// @ts-expect-error a store event needs store_id
export const clientNoStore: OptionsFor<'store.order.created'> = { user_id: 7 };
// @ts-expect-error a trading event needs strategy_id as well as user_id
export const clientNoStrategy: OptionsFor<'trading.order.created'> = { user_id: 7 };
export const clientJob: OptionsFor<'job.queued'> = {};
