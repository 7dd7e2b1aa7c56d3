import { useMemo, useState } from 'react';
import type { ProjectionRow } from '../../shared/state.ts';
import { useConsole } from '../app/context.ts';
import { SnapshotNotice } from '../app/SnapshotNotice.tsx';
import { isString, isStringArray, usePersistent } from '../app/hooks.ts';
import { VirtualTable, type Column } from '../app/VirtualTable.tsx';
import { useSlices } from '../stream/store.ts';
import { StrategyFilter } from './StrategyFilter.tsx';
import { TRADING_CANCELLABLE } from '../../shared/domains/trading.ts';
import { hubCall } from '../app/connection.ts';
import { ACTION_TEXT, actDenied, tradingCancelRequest } from '../actions/row-actions.ts';
import { RowEventActions } from '../actions/EventActions.tsx';

type Account = { account_id?: unknown; name?: unknown; exchange?: unknown };
const acct = (r: ProjectionRow) => (r.data.account ?? {}) as Account;
const num = (v: unknown) => (v === null || v === undefined || v === '' ? '-' : String(v));
const time = (iso: string) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString();
};

export function TradingView() {
  const { store, me, conn } = useConsole();
  useSlices(store, 'tables');
  // The order a trader asked to cancel, waiting for the confirmation that names what it is.
  const [confirming, setConfirming] = useState<ProjectionRow | null>(null);
  const denied = actDenied(me.role);
  const cancel = async (row: ProjectionRow) => {
    setConfirming(null);
    const body = tradingCancelRequest(row);
    store.noteAction({ action_id: body.action_id, key: row.key, label: 'Cancel', state: 'requested', at: Date.now() });
    try {
      await hubCall(conn, 'requestAction', { body });
    } catch (err) {
      store.noteAction({ action_id: body.action_id, key: row.key, label: 'Cancel', state: 'failed', detail: (err as Error).message, at: Date.now() });
    }
  };
  const [strategies, setStrategies] = usePersistent<string[]>('relaydesk.trading.strategies', [], isStringArray);
  const [account, setAccount] = usePersistent<string>('relaydesk.trading.account', '', isString);
  const version = store.version('tables');

  const { orders, positions, allStrategies, accounts } = useMemo(() => {
    const orders = [...store.tables.trading_order.values()];
    const positions = [...store.tables.position.values()];
    const ss = new Set<string>(me.scope.strategy_ids ?? []);
    const accounts = new Map<string, string>();
    for (const r of [...orders, ...positions]) {
      if (r.strategy_id) ss.add(r.strategy_id);
      const a = acct(r);
      if (a.account_id !== undefined) accounts.set(String(a.account_id), `${String(a.name ?? a.account_id)} · ${String(a.exchange ?? '')}`);
    }
    return { orders, positions, allStrategies: [...ss].sort((a, b) => a.localeCompare(b, undefined, { numeric: true })), accounts };
    // `version` is the dependency: the tables are mutated in place by the store.
  }, [version, store, me]);

  // A remembered strategy that no longer exists must not hide everything.
  const active = strategies.filter((s) => allStrategies.includes(s));
  const pass = (r: ProjectionRow) => (!active.length || (r.strategy_id !== null && active.includes(r.strategy_id))) && (!account || String(acct(r).account_id) === account);
  const shownOrders = orders.filter(pass).sort((a, b) => b.seq - a.seq);
  const shownPositions = positions.filter(pass).sort((a, b) => String(a.data.symbol).localeCompare(String(b.data.symbol)));

  const orderCols: Column<ProjectionRow>[] = [
    { key: 'order', label: 'Order id', width: 'minmax(7rem,0.9fr)', render: (r) => <CopyId id={String(r.data.order_id)} /> },
    { key: 'symbol', label: 'Symbol', width: 'minmax(7rem,1.2fr)', render: (r) => <b>{String(r.data.symbol)}</b> },
    { key: 'side', label: 'Side', width: '4.5rem', render: (r) => <span className={`side side-${String(r.data.side).toLowerCase()}`}>{String(r.data.side)}</span> },
    { key: 'type', label: 'Type', width: '7.5rem', render: (r) => String(r.data.order_type) },
    { key: 'qty', label: 'Filled / qty', width: '7.5rem', className: 'num', render: (r) => (r.data.filled_quantity !== undefined ? `${num(r.data.filled_quantity)} / ${num(r.data.quantity)}` : num(r.data.quantity)) },
    { key: 'price', label: 'Price', width: '7rem', className: 'num', render: (r) => num(r.data.price ?? r.data.average_price) },
    { key: 'status', label: 'Status', width: '9rem', render: (r) => <span className={`status st-${String(r.data.status).toLowerCase()}`}>{String(r.data.status)}</span> },
    { key: 'account', label: 'Account · exchange', width: 'minmax(9rem,1.2fr)', render: (r) => `${String(acct(r).name ?? acct(r).account_id)} · ${String(acct(r).exchange ?? '')}` },
    { key: 'strategy', label: 'Strategy', width: '5.5rem', render: (r) => r.strategy_id ?? '-' },
    { key: 'time', label: 'Time', width: '6.5rem', render: (r) => time(r.updated_at) },
    {
      key: 'act',
      label: '',
      width: 'minmax(6rem,0.9fr)',
      render: (r) => {
        const a = store.rowActions.forKey(r.key);
        const own = a ? (
          <span className={`action-state st-${a.state}`} title={a.detail} data-testid="action-state">{`${a.label}: ${ACTION_TEXT[a.state]}${a.detail ? ` (${a.detail})` : ''}`}</span>
        ) : TRADING_CANCELLABLE.includes(String(r.data.status) as never) ? (
          <button type="button" className="row-action" disabled={!!denied} title={denied ?? 'Cancel this order at the exchange'} onClick={() => setConfirming(r)} data-testid="cancel-order">
            Cancel
          </button>
        ) : null;
        // The bot's own buttons for the order as its last event left it, after the console's Cancel.
        return (
          <span className="mail-actions">
            {own}
            <RowEventActions row={r} compact what="orders" />
          </span>
        );
      },
    },
  ];
  const posCols: Column<ProjectionRow>[] = [
    { key: 'symbol', label: 'Symbol', width: 'minmax(7rem,1fr)', render: (r) => <b>{String(r.data.symbol)}</b> },
    { key: 'qty', label: 'Quantity (change)', width: '12rem', className: 'num', render: (r) => <QtyChange row={r} prev={store.prevQty.get(r.key)} /> },
    { key: 'entry', label: 'Entry price', width: '8rem', className: 'num', render: (r) => num(r.data.entry_price) },
    { key: 'pnl', label: 'Unrealized PnL', width: '8rem', className: 'num', render: (r) => num(r.data.unrealized_pnl) },
    { key: 'account', label: 'Account', width: 'minmax(9rem,1fr)', render: (r) => `${String(acct(r).name ?? acct(r).account_id)} · ${String(acct(r).exchange ?? '')}` },
    { key: 'strategy', label: 'Strategy', width: '5.5rem', render: (r) => r.strategy_id ?? '-' },
    // Only while some position has buttons (a "Close" the bot attached): most desks never see the column.
    ...(shownPositions.some((r) => r.actions) ? [{ key: 'act', label: '', width: 'minmax(8rem,1fr)', render: (r: ProjectionRow) => <RowEventActions row={r} compact what="positions" /> }] : []),
  ];

  return (
    <section className="trading" data-testid="trading">
      {confirming && (
        <div className="confirm banner warn" role="alertdialog" aria-label="Confirm cancel" data-testid="confirm-cancel">
          <span>
            Cancel <b>{String(confirming.data.side)} {num(confirming.data.quantity)} {String(confirming.data.symbol)}</b> on{' '}
            <b>
              {String(acct(confirming).name ?? acct(confirming).account_id)} · {String(acct(confirming).exchange ?? '')}
            </b>{' '}
            (order <code>{String(confirming.data.order_id)}</code>)?
          </span>
          <button type="button" className="primary" autoFocus onClick={() => void cancel(confirming)}>
            Cancel order
          </button>
          <button type="button" onClick={() => setConfirming(null)}>
            Keep it
          </button>
        </div>
      )}
      <div className="toolbar">
        <StrategyFilter all={allStrategies} selected={active} onChange={setStrategies} />
        <label>
          Account{' '}
          <select value={account} onChange={(e) => setAccount(e.target.value)} data-testid="account-select">
            <option value="">All accounts</option>
            {[...accounts].map(([id, label]) => (
              <option key={id} value={id}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <span className="muted">
          {shownOrders.length} of {orders.length} orders · {shownPositions.length} of {positions.length} positions
        </span>
        {store.tableDropped.trading_order ? (
          <span className="muted" data-testid="trading-dropped">
            {store.tableDropped.trading_order.toLocaleString()} older orders left this window (still in the hub's history)
          </span>
        ) : null}
      </div>
      <SnapshotNotice field="trading_orders" noun="trading orders" />
      <SnapshotNotice field="positions" noun="positions" />
      <h2 className="section-title">Orders</h2>
      <div className="pane pane-orders">
        <VirtualTable rows={shownOrders} columns={orderCols} rowKey={(r) => r.key} label="Trading orders" testId="trading-orders" empty="No orders match the filters." />
      </div>
      <h2 className="section-title">Positions</h2>
      <div className="pane pane-positions">
        <VirtualTable rows={shownPositions} columns={posCols} rowKey={(r) => r.key} label="Positions" testId="positions" empty="No open positions match the filters." />
      </div>
    </section>
  );
}

function QtyChange({ row, prev }: { row: ProjectionRow; prev: number | undefined }) {
  const q = Number(row.data.quantity);
  const before = row.data.previous_quantity !== undefined ? Number(row.data.previous_quantity) : prev;
  const delta = before === undefined || !Number.isFinite(before) ? null : q - before;
  return (
    <span>
      {num(row.data.quantity)}{' '}
      {delta !== null && delta !== 0 && (
        <span className={delta > 0 ? 'up' : 'down'}>
          {delta > 0 ? '▲ +' : '▼ '}
          {Number(delta.toFixed(8))}
        </span>
      )}
    </span>
  );
}

/** Traders reconcile by order id with the exchange: show it whole (on hover) and copy it in one click. */
function CopyId({ id }: { id: string }) {
  const [copied, setCopied] = useState(false);
  const copy = () => {
    void navigator.clipboard
      ?.writeText(id)
      .then(() => {
        setCopied(true);
        setTimeout(() => setCopied(false), 1_500);
      })
      .catch(() => undefined);
  };
  return (
    <span className="copy-id">
      <code title={id} data-testid="order-id">
        {id}
      </code>
      <button type="button" className="icon" onClick={copy} aria-label={`Copy order id ${id}`} title="Copy order id">
        {copied ? (
          '✓'
        ) : (
          <svg width="13" height="13" viewBox="0 0 16 16" aria-hidden="true">
            <rect x="5" y="5" width="9" height="9" rx="1.5" fill="none" stroke="currentColor" strokeWidth="1.6" />
            <path d="M11 3.5V3a1 1 0 0 0-1-1H3a1 1 0 0 0-1 1v7a1 1 0 0 0 1 1h.5" fill="none" stroke="currentColor" strokeWidth="1.6" />
          </svg>
        )}
      </button>
    </span>
  );
}
