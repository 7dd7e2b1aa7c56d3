import type { HubEvent } from '../../shared/events.ts';
import type { ProjectionRow } from '../../shared/state.ts';
import type { ActionState } from '../../shared/domains/action.ts';
import { ORDER_STATUS_ACTION, type StoreOrderStatus } from '../../shared/domains/store.ts';
import type { TokenRole } from '../../shared/api.ts';

/** An action this window asked for (or saw asked) on an order, as far as the stream has told. */
export interface OrderAction {
  action_id: string;
  /** The order's row key. */
  key: string;
  to: StoreOrderStatus;
  state: ActionState;
  /** The backend's reason or error, for a rejected or failed action. */
  detail?: string;
  at: number;
}

/** Who may press the buttons: operators and admins; everyone else sees why not. */
export function actDenied(role: TokenRole): string | null {
  return role === 'operator' || role === 'admin' ? null : `a ${role} token can watch orders but not act on them; sign in with an operator token`;
}

/** The POST /v1/actions body for moving an order to `to`, under the order's own scope keys. */
export function orderStatusRequest(row: ProjectionRow, to: StoreOrderStatus, reason?: string) {
  return {
    // A fresh id per press: a retry of the same press (network) repeats it, a second press is a new ask.
    action_id: `ord-${crypto.randomUUID()}`,
    name: ORDER_STATUS_ACTION,
    target: { type: 'store.order', id: String(row.data.order_id), seq: row.seq },
    params: { status: to, ...(reason ? { reason } : {}) },
    ...(row.store_id !== null ? { store_id: row.store_id } : {}),
    ...(row.user_id !== null ? { user_id: row.user_id } : {}),
    ...(row.strategy_id !== null ? { strategy_id: row.strategy_id } : {}),
  };
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
export class OrderActions {
  readonly byId = new Map<string, OrderAction>();

  /** The latest action on an order, for its card. */
  forKey(key: string): OrderAction | undefined {
    let last: OrderAction | undefined;
    for (const a of this.byId.values()) if (a.key === key && (!last || a.at >= last.at)) last = a;
    return last;
  }

  asked(a: OrderAction): void {
    this.byId.set(a.action_id, a);
  }

  apply(ev: HubEvent, keyOf: (orderId: string, ev: HubEvent) => string, now: number): boolean {
    const d = ev.data as Record<string, unknown>;
    const id = typeof d.action_id === 'string' ? d.action_id : null;
    if (!id) return false;
    if (ev.type === 'action.requested') {
      if (d.name !== ORDER_STATUS_ACTION || this.byId.has(id)) return false;
      const target = d.target as { id?: unknown } | undefined;
      const to = (d.params as { status?: StoreOrderStatus } | undefined)?.status;
      if (!target?.id || !to) return false;
      this.byId.set(id, { action_id: id, key: keyOf(String(target.id), ev), to, state: 'requested', at: now });
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
