import { z } from 'zod';
import { defineDomain, str, type Data, type DomainEvent, type RowRule } from './define.ts';

// A hospital's shift scheduler: schedules published and changed per ward, shift swaps asked for and
// decided, reminders before a shift, and emergency calls for staff. Every event belongs to a tenant
// (a hospital: the `tenant_id` scope key, so one hospital never sees another's) and is fanned out by
// topic (a ward's, `wards/<ward_id>`) or to one person (`user_id`).
//
// Events that change a row (a swap's decision, an accepted call) must carry the scope keys the row
// was created with, as everywhere in RelayDesk: swaps and calls are ward business, published under
// the tenant (and the ward's topic), not under one user, so the manager who decides sees the row
// the request made. Reminders are for one person and keep no state.
//
// Loose at every level: these schemas check the fields they name and keep every other one, because
// an event is stored and delivered as its publisher sent it (shared/events.ts#normalizeData).

const id = z.union([z.string().min(1).max(128), z.number().int()]).transform(String);
const text = (max: number) => z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const day = z.iso.date({ message: 'must be a date like 2026-12-24' });
const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time like 07:00 or 19:30');
const instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' });

/** A staff member as events name them: their user id and the name a colleague knows them by. */
export const schedulePerson = z.looseObject({ user_id: id, name: text(200).optional() });

export const scheduleShift = z.looseObject({
  shift_id: id.optional(),
  date: day,
  start: clock,
  /** Before `start` means the shift ends the next day (a night shift). */
  end: clock,
  /** "Day", "Night", "ICU charge nurse"… */
  label: z.string().max(100).optional(),
});

export const schedulePublished = z.looseObject({
  schedule_id: id,
  ward_id: id,
  ward_name: z.string().max(200).optional(),
  period_start: day,
  period_end: day,
  version: z.number().int().positive().default(1),
  shift_count: z.number().int().nonnegative().optional(),
  published_by: z.string().max(200).optional(),
});

export const scheduleUpdated = z.looseObject({
  schedule_id: id,
  ward_id: id,
  version: z.number().int().positive(),
  /** What changed, in words ("Kim moves from Tue night to Wed day"). */
  changes: text(2000),
  affected_user_ids: z.array(id).max(1000).optional(),
});

export const scheduleSwapRequested = z.looseObject({
  swap_id: id,
  ward_id: id,
  requester: schedulePerson,
  /** The colleague asked to take the shift, when the request names one. */
  counterpart: schedulePerson.optional(),
  shift: scheduleShift,
  /** The shift offered in return, for a two-way swap. */
  offered_shift: scheduleShift.optional(),
  reason: z.string().max(1000).optional(),
});

export const scheduleSwapApproved = z.looseObject({
  swap_id: id,
  approved_by: z.string().max(200).optional(),
  note: z.string().max(1000).optional(),
});

export const scheduleSwapRejected = z.looseObject({
  swap_id: id,
  reason: text(1000),
  rejected_by: z.string().max(200).optional(),
});

export const scheduleShiftReminder = z.looseObject({
  shift_id: id,
  ward_id: id,
  starts_at: instant,
  ends_at: instant.optional(),
  label: z.string().max(100).optional(),
});

export const scheduleEmergencyCalled = z.looseObject({
  call_id: id,
  ward_id: id,
  message: text(2000),
  /** How many people the ward needs. */
  needed: z.number().int().positive().max(1000).default(1),
  role: z.string().max(100).optional(),
  starts_at: instant.optional(),
  expires_at: instant.optional(),
});

export const scheduleEmergencyAccepted = z.looseObject({
  call_id: id,
  accepted_by: text(200),
  /** People still needed after this one; 0 fills the call. */
  remaining: z.number().int().nonnegative(),
});

export const scheduleEmergencyClosed = z.looseObject({
  call_id: id,
  reason: z.string().max(1000).optional(),
});

export const scheduleTypes = {
  'schedule.published': schedulePublished,
  'schedule.updated': scheduleUpdated,
  'schedule.swap.requested': scheduleSwapRequested,
  'schedule.swap.approved': scheduleSwapApproved,
  'schedule.swap.rejected': scheduleSwapRejected,
  'schedule.shift.reminder': scheduleShiftReminder,
  'schedule.emergency.called': scheduleEmergencyCalled,
  'schedule.emergency.accepted': scheduleEmergencyAccepted,
  'schedule.emergency.closed': scheduleEmergencyClosed,
} as const;
export type ScheduleType = keyof typeof scheduleTypes;

export const swapStates = ['requested', 'approved', 'rejected'] as const;
export type SwapState = (typeof swapStates)[number];
export const callStates = ['open', 'filled', 'closed'] as const;
export type CallState = (typeof callStates)[number];

/**
 * What a ward manager does from the console, as actions the scheduler carries out and confirms:
 * approve or reject a swap (target `{type: 'schedule.swap', id: swap_id}`; a rejection needs
 * `params.reason`), and accept an emergency call (target `{type: 'schedule.emergency', id: call_id}`),
 * which the scheduler answers with `schedule.emergency.accepted` naming who accepted.
 */
/** A ward's topic: consoles and the staff app follow a ward by it. */
export const wardTopic = (wardId: string) => `wards/${wardId}`;

export const SWAP_APPROVE_ACTION = 'schedule.swap.approve';
export const SWAP_REJECT_ACTION = 'schedule.swap.reject';
export const EMERGENCY_ACCEPT_ACTION = 'schedule.emergency.accept';
export const SWAP_TARGET = 'schedule.swap';
export const EMERGENCY_TARGET = 'schedule.emergency';

const who = (p: unknown) => {
  const x = (p ?? {}) as Data;
  return str(x.name ?? x.user_id) || 'someone';
};
const shiftText = (sh: unknown) => {
  const x = (sh ?? {}) as Data;
  return `${x.label ? `${str(x.label)} ` : ''}${str(x.date)} ${str(x.start)}–${str(x.end)}`;
};
const ward = (d: Data) => `ward ${str(d.ward_name ?? d.ward_id)}`;

type Kind = 'schedule' | 'swap' | 'emergency_call';
const rule = <K extends Kind>(op: 'create' | 'patch', kind: K, id: string, extra: (d: Data, ev: DomainEvent) => Data): RowRule<K> => ({ op, kind, id, fields: (d, ev) => ({ ...d, ...extra(d, ev) }) });

export const schedule = defineDomain({
  name: 'schedule',
  types: scheduleTypes,
  // Every schedule event belongs to a hospital; without a tenant it could reach only unscoped admins.
  requiredKeys: ['tenant_id'],
  kinds: {
    schedule: { field: 'schedules', cap: 2_000, view: 'schedule' },
    swap: { field: 'swaps', cap: 5_000, view: 'schedule', prunedWithLog: { field: 'state', in: ['approved', 'rejected'] } },
    emergency_call: { field: 'emergency_calls', cap: 2_000, view: 'schedule', prunedWithLog: { field: 'state', in: ['filled', 'closed'] } },
  },
  state: {
    'schedule.published': rule('create', 'schedule', 'schedule_id', (_d, ev) => ({ status: 'published', published_at: ev.time })),
    'schedule.updated': rule('patch', 'schedule', 'schedule_id', (_d, ev) => ({ status: 'updated', changed_at: ev.time })),
    'schedule.swap.requested': rule('create', 'swap', 'swap_id', (_d, ev) => ({ state: 'requested', requested_at: ev.time })),
    'schedule.swap.approved': rule('patch', 'swap', 'swap_id', (_d, ev) => ({ state: 'approved', decided_at: ev.time })),
    'schedule.swap.rejected': rule('patch', 'swap', 'swap_id', (_d, ev) => ({ state: 'rejected', decided_at: ev.time })),
    // A reminder is for one person at one moment: a notification, not state.
    'schedule.shift.reminder': null,
    'schedule.emergency.called': rule('create', 'emergency_call', 'call_id', (d, ev) => ({ state: 'open', remaining: d.needed, called_at: ev.time })),
    'schedule.emergency.accepted': rule('patch', 'emergency_call', 'call_id', (d) => ({ state: Number(d.remaining) > 0 ? 'open' : 'filled' })),
    'schedule.emergency.closed': rule('patch', 'emergency_call', 'call_id', (_d, ev) => ({ state: 'closed', closed_at: ev.time })),
  },
  summary: {
    'schedule.published': (d) => `Schedule published for ${ward(d)}: ${str(d.period_start)} to ${str(d.period_end)}`,
    'schedule.updated': (d) => `Schedule of ${ward(d)} changed (v${str(d.version)}): ${str(d.changes)}`,
    'schedule.swap.requested': (d) => `Swap asked by ${who(d.requester)}${d.counterpart ? ` with ${who(d.counterpart)}` : ''}: ${shiftText(d.shift)}`,
    'schedule.swap.approved': (d) => `Swap ${str(d.swap_id)} approved${d.approved_by ? ` by ${str(d.approved_by)}` : ''}`,
    'schedule.swap.rejected': (d) => `Swap ${str(d.swap_id)} rejected: ${str(d.reason)}`,
    'schedule.shift.reminder': (d) => `Shift reminder: ${str(d.label) || 'your shift'} on ${ward(d)} starts ${str(d.starts_at)}`,
    'schedule.emergency.called': (d) => `Emergency call on ${ward(d)}: ${str(d.message)} (${str(d.needed ?? 1)} needed)`,
    'schedule.emergency.accepted': (d) => `Emergency call ${str(d.call_id)} accepted by ${str(d.accepted_by)}${Number(d.remaining) > 0 ? ` · ${str(d.remaining)} still needed` : ' · filled'}`,
    'schedule.emergency.closed': (d) => `Emergency call ${str(d.call_id)} closed${d.reason ? `: ${str(d.reason)}` : ''}`,
  },
  // An emergency call is urgent (the tray, the desktop notification); a swap waiting for a decision
  // is an alert. The rest are normal, which is also what the scheduler's own "medium" becomes.
  defaultPriority: { 'schedule.emergency.called': 'urgent', 'schedule.swap.requested': 'high' },
  colour: '34',
});
