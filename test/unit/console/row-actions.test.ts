import { describe, expect, it } from 'vitest';
import { ConsoleStore } from '../../../renderer/stream/store.ts';
import { eventActionKey, eventActionRequest, orderStatusRequest } from '../../../renderer/actions/row-actions.ts';
import { stateRowKey } from '../../../shared/state-keys.ts';
import type { HubEvent } from '../../../shared/events.ts';
import type { EventAction } from '../../../shared/domains/action.ts';
import type { Snapshot } from '../../../shared/state.ts';

/**
 * What one window shows of actions asked in another window of the same operator: the other window's
 * request reaches this one only as `action.requested` on the stream, then the backend's outcome.
 */
let seq = 100;
const at = '2026-12-02T12:00:00.000Z';
function ev(type: string, data: Record<string, unknown>, keys: Partial<HubEvent> = {}): HubEvent {
  seq++;
  return { seq, id: `e${seq}`, type, data, store_id: null, user_id: null, strategy_id: null, priority: 'normal', time: at, received_at: at, ...keys } as HubEvent;
}

const ATTACHED: EventAction[] = [
  { id: 'deploy.rollback', label: 'Roll back', style: 'danger', confirm: 'Roll web-7 back?', params: { to: 'v41' } },
  { id: 'deploy.retry', label: 'Retry' },
];
const failedDeploy = () => ev('x.deploy.failed', { service: 'web' }, { store_id: '7', priority: 'urgent', actions: ATTACHED });

/** The `action.requested` the hub records for a request body another window sent. */
function requested(body: ReturnType<typeof eventActionRequest> | ReturnType<typeof orderStatusRequest>): HubEvent {
  const { action_id, name, target, params, store_id } = body;
  return ev('action.requested', { action_id, name, target, params, requested_by: 'tok_op', requested_by_label: 'floor' }, { id: action_id, store_id: store_id ?? null, priority: 'high' });
}
const outcome = (type: string, actionId: string, extra: Record<string, unknown> = {}) => ev(type, { action_id: actionId, ...extra }, { store_id: '7' });

describe('an attached action asked in another window', () => {
  it('shows on the event in this window under the button’s label, and follows the backend’s answer', () => {
    const win = new ConsoleStore();
    const deploy = failedDeploy();
    win.addEvents([deploy]);
    const body = eventActionRequest(deploy, ATTACHED[1]!);
    const tables = win.version('tables');
    win.addEvents([requested(body)]);
    // The card redraws (the tables slice) and says who is waiting for what.
    expect(win.version('tables')).toBeGreaterThan(tables);
    expect(win.rowActions.forKey(eventActionKey(deploy.seq))).toMatchObject({ action_id: body.action_id, label: 'Retry', state: 'requested' });

    win.addEvents([outcome('action.accepted', body.action_id)]);
    expect(win.rowActions.forKey(eventActionKey(deploy.seq))).toMatchObject({ label: 'Retry', state: 'accepted' });
    win.addEvents([outcome('action.completed', body.action_id)]);
    expect(win.rowActions.forKey(eventActionKey(deploy.seq))?.state).toBe('completed');
  });

  it('a refusal carries the backend’s reason', () => {
    const win = new ConsoleStore();
    const deploy = failedDeploy();
    win.addEvents([deploy]);
    const body = eventActionRequest(deploy, ATTACHED[0]!);
    win.addEvents([requested(body), outcome('action.rejected', body.action_id, { reason: 'web-7 is locked' })]);
    expect(win.rowActions.forKey(eventActionKey(deploy.seq))).toMatchObject({ label: 'Roll back', state: 'rejected', detail: 'web-7 is locked' });
  });

  it('the event and the request in one batch (a replay after reconnecting): still the button’s label', () => {
    const win = new ConsoleStore();
    const deploy = failedDeploy();
    const req = requested(eventActionRequest(deploy, ATTACHED[0]!));
    win.addEvents([deploy, req]);
    expect(win.rowActions.forKey(eventActionKey(deploy.seq))).toMatchObject({ label: 'Roll back', state: 'requested' });
  });

  it('a window that started from a snapshot holds the row the event changed, and labels by its button', () => {
    // The other window saw the order arrive live, with the publisher's buttons.
    const created = ev('store.order.created', { order_id: 'A-9', table_id: 'T2', items: [{ name: 'Udon', quantity: 1 }], total: 8 }, { store_id: '7', actions: ATTACHED });
    const body = eventActionRequest(created, ATTACHED[1]!);
    const live = new ConsoleStore();
    live.addEvents([created]);
    const row = [...live.tables.store_order.values()][0]!;
    expect(row.actions?.seq).toBe(created.seq);
    // This window opened later: the hub's snapshot has the row with its buttons, not the event.
    const win = new ConsoleStore();
    win.applySnapshot({ seq: created.seq, truncated: null, counts: {}, store_orders: [row] } as unknown as Snapshot);
    expect(win.events).toHaveLength(0);
    win.addEvents([requested(body)]);
    expect(win.rowActions.forKey(eventActionKey(created.seq))).toMatchObject({ label: 'Retry', state: 'requested' });
  });

  it('a window that no longer holds the event shows the action by its name', () => {
    const elsewhere = new ConsoleStore();
    const deploy = failedDeploy();
    elsewhere.addEvents([deploy]);
    const body = eventActionRequest(deploy, ATTACHED[1]!);
    const win = new ConsoleStore();
    win.addEvents([requested(body)]);
    expect(win.rowActions.forKey(eventActionKey(deploy.seq))).toMatchObject({ label: 'deploy.retry', state: 'requested' });
    win.addEvents([outcome('action.failed', body.action_id, { error: 'web-7 unreachable' })]);
    expect(win.rowActions.forKey(eventActionKey(deploy.seq))).toMatchObject({ state: 'failed', detail: 'web-7 unreachable' });
  });

  it('an attached action named like a built-in one stays on its event, not on an order card', () => {
    const win = new ConsoleStore();
    const order = ev('store.order.created', { order_id: 'A-1', table_id: 'T1', items: [{ name: 'Soba', quantity: 1 }], total: 9 }, { store_id: '7', actions: [{ id: 'order.status', label: 'Serve now', params: { status: 'served' } }] });
    win.addEvents([order]);
    const body = eventActionRequest(order, order.actions![0]!);
    win.addEvents([requested(body)]);
    expect(win.rowActions.forKey(eventActionKey(order.seq))).toMatchObject({ label: 'Serve now', state: 'requested' });
    expect(win.rowActions.forKey(stateRowKey({ store_id: '7' }, 'A-1'))).toBeUndefined();
  });
});

describe('a row action asked in another window', () => {
  it('still shows on the row’s card, not on the event its target names', () => {
    const win = new ConsoleStore();
    const order = ev('store.order.created', { order_id: 'A-2', table_id: 'T1', items: [{ name: 'Soba', quantity: 1 }], total: 9 }, { store_id: '7' });
    win.addEvents([order]);
    const row = win.tables.store_order.get(stateRowKey({ store_id: '7' }, 'A-2'))!;
    const body = orderStatusRequest(row, 'preparing');
    expect(body.target.seq).toBe(order.seq);
    win.addEvents([requested(body)]);
    expect(win.rowActions.forKey(row.key)).toMatchObject({ label: '→ preparing', state: 'requested' });
    expect(win.rowActions.forKey(eventActionKey(order.seq))).toBeUndefined();
  });

  it('an unknown action with no event to show it on is not shown anywhere', () => {
    const win = new ConsoleStore();
    const tables = win.version('tables');
    win.addEvents([ev('action.requested', { action_id: 'a-x', name: 'warehouse.recount', target: { type: 'warehouse.bin', id: 'B-4' }, params: {}, requested_by: 'tok' })]);
    expect(win.rowActions.byId.size).toBe(0);
    expect(win.version('tables')).toBe(tables);
  });
});
