import { describe, it, expect, afterEach } from 'vitest';
import { startTestHub, api, publish, until, createToken, allEvents, ADMIN, type TestHub } from '../helpers/hub.ts';
import { startDemo, type Demo } from '../../electron/demo/index.ts';
import type { ProjectionRow, StatePage } from '../../shared/state.ts';
import type { ActionStatus } from '../../shared/domains/action.ts';

let t: TestHub | undefined;
let demo: Demo | undefined;
afterEach(async () => {
  await demo?.stop();
  await t?.stop();
  t = demo = undefined;
});

const fields = (r: { body: { error?: { fields?: { path: string; reason: string }[] } } }) => r.body.error?.fields ?? [];
const state = async (url: string, token?: string, query = '') => {
  const r = await api<StatePage>(url, `/v1/state/schedule?limit=1000${query}`, { token });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return { schedules: r.body.schedules ?? [], swaps: r.body.swaps ?? [], calls: r.body.emergency_calls ?? [] };
};
const byId = (rows: ProjectionRow[], field: string, id: string) => rows.find((r) => r.data[field] === id);

const shift = { shift_id: 'sh-1', date: '2026-12-24', start: '23:00', end: '07:00', label: 'Night' };
const swap = (id: string, extra: Record<string, unknown> = {}) => ({
  type: 'schedule.swap.requested',
  data: { swap_id: id, ward_id: 'icu', requester: { user_id: 'n101', name: 'Kim Minji' }, counterpart: { user_id: 'n102', name: 'Lee Jiho' }, shift, reason: 'family event' },
  ...extra,
});
const call = (id: string, needed = 2, extra: Record<string, unknown> = {}) => ({ type: 'schedule.emergency.called', data: { call_id: id, ward_id: 'er', message: 'two nurses off sick tonight', needed }, ...extra });

describe('schedule', () => {
  it('refuses bad schedule data, naming the field and why', async () => {
    t = await startTestHub();
    const cases: [unknown, string, RegExp][] = [
      [{ ...swap('s1'), data: { ...swap('s1').data, shift: { ...shift, date: '24/12/2026' } } }, 'data.shift.date', /date like 2026-12-24/],
      [{ ...swap('s1'), data: { ...swap('s1').data, shift: { ...shift, start: '25:00' } } }, 'data.shift.start', /time like 07:00/],
      [{ ...swap('s1'), data: { ...swap('s1').data, requester: { name: 'no id' } } }, 'data.requester.user_id', /./],
      [{ type: 'schedule.swap.rejected', data: { swap_id: 's1' } }, 'data.reason', /./],
      [{ type: 'schedule.swap.rejected', data: { swap_id: 's1', reason: '' } }, 'data.reason', /empty/],
      [call('c1', 0), 'data.needed', /./],
      [{ type: 'schedule.emergency.called', data: { call_id: 'c1', ward_id: 'er' } }, 'data.message', /./],
      [{ type: 'schedule.emergency.accepted', data: { call_id: 'c1', accepted_by: 'Kim' } }, 'data.remaining', /./],
      [{ type: 'schedule.shift.reminder', data: { shift_id: 'x', ward_id: 'icu', starts_at: 'tomorrow 7am' } }, 'data.starts_at', /ISO 8601/],
      [{ type: 'schedule.published', data: { schedule_id: 'p', ward_id: 'icu', period_start: '2026-12-01' } }, 'data.period_end', /./],
      [{ type: 'schedule.updated', data: { schedule_id: 'p', ward_id: 'icu', version: 2 } }, 'data.changes', /./],
      [{ type: 'schedule.swap.asked', data: {} }, 'type', /known: schedule\.published, schedule\.updated, schedule\.swap\.requested/],
      [{ ...call('c1'), priority: 'critical' }, 'priority', /low.*normal.*high.*urgent/],
    ];
    for (const [body, path, reason] of cases) {
      const r = await publish(t.url, body);
      expect(r.status, JSON.stringify(body)).toBe(422);
      expect(fields(r).map((f) => f.path), JSON.stringify(body)).toEqual([path]);
      expect(fields(r)[0]!.reason, JSON.stringify(body)).toMatch(reason);
    }
    expect((await api(t.url, '/v1/events?type=schedule.*')).body.events).toEqual([]);
  });

  it('keeps schedules, swaps and emergency calls as rows, with the priorities a ward needs', async () => {
    t = await startTestHub();
    const ok = async (body: unknown) => expect((await publish(t!.url, body)).status, JSON.stringify(body)).toBe(201);
    await ok({ type: 'schedule.published', data: { schedule_id: 'icu-w1', ward_id: 'icu', period_start: '2026-12-07', period_end: '2026-12-20', shift_count: 42 } });
    await ok({ type: 'schedule.updated', data: { schedule_id: 'icu-w1', ward_id: 'icu', version: 2, changes: 'Kim moves to Wednesday day' }, priority: 'medium' });
    await ok(swap('s1'));
    await ok(swap('s2'));
    await ok({ type: 'schedule.swap.approved', data: { swap_id: 's1', approved_by: 'charge nurse' } });
    await ok({ type: 'schedule.swap.rejected', data: { swap_id: 's2', reason: 'short-staffed that night' } });
    await ok(call('c1', 2));
    await ok({ type: 'schedule.emergency.accepted', data: { call_id: 'c1', accepted_by: 'Park Seoyeon', remaining: 1 } });
    await ok(call('c2', 1));
    await ok({ type: 'schedule.emergency.accepted', data: { call_id: 'c2', accepted_by: 'Han Doyun', remaining: 0 } });
    await ok({ type: 'schedule.shift.reminder', data: { shift_id: 'sh-9', ward_id: 'icu', starts_at: '2026-12-24T23:00:00+09:00', label: 'Night' }, user_id: 'n101' });

    const s = await state(t.url);
    expect(s.schedules.map((r) => r.data)).toMatchObject([{ schedule_id: 'icu-w1', version: 2, status: 'updated', changes: 'Kim moves to Wednesday day', period_end: '2026-12-20' }]);
    expect(byId(s.swaps, 'swap_id', 's1')!.data).toMatchObject({ state: 'approved', approved_by: 'charge nurse', requester: { name: 'Kim Minji' }, shift: { date: '2026-12-24' } });
    expect(byId(s.swaps, 'swap_id', 's2')!.data).toMatchObject({ state: 'rejected', reason: 'short-staffed that night' });
    expect(byId(s.calls, 'call_id', 'c1')!.data).toMatchObject({ state: 'open', needed: 2, remaining: 1, accepted_by: 'Park Seoyeon' });
    expect(byId(s.calls, 'call_id', 'c2')!.data).toMatchObject({ state: 'filled', remaining: 0 });
    // A reminder is a notification for one person, not state.
    expect(s.schedules.length + s.swaps.length + s.calls.length).toBe(5);

    // Priorities: an emergency call is urgent and a swap waiting for a decision high unless the
    // publisher says otherwise; the scheduler's "medium" is stored as normal.
    const prio = Object.fromEntries((await allEvents(t.url)).map((e) => [`${e.type}:${String(e.data.swap_id ?? e.data.call_id ?? '')}`, e.priority]));
    expect(prio).toMatchObject({
      'schedule.emergency.called:c1': 'urgent',
      'schedule.swap.requested:s1': 'high',
      'schedule.updated:': 'normal',
      'schedule.swap.approved:s1': 'normal',
      'schedule.shift.reminder:': 'normal',
    });
    // So the emergency call and the swap requests are in the inbox at its default threshold.
    const inbox = await api(t.url, '/v1/inbox');
    expect(inbox.body.items.map((i: { event: { type: string } }) => i.event.type).sort()).toEqual(['schedule.emergency.called', 'schedule.emergency.called', 'schedule.swap.requested', 'schedule.swap.requested']);
    expect(inbox.body.unread_urgent).toBe(2);
  });

  it('the demo scheduler answers approve, reject and accept actions by webhook and publishes the outcome', async () => {
    t = await startTestHub();
    // A slow demo: its own traffic stays out of the way; the swaps and calls here are the test's.
    demo = await startDemo({ url: t.url, adminToken: ADMIN, rate: 0.01, seed: 5, domains: ['schedule'] });
    expect(demo.scheduleReceiver).toBeDefined();
    const manager = await createToken(t.url, 'operator', {}, 'ward manager Oh');
    await publish(t.url, [swap('s-a'), swap('s-b'), swap('s-c'), call('c-1', 1)]);
    // The scheduler hears of them by webhook before any decision can reach it (deliveries are in log order).
    const act = async (name: string, target: { type: string; id: string }, params: Record<string, unknown> = {}) => {
      const r = await api(t!.url, '/v1/actions', { token: manager, body: { name, target, params } });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      const id = r.body.action_id as string;
      return (await until(async () => {
        const s = (await api<ActionStatus>(t!.url, `/v1/actions/${id}`, { token: manager })).body;
        return ['completed', 'rejected', 'failed'].includes(s.state) && s;
      }, `action ${id} to finish`, 15_000, 50)) as ActionStatus;
    };

    expect(await act('schedule.swap.approve', { type: 'schedule.swap', id: 's-a' })).toMatchObject({ state: 'completed', delivered_to: [demo.scheduleReceiver!.endpointId] });
    expect((await act('schedule.swap.reject', { type: 'schedule.swap', id: 's-b' })).reason).toMatch(/params.reason is required/);
    expect((await act('schedule.swap.reject', { type: 'schedule.swap', id: 's-b' }, { reason: 'no cover that night' })).state).toBe('completed');
    // A decided swap cannot be decided again; an unknown one is refused by name.
    expect((await act('schedule.swap.reject', { type: 'schedule.swap', id: 's-a' }, { reason: 'changed my mind' })).reason).toBe('swap s-a was already approved');
    expect((await act('schedule.swap.approve', { type: 'schedule.swap', id: 'nope' })).reason).toMatch(/swap nope is not a request this scheduler knows/);
    // The manager takes the emergency call; a second acceptance finds it filled.
    expect((await act('schedule.emergency.accept', { type: 'schedule.emergency', id: 'c-1' })).state).toBe('completed');
    expect((await act('schedule.emergency.accept', { type: 'schedule.emergency', id: 'c-1' })).reason).toBe('call c-1 is already filled');

    const s = await state(t.url);
    expect(byId(s.swaps, 'swap_id', 's-a')!.data).toMatchObject({ state: 'approved', approved_by: 'ward manager Oh' });
    expect(byId(s.swaps, 'swap_id', 's-b')!.data).toMatchObject({ state: 'rejected', reason: 'no cover that night', rejected_by: 'ward manager Oh' });
    expect(byId(s.swaps, 'swap_id', 's-c')!.data.state).toBe('requested');
    expect(byId(s.calls, 'call_id', 'c-1')!.data).toMatchObject({ state: 'filled', remaining: 0, accepted_by: 'ward manager Oh' });
  });
});
