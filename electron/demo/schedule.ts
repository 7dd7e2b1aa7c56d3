import type { Runtime } from './runtime.ts';
import type { HubEvent } from '../../shared/events.ts';
import type { EventOptions } from '../client/index.ts';
import { actionRequested } from '../../shared/domains/action.ts';
import { EMERGENCY_ACCEPT_ACTION, EMERGENCY_TARGET, SWAP_APPROVE_ACTION, SWAP_REJECT_ACTION, SWAP_TARGET, wardTopic, scheduleEmergencyCalled, scheduleSwapRequested } from '../../shared/domains/schedule.ts';
import { outcomeId } from './receiver.ts';

/**
 * A hospital's shift scheduler: it publishes each ward's schedule and its changes, reminds staff of
 * their next shift, raises emergency calls when a ward is short, and passes on swap requests from the
 * staff app. It is also the backend that decides: a ward manager approves or rejects a swap, or
 * accepts an emergency call, from the console, and the scheduler carries it out and publishes the
 * outcome. It learns of swaps and calls from its own webhook (any publisher's requests count).
 */
export const DEMO_TENANT = 'st-marys';
const WARDS = [
  { id: 'icu', name: 'ICU' },
  { id: 'er', name: 'Emergency' },
  { id: 'w5', name: 'Ward 5 (surgery)' },
] as const;
const STAFF = [
  { user_id: 'n101', name: 'Kim Minji' },
  { user_id: 'n102', name: 'Lee Jiho' },
  { user_id: 'n103', name: 'Park Seoyeon' },
  { user_id: 'n104', name: 'Choi Hyunwoo' },
  { user_id: 'n105', name: 'Jung Yuna' },
  { user_id: 'n106', name: 'Han Doyun' },
] as const;
const SHIFTS = [
  { label: 'Day', start: '07:00', end: '15:00' },
  { label: 'Evening', start: '15:00', end: '23:00' },
  { label: 'Night', start: '23:00', end: '07:00' },
] as const;
const SWAP_REASONS = ['family event', 'medical appointment', 'exam the next morning', 'childcare fell through', undefined];
const CALLS = ['two nurses off sick tonight', 'mass-casualty alert: all hands', 'patient surge after a highway pile-up', 'charge nurse needed for the night'];
const CHANGES = ['{a} moves from Tuesday night to Wednesday day', '{a} and {b} swap Friday evening', 'an extra night shift added on Saturday', '{a} on leave Thursday; covered by {b}'];
/** Swaps and calls remembered for deciding on them (the oldest go first). */
const MAX_KNOWN = 500;

export interface ScheduleBackend {
  /** Takes what the scheduler's webhook delivers: swap requests and calls to track, and actions to answer. */
  handle(event: HubEvent): void;
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

type Keys = EventOptions & { tenant_id: string };

export function startSchedule(rt: Runtime, tenant = DEMO_TENANT): ScheduleBackend {
  // Everything under the hospital's tenant; a ward's events also under the ward's topic, a
  // reminder under the one person's user_id.
  const ward = (wardId: string): Keys => ({ tenant_id: tenant, topics: [wardTopic(wardId)] });
  const versions = new Map<string, number>();
  const swaps = new Map<string, { state: 'requested' | 'approved' | 'rejected'; keys: Keys }>();
  const calls = new Map<string, { remaining: number; keys: Keys; open: boolean }>();
  let n = 1_000 + rt.int(0, 8_000);
  const remember = <T>(m: Map<string, T>, k: string, v: T) => {
    m.set(k, v);
    if (m.size > MAX_KNOWN) m.delete(m.keys().next().value!);
  };
  const monday = () => {
    const d = new Date();
    d.setUTCDate(d.getUTCDate() + ((8 - d.getUTCDay()) % 7 || 7));
    return d;
  };
  const dayIn = (days: number) => {
    const d = new Date();
    d.setUTCDate(d.getUTCDate() + days);
    return isoDay(d);
  };

  const publishSchedules = () => {
    const start = monday();
    const end = new Date(start);
    end.setUTCDate(end.getUTCDate() + 13);
    for (const w of WARDS) {
      versions.set(w.id, 1);
      rt.safely(() =>
        rt.client.publish(
          'schedule.published',
          { schedule_id: `${w.id}-${isoDay(start)}`, ward_id: w.id, ward_name: w.name, period_start: isoDay(start), period_end: isoDay(end), version: 1, shift_count: 14 * 3, published_by: 'nursing office' },
          ward(w.id),
        ),
      );
    }
  };

  const update = () => {
    const w = rt.pick(WARDS);
    const v = (versions.get(w.id) ?? 1) + 1;
    versions.set(w.id, v);
    const [a, b] = [rt.pick(STAFF), rt.pick(STAFF)];
    const changes = rt.pick(CHANGES).replace('{a}', a.name).replace('{b}', b.name);
    rt.safely(() => rt.client.publish('schedule.updated', { schedule_id: `${w.id}-${isoDay(monday())}`, ward_id: w.id, ward_name: w.name, version: v, changes, affected_user_ids: [a.user_id, b.user_id] }, ward(w.id)));
  };

  const requestSwap = () => {
    const w = rt.pick(WARDS);
    const requester = rt.pick(STAFF);
    const counterpart = rt.pick(STAFF.filter((s) => s !== requester));
    const shift = { shift_id: `sh-${++n}`, date: dayIn(rt.int(2, 12)), ...rt.pick(SHIFTS) };
    const offered = rt.chance(0.6) ? { shift_id: `sh-${++n}`, date: dayIn(rt.int(2, 12)), ...rt.pick(SHIFTS) } : undefined;
    const reason = rt.pick(SWAP_REASONS);
    const swapId = `swap-${++n}`;
    // The staff app publishes this in the real system; the scheduler hears of it by webhook.
    rt.safely(() =>
      rt.client.publish('schedule.swap.requested', { swap_id: swapId, ward_id: w.id, ward_name: w.name, requester, counterpart, shift, ...(offered ? { offered_shift: offered } : {}), ...(reason ? { reason } : {}) }, ward(w.id)),
    );
    // A request nobody decides expires before the shift.
    rt.after(rt.between(240_000, 360_000), () => {
      const s = swaps.get(swapId);
      if (s?.state !== 'requested') return;
      s.state = 'rejected';
      rt.safely(() => rt.client.publish('schedule.swap.rejected', { swap_id: swapId, reason: 'expired: no decision before the rota closed', rejected_by: 'scheduler' }, s.keys));
    });
  };

  const emergency = () => {
    const w = rt.pick(WARDS);
    const callId = `call-${++n}`;
    const needed = rt.int(1, 3);
    rt.safely(() => rt.client.publish('schedule.emergency.called', { call_id: callId, ward_id: w.id, ward_name: w.name, message: rt.pick(CALLS), needed, role: 'RN', starts_at: new Date(Date.now() + 3_600_000).toISOString() }, ward(w.id)));
    // Staff answer from their phones now and then; a call nobody fills is covered by agency staff.
    const answer = () => {
      const c = calls.get(callId);
      if (!c?.open) return;
      if (rt.chance(0.5)) accept(callId, rt.pick(STAFF).name);
      if (c.open) rt.after(rt.between(15_000, 40_000), answer);
    };
    rt.after(rt.between(15_000, 40_000), answer);
    rt.after(rt.between(150_000, 240_000), () => {
      const c = calls.get(callId);
      if (!c?.open) return;
      c.open = false;
      rt.safely(() => rt.client.publish('schedule.emergency.closed', { call_id: callId, reason: 'covered by agency staff' }, c.keys));
    });
  };

  /** Books one person on a call; false when it is no longer open. */
  const accept = (callId: string, who: string, id?: string): boolean => {
    const c = calls.get(callId);
    if (!c?.open) return false;
    c.remaining = Math.max(0, c.remaining - 1);
    if (c.remaining === 0) c.open = false;
    rt.safely(() => rt.client.publish('schedule.emergency.accepted', { call_id: callId, accepted_by: who, remaining: c.remaining }, { ...c.keys, ...(id ? { id } : {}) }));
    return true;
  };

  const remind = () => {
    const s = rt.pick(STAFF);
    const w = rt.pick(WARDS);
    const shift = rt.pick(SHIFTS);
    const starts = new Date(Date.now() + 3_600_000);
    // For one person: under their user id.
    rt.safely(() => rt.client.publish('schedule.shift.reminder', { shift_id: `sh-${++n}`, ward_id: w.id, ward_name: w.name, starts_at: starts.toISOString(), label: shift.label }, { tenant_id: tenant, user_id: s.user_id }));
  };

  rt.after(400, publishSchedules);
  rt.every(20_000, 40_000, requestSwap, 1_500);
  rt.every(50_000, 110_000, emergency, 6_000);
  rt.every(25_000, 50_000, remind, 4_000);
  rt.every(60_000, 120_000, update, 20_000);

  const keysOf = (ev: HubEvent): Keys => ({
    tenant_id: ev.tenant_id ?? tenant,
    ...(ev.topics ? { topics: [...ev.topics] } : {}),
    ...(ev.store_id !== null ? { store_id: ev.store_id } : {}),
    ...(ev.user_id !== null ? { user_id: ev.user_id } : {}),
    ...(ev.strategy_id !== null ? { strategy_id: ev.strategy_id } : {}),
  });

  const handleAction = (event: HubEvent) => {
    const parsed = actionRequested.safeParse(event.data);
    if (!parsed.success) return rt.log.warn(`demo: ignored a malformed action.requested (seq ${event.seq})`);
    const req = parsed.data;
    if (req.name !== SWAP_APPROVE_ACTION && req.name !== SWAP_REJECT_ACTION && req.name !== EMERGENCY_ACCEPT_ACTION) return;
    // Outcomes go under the request's keys, which are the row's: the hub checks they match.
    const k = keysOf(event);
    const outcome = (type: 'action.accepted' | 'action.rejected' | 'action.completed', data: Record<string, unknown>) =>
      rt.safely(() => rt.client.publish(type, { action_id: req.action_id, ...data }, { ...k, priority: 'high', id: outcomeId(req.action_id, type.slice(7)) }));
    const by = req.requested_by_label ?? req.requested_by;
    if (req.name === EMERGENCY_ACCEPT_ACTION) {
      const c = req.target.type === EMERGENCY_TARGET ? calls.get(req.target.id) : undefined;
      if (!c) return outcome('action.rejected', { reason: `call ${req.target.id} is not a call this scheduler raised` });
      if (!c.open) return outcome('action.rejected', { reason: `call ${req.target.id} is already ${c.remaining === 0 ? 'filled' : 'closed'}` });
      outcome('action.accepted', { message: `booking ${by} on call ${req.target.id}` });
      accept(req.target.id, by, outcomeId(req.action_id, 'call'));
      return outcome('action.completed', { result: { call_id: req.target.id, accepted_by: by, remaining: c.remaining } });
    }
    const s = req.target.type === SWAP_TARGET ? swaps.get(req.target.id) : undefined;
    if (!s) return outcome('action.rejected', { reason: `swap ${req.target.id} is not a request this scheduler knows` });
    if (s.state !== 'requested') return outcome('action.rejected', { reason: `swap ${req.target.id} was already ${s.state}` });
    if (req.name === SWAP_REJECT_ACTION) {
      const reason = req.params.reason;
      if (typeof reason !== 'string' || !reason.trim()) return outcome('action.rejected', { reason: 'params.reason is required to reject a swap: the requester is told why' });
      outcome('action.accepted', { message: `rejecting swap ${req.target.id}` });
      s.state = 'rejected';
      rt.safely(() => rt.client.publish('schedule.swap.rejected', { swap_id: req.target.id, reason: reason.trim(), rejected_by: by }, { ...s.keys, id: outcomeId(req.action_id, 'swap') }));
      return outcome('action.completed', { result: { swap_id: req.target.id, state: 'rejected' } });
    }
    outcome('action.accepted', { message: `approving swap ${req.target.id}` });
    s.state = 'approved';
    rt.safely(() => rt.client.publish('schedule.swap.approved', { swap_id: req.target.id, approved_by: by }, { ...s.keys, id: outcomeId(req.action_id, 'swap') }));
    outcome('action.completed', { result: { swap_id: req.target.id, state: 'approved' } });
  };

  return {
    handle(event) {
      if (event.type === 'action.requested') return handleAction(event);
      if (event.type === 'schedule.swap.requested') {
        const d = scheduleSwapRequested.safeParse(event.data);
        if (d.success && !swaps.has(d.data.swap_id)) remember(swaps, d.data.swap_id, { state: 'requested', keys: keysOf(event) });
      } else if (event.type === 'schedule.emergency.called') {
        const d = scheduleEmergencyCalled.safeParse(event.data);
        if (d.success && !calls.has(d.data.call_id)) remember(calls, d.data.call_id, { remaining: d.data.needed, keys: keysOf(event), open: true });
      }
    },
  };
}
