import type { HubEvent } from '../../shared/events.ts';
import type { ProjectionRow } from '../../shared/state.ts';
import type { ActionState, EventAction } from '../../shared/domains/action.ts';
import { ORDER_STATUS_ACTION, type StoreOrderStatus } from '../../shared/domains/store.ts';
import { TRADING_CANCEL_ACTION } from '../../shared/domains/trading.ts';
import { MAIL_READ_ACTION, MAIL_STAR_ACTION } from '../../shared/domains/mail.ts';
import { EMERGENCY_ACCEPT_ACTION, EMERGENCY_TARGET, SWAP_APPROVE_ACTION, SWAP_REJECT_ACTION, SWAP_TARGET } from '../../shared/domains/schedule.ts';
import type { TokenRole } from '../../shared/api.ts';

/** An action this window asked for (or saw asked) on an order, as far as the stream has told. */
export interface RowAction {
  action_id: string;
  /** The order's row key (a store order or a trading order). */
  key: string;
  /** What was asked, as the card shows it: "→ preparing", "Cancel". */
  label: string;
  state: ActionState;
  /** The backend's reason or error, for a rejected or failed action. */
  detail?: string;
  at: number;
}

/** How far an action got, as a card or row says it. */
export const ACTION_TEXT: Record<ActionState, string> = {
  requested: 'asked, waiting for the backend',
  delivered: 'delivered to the backend',
  accepted: 'accepted by the backend',
  completed: 'done',
  rejected: 'refused',
  failed: 'failed',
  timed_out: 'no answer from the backend',
};

/** Who may press the buttons: operators and admins; everyone else sees why not. */
export function actDenied(role: TokenRole, what = 'orders'): string | null {
  return role === 'operator' || role === 'admin' ? null : `a ${role} token can watch ${what} but not act on them; sign in with an operator token`;
}

/** A POST /v1/actions body about a row, under the row's own scope keys. */
function actionOn(row: ProjectionRow, name: string, targetType: string, params: Record<string, unknown>, id = String(row.data.order_id)) {
  return {
    // A fresh id per press: a retry of the same press (network) repeats it, a second press is a new ask.
    action_id: `act-${crypto.randomUUID()}`,
    name,
    target: { type: targetType, id, seq: row.seq },
    params,
    ...(row.store_id !== null ? { store_id: row.store_id } : {}),
    ...(row.user_id !== null ? { user_id: row.user_id } : {}),
    ...(row.strategy_id !== null ? { strategy_id: row.strategy_id } : {}),
    ...(row.tenant_id != null ? { tenant_id: row.tenant_id } : {}),
  };
}

/** Move a store order to `to` (with a reason when cancelling). */
export const orderStatusRequest = (row: ProjectionRow, to: StoreOrderStatus, reason?: string) => actionOn(row, ORDER_STATUS_ACTION, 'store.order', { status: to, ...(reason ? { reason } : {}) });

/** Cancel a working trading order. */
export const tradingCancelRequest = (row: ProjectionRow) => actionOn(row, TRADING_CANCEL_ACTION, 'trading.order', {});

/** Mark a mail read or unread. */
export const mailReadRequest = (row: ProjectionRow, read: boolean) => actionOn(row, MAIL_READ_ACTION, 'mail.email', { read }, String(row.data.email_id));

/** Star or unstar a mail. */
export const mailStarRequest = (row: ProjectionRow, starred: boolean) => actionOn(row, MAIL_STAR_ACTION, 'mail.email', { starred }, String(row.data.email_id));

/**
 * What the attached-action buttons need of an event: its buttons, the request's target (type, id,
 * seq) and the scope keys and topics the request carries. A HubEvent is one; a state row's is
 * `rowActionSource`.
 */
export type ActionSource = Pick<HubEvent, 'seq' | 'id' | 'type' | 'store_id' | 'user_id' | 'strategy_id' | 'tenant_id' | 'topics' | 'actions'>;

/**
 * The buttons on a state row (attached to the event that last changed it), as that event's: the
 * row's scope keys are the event's (a row's key includes them), its `actions` name the event and
 * hold its topics. Null when the row has none.
 */
export function rowActionSource(row: ProjectionRow): ActionSource | null {
  const a = row.actions;
  if (!a?.items.length) return null;
  return {
    seq: a.seq,
    id: a.id,
    type: a.type,
    store_id: row.store_id,
    user_id: row.user_id,
    strategy_id: row.strategy_id,
    ...(row.tenant_id != null ? { tenant_id: row.tenant_id } : {}),
    ...(a.topics ? { topics: a.topics } : {}),
    actions: a.items,
  };
}

/** The key under which an action attached to an event is tracked (RowActions keys rows by it). */
export const eventActionKey = (seq: number) => `event:${seq}`;

/**
 * A POST /v1/actions body for a button the publisher attached to `ev`: the target is the event
 * itself, the name the button's id, the params its params, under the event's scope keys (so the
 * request reaches the backends of that scope, usually the publisher).
 */
export function eventActionRequest(ev: Pick<HubEvent, 'seq' | 'id' | 'type' | 'store_id' | 'user_id' | 'strategy_id' | 'tenant_id' | 'topics'>, a: EventAction) {
  return {
    action_id: `act-${crypto.randomUUID()}`,
    name: a.id,
    target: { type: ev.type, id: ev.id, seq: ev.seq },
    params: a.params ?? {},
    ...(ev.store_id !== null ? { store_id: ev.store_id } : {}),
    ...(ev.user_id !== null ? { user_id: ev.user_id } : {}),
    ...(ev.strategy_id !== null ? { strategy_id: ev.strategy_id } : {}),
    // The event's tenant and topics too: a tenant- or topic-scoped operator who sees the event by
    // them is refused without them, and the request reaches the topic's subscribers.
    ...(ev.tenant_id != null ? { tenant_id: ev.tenant_id } : {}),
    ...(ev.topics != null ? { topics: ev.topics } : {}),
  };
}

/** Approve a shift swap. */
export const swapApproveRequest = (row: ProjectionRow) => actionOn(row, SWAP_APPROVE_ACTION, SWAP_TARGET, {}, String(row.data.swap_id));

/** Reject a shift swap, saying why (the requester is told). */
export const swapRejectRequest = (row: ProjectionRow, reason: string) => actionOn(row, SWAP_REJECT_ACTION, SWAP_TARGET, { reason }, String(row.data.swap_id));

/** Accept an emergency call: the scheduler books the person signed in to this console. */
export const emergencyAcceptRequest = (row: ProjectionRow) => actionOn(row, EMERGENCY_ACCEPT_ACTION, EMERGENCY_TARGET, {}, String(row.data.call_id));

/** How a card or row names an action it shows. */
export function actionLabel(name: unknown, params: { status?: unknown; read?: unknown; starred?: unknown } | undefined): string | null {
  if (name === TRADING_CANCEL_ACTION) return 'Cancel';
  if (name === SWAP_APPROVE_ACTION) return 'Approve';
  if (name === SWAP_REJECT_ACTION) return 'Reject';
  if (name === EMERGENCY_ACCEPT_ACTION) return 'Accept';
  if (name === MAIL_READ_ACTION) return params?.read === false ? 'Mark unread' : 'Mark read';
  if (name === MAIL_STAR_ACTION) return params?.starred === false ? 'Unstar' : 'Star';
  if (name === ORDER_STATUS_ACTION && typeof params?.status === 'string') return params.status === 'cancelled' ? 'Cancel' : `→ ${params.status}`;
  return null;
}

/**
 * Where an action another window asked for is shown, and under which label. A button a publisher
 * attached to an event targets the event itself (`eventActionRequest`): it is kept under the event's
 * key, labelled as the button when this window holds the event, else by the action's name (the
 * window may have dropped the event from its buffer but still show it in a notice). An action on a
 * row is kept under the row's key. Anything else is not shown on a card.
 */
function requestedOn(
  d: Record<string, unknown>,
  ev: HubEvent,
  keyOf: (orderId: string, ev: HubEvent) => string,
  eventAt: (seq: number) => Pick<HubEvent, 'id' | 'type' | 'actions'> | undefined,
): { key: string; label: string } | null {
  const target = d.target as { type?: unknown; id?: unknown; seq?: unknown } | undefined;
  if (target?.id === undefined || target.id === null || target.id === '') return null;
  const seq = typeof target.seq === 'number' && Number.isInteger(target.seq) && target.seq > 0 ? target.seq : null;
  if (seq !== null) {
    const on = eventAt(seq);
    const attached = on && on.type === target.type && on.id === String(target.id) ? on.actions?.find((a) => a.id === d.name) : undefined;
    if (attached) return { key: eventActionKey(seq), label: attached.label };
  }
  const label = actionLabel(d.name, d.params as { status?: unknown; read?: unknown; starred?: unknown } | undefined);
  if (label) return { key: keyOf(String(target.id), ev), label };
  if (seq !== null && typeof d.name === 'string') return { key: eventActionKey(seq), label: d.name };
  return null;
}

const OUTCOME: Record<string, ActionState> = {
  'action.accepted': 'accepted',
  'action.rejected': 'rejected',
  'action.completed': 'completed',
  'action.failed': 'failed',
  'action.timed_out': 'timed_out',
};

/**
 * Actions on orders, by action id, moved along by the action.* events the stream carries (from this
 * window or another operator's). Returns whether anything changed.
 */
export class RowActions {
  readonly byId = new Map<string, RowAction>();

  /** The latest action on an order, for its card. */
  forKey(key: string): RowAction | undefined {
    let last: RowAction | undefined;
    for (const a of this.byId.values()) if (a.key === key && (!last || a.at >= last.at)) last = a;
    return last;
  }

  asked(a: RowAction): void {
    this.byId.set(a.action_id, a);
  }

  /**
   * `eventAt`: the event of a seq, when this window holds it; an action a publisher attached to it
   * is then shown under the button's own label.
   */
  apply(ev: HubEvent, keyOf: (orderId: string, ev: HubEvent) => string, now: number, eventAt: (seq: number) => Pick<HubEvent, 'id' | 'type' | 'actions'> | undefined = () => undefined): boolean {
    const d = ev.data as Record<string, unknown>;
    const id = typeof d.action_id === 'string' ? d.action_id : null;
    if (!id) return false;
    if (ev.type === 'action.requested') {
      if (this.byId.has(id)) return false;
      const tracked = requestedOn(d, ev, keyOf, eventAt);
      if (!tracked) return false;
      this.byId.set(id, { action_id: id, ...tracked, state: 'requested', at: now });
      return true;
    }
    const state = OUTCOME[ev.type];
    const a = this.byId.get(id);
    if (!state || !a) return false;
    this.byId.set(id, { ...a, state, detail: typeof d.reason === 'string' ? d.reason : typeof d.error === 'string' ? d.error : a.detail, at: now });
    return true;
  }

  /** Finished actions leave after a while (a rejection stays long enough to be read). */
  expire(now: number): boolean {
    let changed = false;
    for (const [id, a] of this.byId) {
      const keep = a.state === 'completed' ? 3_000 : a.state === 'requested' || a.state === 'accepted' || a.state === 'delivered' ? 120_000 : 15_000;
      if (now - a.at > keep) {
        this.byId.delete(id);
        changed = true;
      }
    }
    return changed;
  }
}
