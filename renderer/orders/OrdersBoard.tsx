import { useEffect, useRef, useState } from 'react';
import type { ProjectionRow } from '../../shared/state.ts';
import { storeOrderStatus, ORDER_BUMP, ORDER_CANCELLABLE, type StoreOrderStatus } from '../../shared/domains/store.ts';
import { hubCall } from '../app/connection.ts';
import { ACTION_TEXT, actDenied, orderStatusRequest, type RowAction } from '../actions/row-actions.ts';
import { RowEventActions } from '../actions/EventActions.tsx';
import { useConsole } from '../app/context.ts';
import { SnapshotNotice } from '../app/SnapshotNotice.tsx';
import { isBool, isString, useNow, usePersistent } from '../app/hooks.ts';
import { FRESH_MS, useSlices } from '../stream/store.ts';
import { ago } from '../stream/describe.ts';
import { formatMoney } from '../../shared/money.ts';
import { tableLabel } from '../../shared/table-label.ts';
import { chime } from './chime.ts';

/** Kitchen-display columns; completed and cancelled orders leave the board. */
const COLUMNS: StoreOrderStatus[] = ['pending', 'accepted', 'preparing', 'ready', 'served'];
const DONE: ReadonlySet<string> = new Set(['completed', 'cancelled']);
/** Ageing: amber after 10 minutes, red after 20 (a table waiting that long needs someone now). */
export const WARN_MS = 10 * 60_000;
export const LATE_MS = 20 * 60_000;

interface Item {
  name: string;
  quantity: number;
  options?: string[];
}

export function OrdersBoard() {
  const { store, me } = useConsole();
  useSlices(store, 'tables');
  const now = useNow(1_000);
  const [storeSel, setStoreSel] = usePersistent<string>('relaydesk.orders.store', '', isString);
  const [chimeOn, setChimeOn] = usePersistent<boolean>('relaydesk.orders.chime', store.settings.chime_on_new_order, isBool);
  const chimeRef = useRef(chimeOn);
  chimeRef.current = chimeOn;

  useEffect(() => {
    store.onNewOrder = () => {
      if (chimeRef.current) chime();
    };
    return () => {
      store.onNewOrder = null;
    };
  }, [store]);

  const rows = [...store.tables.store_order.values()];
  const storeSet = new Set<string>(me.scope.store_ids ?? []);
  for (const r of rows) if (r.store_id) storeSet.add(r.store_id);
  const stores = [...storeSet].sort();

  const visible = (r: ProjectionRow) => !storeSel || r.store_id === storeSel;
  const byStatus = new Map<string, { row: ProjectionRow; deleted: boolean }[]>(COLUMNS.map((c) => [c, []]));
  for (const r of rows) {
    if (!visible(r)) continue;
    const st = String(r.data.status ?? 'pending');
    if (DONE.has(st)) continue;
    (byStatus.get(st) ?? byStatus.get('pending')!).push({ row: r, deleted: false });
  }
  for (const t of store.tombstones.values()) {
    if (!visible(t.row)) continue;
    const st = String(t.row.data.status ?? 'pending');
    byStatus.get(st)?.push({ row: t.row, deleted: true });
  }
  for (const list of byStatus.values()) list.sort((a, b) => Date.parse(a.row.created_at) - Date.parse(b.row.created_at));

  return (
    <section className="orders" data-testid="orders-board">
      <div className="toolbar">
        <label>
          Store{' '}
          <select value={storeSel} onChange={(e) => setStoreSel(e.target.value)} data-testid="store-select">
            <option value="">All stores</option>
            {stores.map((s) => (
              <option key={s} value={s}>
                Store {s}
              </option>
            ))}
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={chimeOn} onChange={(e) => setChimeOn(e.target.checked)} /> Chime on new order
        </label>
        <span className="muted legend">
          <span className="chip age-warn">10 min+</span> <span className="chip age-late">20 min+</span>
        </span>
      </div>
      <SnapshotNotice field="store_orders" noun="open orders" />
      <div className="board">
        {COLUMNS.map((c) => {
          const list = byStatus.get(c)!;
          return (
            <div key={c} className={`column col-${c}`} data-testid={`column-${c}`}>
              <h2>
                {c} <span className="count">{list.length}</span>
              </h2>
              <div className="cards">
                {list.map(({ row, deleted }) => (
                  <OrderCard key={row.key} row={row} deleted={deleted} now={now} fresh={(store.freshOrders.get(row.key) ?? 0) > now - FRESH_MS} action={store.rowActions.forKey(row.key)} />
                ))}
              </div>
            </div>
          );
        })}
      </div>
      {rows.length === 0 && store.tombstones.size === 0 && <p className="empty">No open orders. New orders appear here as they arrive.</p>}
    </section>
  );
}

/**
 * Bump (the next status) and cancel, as on a kitchen display: click, or with the card focused Enter
 * or → bumps and Delete cancels. The request goes to the store backend as an action; the card moves
 * when the backend publishes the order's new status, and says meanwhile how far the ask got.
 */
function OrderCardActions({ row, action }: { row: ProjectionRow; action?: RowAction }) {
  const { store, me, conn } = useConsole();
  const [cancelling, setCancelling] = useState(false);
  const [reason, setReason] = useState('');
  const status = storeOrderStatus.safeParse(row.data.status);
  const from = status.success ? status.data : 'pending';
  const bump = ORDER_BUMP[from];
  const denied = actDenied(me.role);
  const busy = action !== undefined && (action.state === 'requested' || action.state === 'accepted' || action.state === 'delivered');
  const ask = async (to: StoreOrderStatus, why?: string) => {
    const body = orderStatusRequest(row, to, why);
    const label = to === 'cancelled' ? 'Cancel' : `→ ${to}`;
    store.noteAction({ action_id: body.action_id, key: row.key, label, state: 'requested', at: Date.now() });
    try {
      await hubCall(conn, 'requestAction', { body });
    } catch (err) {
      store.rowActions.byId.delete(body.action_id);
      store.toast(`Could not ask the store to move order ${String(row.data.order_id)}: ${(err as Error).message}`, 'warn');
      store.noteAction({ action_id: body.action_id, key: row.key, label, state: 'failed', detail: (err as Error).message, at: Date.now() });
    }
  };
  return (
    <div className="card-actions" data-testid="order-actions">
      {action && (
        <p className={`action-state st-${action.state}`} data-testid="action-state" role="status">
          {action.label}: {ACTION_TEXT[action.state]}
          {action.detail ? ` (${action.detail})` : ''}
        </p>
      )}
      {cancelling ? (
        <form
          className="cancel-form"
          onSubmit={(e) => {
            e.preventDefault();
            setCancelling(false);
            void ask('cancelled', reason.trim());
            setReason('');
          }}
        >
          <input autoFocus value={reason} onChange={(e) => setReason(e.target.value)} placeholder="Why cancel?" aria-label="Reason for cancelling" required maxLength={500} />
          <button type="submit" disabled={!reason.trim()}>
            Cancel order
          </button>
          <button type="button" onClick={() => setCancelling(false)}>
            Keep
          </button>
        </form>
      ) : (
        <div className="buttons">
          {bump && (
            <button type="button" className="primary" disabled={!!denied || busy} title={denied ?? `Move to ${bump.to} (Enter)`} onClick={() => void ask(bump.to)} data-testid="bump">
              {bump.label}
            </button>
          )}
          {ORDER_CANCELLABLE.includes(from) && (
            <button type="button" disabled={!!denied || busy} title={denied ?? 'Cancel with a reason (Delete)'} onClick={() => setCancelling(true)} data-testid="cancel">
              Cancel
            </button>
          )}
        </div>
      )}
    </div>
  );
}

function OrderCard({ row, deleted, now, fresh, action }: { row: ProjectionRow; deleted: boolean; now: number; fresh: boolean; action?: RowAction }) {
  const d = row.data;
  const age = now - Date.parse(row.created_at);
  const tone = age > LATE_MS ? 'age-late' : age > WARN_MS ? 'age-warn' : '';
  const items = (Array.isArray(d.items) ? d.items : []) as Item[];
  const table = tableLabel(d);
  const status = storeOrderStatus.safeParse(d.status);
  return (
    <article
      className={['card', tone, fresh ? 'fresh' : '', deleted ? 'deleted' : ''].join(' ')}
      data-testid="order-card"
      data-order={String(d.order_id)}
      aria-label={`Order ${String(d.order_number ?? d.order_id)}${deleted ? ' (deleted)' : ''}`}
      tabIndex={0}
      onKeyDown={(e) => {
        // Keys act on the focused card itself, not while typing a reason inside it.
        if (e.target !== e.currentTarget || deleted) return;
        const key = e.key === 'Enter' || e.key === 'ArrowRight' ? 'bump' : e.key === 'Delete' ? 'cancel' : null;
        if (!key) return;
        e.preventDefault();
        e.currentTarget.querySelector<HTMLButtonElement>(`[data-testid="${key}"]:not(:disabled)`)?.click();
      }}
    >
      <header>
        <span className="table">{table !== null ? table : d.session_id ? `Session ${String(d.session_id)}` : 'Takeaway'}</span>
        <span className="age" title={row.created_at}>
          {ago(age)}
        </span>
      </header>
      <div className="order-no">
        #{String(d.order_number ?? d.order_id)}
        {row.store_id && <span className="muted"> · store {row.store_id}</span>}
        {fresh && !deleted && <span className="chip new">NEW</span>}
        {deleted && <span className="chip gone">DELETED</span>}
      </div>
      <ul className="items">
        {items.map((it, i) => (
          <li key={i}>
            <b>{it.quantity}×</b> {it.name}
            {it.options?.length ? <span className="muted"> ({it.options.join(', ')})</span> : null}
          </li>
        ))}
      </ul>
      {typeof d.note === 'string' && d.note && <p className="note">{d.note}</p>}
      <footer>
        <span className="total">{formatMoney(d.total, d.currency)}</span>
        <span className="muted">{status.success ? status.data : ''}</span>
      </footer>
      {/* The store backend's own buttons for the order as its last event left it (a refund, a call to the table). */}
      {!deleted && row.actions && (
        <div className="card-attached">
          <RowEventActions row={row} what="orders" />
        </div>
      )}
      {!deleted && <OrderCardActions row={row} action={action} />}
    </article>
  );
}
