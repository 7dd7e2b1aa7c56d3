import { describe, it, expect, afterEach } from 'vitest';
import { startTestHub, api, publish, until, createToken, allEvents, sleep, ADMIN, type TestHub } from '../helpers/hub.ts';
import { Subscriber } from '../helpers/sse.ts';
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

const H = { tenant_id: 'st-marys' };
const shift = { shift_id: 'sh-1', date: '2026-12-24', start: '23:00', end: '07:00', label: 'Night' };
const swap = (id: string, extra: Record<string, unknown> = {}) => ({
  type: 'schedule.swap.requested',
  data: { swap_id: id, ward_id: 'icu', requester: { user_id: 'n101', name: 'Kim Minji' }, counterpart: { user_id: 'n102', name: 'Lee Jiho' }, shift, reason: 'family event' },
  ...H,
  topics: ['wards/icu'],
  ...extra,
});
const call = (id: string, needed = 2, extra: Record<string, unknown> = {}) => ({ type: 'schedule.emergency.called', data: { call_id: id, ward_id: 'er', message: 'two nurses off sick tonight', needed }, ...H, topics: ['wards/er'], ...extra });

describe('schedule', () => {
  it('refuses bad schedule data, naming the field and why', async () => {
    t = await startTestHub();
    const cases: [unknown, string, RegExp][] = [
      [{ ...swap('s1'), data: { ...swap('s1').data, shift: { ...shift, date: '24/12/2026' } } }, 'data.shift.date', /date like 2026-12-24/],
      [{ ...swap('s1'), data: { ...swap('s1').data, shift: { ...shift, start: '25:00' } } }, 'data.shift.start', /time like 07:00/],
      [{ ...swap('s1'), data: { ...swap('s1').data, requester: { name: 'no id' } } }, 'data.requester.user_id', /./],
      [{ type: 'schedule.swap.rejected', data: { swap_id: 's1' }, ...H }, 'data.reason', /./],
      [{ type: 'schedule.swap.rejected', data: { swap_id: 's1', reason: '' }, ...H }, 'data.reason', /empty/],
      [call('c1', 0), 'data.needed', /./],
      [{ type: 'schedule.emergency.called', data: { call_id: 'c1', ward_id: 'er' }, ...H }, 'data.message', /./],
      [{ type: 'schedule.emergency.accepted', data: { call_id: 'c1', accepted_by: 'Kim' }, ...H }, 'data.remaining', /./],
      [{ type: 'schedule.shift.reminder', data: { shift_id: 'x', ward_id: 'icu', starts_at: 'tomorrow 7am' }, ...H }, 'data.starts_at', /ISO 8601/],
      [{ type: 'schedule.published', data: { schedule_id: 'p', ward_id: 'icu', period_start: '2026-12-01' }, ...H }, 'data.period_end', /./],
      [{ type: 'schedule.updated', data: { schedule_id: 'p', ward_id: 'icu', version: 2 }, ...H }, 'data.changes', /./],
      [{ type: 'schedule.swap.asked', data: {} }, 'type', /known: schedule\.published, schedule\.updated, schedule\.swap\.requested/],
      [{ ...call('c1'), priority: 'critical' }, 'priority', /low.*normal.*high.*urgent/],
      // A schedule belongs to a hospital: without a tenant it could reach only unscoped admins.
      [{ ...call('c1'), tenant_id: undefined }, 'tenant_id', /required for schedule\.\* events/],
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
    await ok({ type: 'schedule.published', data: { schedule_id: 'icu-w1', ward_id: 'icu', period_start: '2026-12-07', period_end: '2026-12-20', shift_count: 42 }, ...H });
    await ok({ type: 'schedule.updated', data: { schedule_id: 'icu-w1', ward_id: 'icu', version: 2, changes: 'Kim moves to Wednesday day' }, priority: 'medium', ...H });
    await ok(swap('s1'));
    await ok(swap('s2'));
    await ok({ type: 'schedule.swap.approved', data: { swap_id: 's1', approved_by: 'charge nurse' }, ...H, topics: ['wards/icu'] });
    await ok({ type: 'schedule.swap.rejected', data: { swap_id: 's2', reason: 'short-staffed that night' }, ...H });
    await ok(call('c1', 2));
    await ok({ type: 'schedule.emergency.accepted', data: { call_id: 'c1', accepted_by: 'Park Seoyeon', remaining: 1 }, ...H });
    await ok(call('c2', 1));
    await ok({ type: 'schedule.emergency.accepted', data: { call_id: 'c2', accepted_by: 'Han Doyun', remaining: 0 }, ...H });
    await ok({ type: 'schedule.shift.reminder', data: { shift_id: 'sh-9', ward_id: 'icu', starts_at: '2026-12-24T23:00:00+09:00', label: 'Night' }, user_id: 'n101', ...H });

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

  it('keeps each hospital to itself: streams, snapshots, state, history, inbox, publishing and actions', async () => {
    t = await startTestHub();
    const A = { tenant_id: 'st-marys' };
    const B = { tenant_id: 'seoul-general' };
    const subA = await createToken(t.url, 'subscriber', A);
    const subB = await createToken(t.url, 'subscriber', B);
    const pubB = await createToken(t.url, 'publisher', B);
    const opB = await createToken(t.url, 'operator', B, 'manager at Seoul General');
    const nurse = await createToken(t.url, 'subscriber', { ...A, user_id: 'n101' });
    // Before anything is published: a live stream per tenant, and one following one ward of A.
    const liveA = new Subscriber(t.url, { type: 'schedule.*' }, subA);
    const liveB = new Subscriber(t.url, { type: 'schedule.*' }, subB);
    const icuA = new Subscriber(t.url, { type: 'schedule.*', topic: 'wards/icu' }, subA);
    await Promise.all([liveA.waitFor('connection'), liveB.waitFor('connection'), icuA.waitFor('connection')]);

    // The same ids in both hospitals: they are different rows, never one.
    const both = (keys: Record<string, string>) => [
      { ...swap('s1'), ...keys },
      { ...call('c1', 1), ...keys },
      { type: 'schedule.shift.reminder', data: { shift_id: 'sh-1', ward_id: 'icu', starts_at: '2026-12-24T23:00:00+09:00' }, user_id: 'n101', ...keys },
    ];
    expect((await publish(t.url, [...both(A), ...both(B)])).status).toBe(201);
    await liveA.waitForEvents(3);
    await liveB.waitForEvents(3);
    await icuA.waitForEvents(1);
    await sleep(200);
    expect(liveA.events.map((e) => e.tenant_id)).toEqual(['st-marys', 'st-marys', 'st-marys']);
    expect(liveB.events.map((e) => e.tenant_id)).toEqual(['seoul-general', 'seoul-general', 'seoul-general']);
    // A ward's topic: only that ward's events (the swap on wards/icu), not the ER's call or a reminder.
    expect(icuA.events.map((e) => [e.type, e.tenant_id])).toEqual([['schedule.swap.requested', 'st-marys']]);
    for (const s of [liveA, liveB, icuA]) s.close();

    // State, snapshot, history and inbox answer in the tenant only.
    const rowsA = await state(t.url, subA);
    expect([...rowsA.swaps, ...rowsA.calls].map((r) => r.key).sort()).toEqual(['st-marys|///c1', 'st-marys|///s1']);
    expect([...(await state(t.url, subB)).swaps].map((r) => r.key)).toEqual(['seoul-general|///s1']);
    const snapB = new Subscriber(t.url, { snapshot: '1', type: 'schedule.*' }, subB);
    const initial = (await snapB.waitFor('initial')).data as { swaps: ProjectionRow[]; emergency_calls: ProjectionRow[] };
    snapB.close();
    expect([...initial.swaps, ...initial.emergency_calls].map((r) => r.tenant_id)).toEqual(['seoul-general', 'seoul-general']);
    expect(new Set((await allEvents(t.url, subA)).map((e) => e.tenant_id))).toEqual(new Set(['st-marys']));
    expect((await api(t.url, '/v1/inbox', { token: subB })).body.items.map((i: { event: { tenant_id: string } }) => i.event.tenant_id)).toEqual(['seoul-general', 'seoul-general']);
    // A nurse's token sees her own reminder, not the ward business or the other hospital's n101.
    expect((await allEvents(t.url, nurse)).map((e) => [e.type, e.tenant_id, e.user_id])).toEqual([['schedule.shift.reminder', 'st-marys', 'n101']]);

    // Asking for the other tenant is refused by name, not answered empty.
    const asked = await api(t.url, '/v1/state/schedule?tenant_id=st-marys', { token: subB });
    expect([asked.status, fields(asked).map((f) => f.path)]).toEqual([403, ['tenant_id']]);
    // Seoul General's scheduler cannot publish into St Mary's, nor decide its swaps.
    const forged = await publish(t.url, { type: 'schedule.swap.approved', data: { swap_id: 's1' }, ...A, topics: ['wards/icu'] }, pubB);
    expect([forged.status, fields(forged).map((f) => f.path)]).toEqual([403, ['tenant_id']]);
    const act = await api(t.url, '/v1/actions', { token: opB, body: { name: 'schedule.swap.approve', target: { type: 'schedule.swap', id: 's1' }, ...A } });
    expect([act.status, fields(act).map((f) => f.path)]).toEqual([403, ['tenant_id']]);
    const own = await api(t.url, '/v1/actions', { token: opB, body: { name: 'schedule.swap.approve', target: { type: 'schedule.swap', id: 's1' }, ...B } });
    expect(own.status).toBe(202);
    // …and its own request stays in its own tenant.
    expect((await allEvents(t.url, subA)).some((e) => e.type === 'action.requested')).toBe(false);
    expect((await allEvents(t.url, subB)).find((e) => e.type === 'action.requested')).toMatchObject({ tenant_id: 'seoul-general', data: { requested_by_label: 'manager at Seoul General' } });
    expect(byId((await state(t.url, subA)).swaps, 'swap_id', 's1')!.data.state).toBe('requested');
  });

  it('the demo scheduler answers approve, reject and accept actions by webhook and publishes the outcome', async () => {
    t = await startTestHub();
    // A slow demo: its own traffic stays out of the way; the swaps and calls here are the test's.
    demo = await startDemo({ url: t.url, adminToken: ADMIN, rate: 0.01, seed: 5, domains: ['schedule'] });
    expect(demo.scheduleReceiver).toBeDefined();
    const manager = await createToken(t.url, 'operator', H, 'ward manager Oh');
    await publish(t.url, [swap('s-a'), swap('s-b'), swap('s-c'), call('c-1', 1)]);
    // The scheduler hears of them by webhook before any decision can reach it (deliveries are in log order).
    const act = async (name: string, target: { type: string; id: string }, params: Record<string, unknown> = {}) => {
      const r = await api(t!.url, '/v1/actions', { token: manager, body: { name, target, params, ...H } });
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
