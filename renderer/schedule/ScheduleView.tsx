import { useMemo, useState } from 'react';
import type { ProjectionRow } from '../../shared/state.ts';
import type { CallState, SwapState } from '../../shared/domains/schedule.ts';
import { useConsole } from '../app/context.ts';
import { SnapshotNotice } from '../app/SnapshotNotice.tsx';
import { isString, useNow, usePersistent } from '../app/hooks.ts';
import { VirtualTable, type Column } from '../app/VirtualTable.tsx';
import { hubCall } from '../app/connection.ts';
import { useSlices } from '../stream/store.ts';
import { ago } from '../stream/describe.ts';
import { ACTION_TEXT, actDenied, emergencyAcceptRequest, swapApproveRequest, swapRejectRequest, type RowAction } from '../actions/row-actions.ts';
import { RowEventActions } from '../actions/EventActions.tsx';

type Data = Record<string, unknown>;
const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));
const person = (p: unknown) => {
  const x = (p ?? {}) as Data;
  return str(x.name ?? x.user_id);
};
const shiftText = (sh: unknown) => {
  const x = (sh ?? {}) as Data;
  return `${x.label ? `${str(x.label)} ` : ''}${str(x.date)} ${str(x.start)}–${str(x.end)}`;
};
const wardOf = (r: ProjectionRow) => str(r.data.ward_name ?? r.data.ward_id);
const at = (r: ProjectionRow, field: string) => Date.parse(str(r.data[field] ?? r.created_at));
/** An ask that has not been answered yet: its buttons wait. */
const pending = (a: RowAction | undefined) => a !== undefined && (a.state === 'requested' || a.state === 'accepted' || a.state === 'delivered');

const SWAP_RANK: Record<SwapState, number> = { requested: 0, rejected: 1, approved: 2 };
const CALL_RANK: Record<CallState, number> = { open: 0, filled: 1, closed: 2 };

/**
 * The ward manager's desk: emergency calls to answer, swaps to decide, and the schedules in force.
 * Each button is an action the scheduler backend carries out; the row changes when the scheduler
 * publishes the outcome, and says meanwhile how far the ask got.
 */
export function ScheduleView() {
  const { store, me, conn } = useConsole();
  useSlices(store, 'tables');
  const now = useNow(5_000);
  const version = store.version('tables');
  const denied = actDenied(me.role);
  // The swap being rejected: the reason is asked for before anything is sent.
  const [rejecting, setRejecting] = useState<ProjectionRow | null>(null);
  const [reason, setReason] = useState('');

  const ask = async (row: ProjectionRow, body: { action_id: string }, label: string) => {
    store.noteAction({ action_id: body.action_id, key: row.key, label, state: 'requested', at: Date.now() });
    try {
      await hubCall(conn, 'requestAction', { body });
    } catch (err) {
      store.noteAction({ action_id: body.action_id, key: row.key, label, state: 'failed', detail: (err as Error).message, at: Date.now() });
    }
  };

  // One ward's desk, as a ward's topic fans its events out; remembered across reloads.
  const [wardFilter, setWardFilter] = usePersistent<string>('relaydesk.schedule.ward', '', isString);
  const { calls, swaps, schedules, wards } = useMemo(
    () => ({
      wards: [...new Map([...store.tables.schedule.values(), ...store.tables.swap.values(), ...store.tables.emergency_call.values()].map((r) => [str(r.data.ward_id), wardOf(r)])).entries()].sort((a, b) => a[1].localeCompare(b[1])),
      calls: [...store.tables.emergency_call.values()].sort((a, b) => CALL_RANK[str(a.data.state) as CallState] - CALL_RANK[str(b.data.state) as CallState] || b.seq - a.seq),
      swaps: [...store.tables.swap.values()].sort((a, b) => SWAP_RANK[str(a.data.state) as SwapState] - SWAP_RANK[str(b.data.state) as SwapState] || b.seq - a.seq),
      schedules: [...store.tables.schedule.values()].sort((a, b) => wardOf(a).localeCompare(wardOf(b)) || str(b.data.period_start).localeCompare(str(a.data.period_start))),
    }),
    // `version` moves whenever the store mutates its tables in place.
    [version, store],
  );

  // A remembered ward that no longer has rows must not hide everything.
  const ward = wards.some(([id]) => id === wardFilter) ? wardFilter : '';
  const inWard = (r: ProjectionRow) => !ward || str(r.data.ward_id) === ward;

  const swapCols: Column<ProjectionRow>[] = [
    {
      key: 'who',
      label: 'Requested by · with',
      width: 'minmax(12rem,1.4fr)',
      render: (r) => (
        <span>
          <b>{person(r.data.requester)}</b>
          {r.data.counterpart !== undefined && <span className="muted"> ⇄ {person(r.data.counterpart)}</span>}
        </span>
      ),
    },
    { key: 'shift', label: 'Shift', width: 'minmax(15rem,1.3fr)', render: (r) => shiftText(r.data.shift) },
    { key: 'offered', label: 'Offered in return', width: 'minmax(15rem,1.2fr)', render: (r) => (r.data.offered_shift ? shiftText(r.data.offered_shift) : <span className="muted">—</span>) },
    { key: 'ward', label: 'Ward', width: '10rem', render: wardOf },
    { key: 'reason', label: 'Reason', width: 'minmax(8rem,1.4fr)', render: (r) => <span className="muted">{str(r.data.state === 'rejected' ? r.data.reason : (r.data.reason ?? ''))}</span> },
    { key: 'state', label: 'State', width: '7rem', render: (r) => <span className={`chip swap-${str(r.data.state)}`}>{str(r.data.state)}</span> },
    {
      key: 'act',
      label: '',
      width: 'minmax(11rem,1fr)',
      render: (r) => {
        const a = store.rowActions.forKey(r.key);
        const busy = pending(a);
        return (
          <span className="mail-actions">
            {r.data.state === 'requested' && (
              <>
                <button type="button" className="row-action primary" disabled={!!denied || busy} title={denied ?? 'Approve the swap'} onClick={() => void ask(r, swapApproveRequest(r), 'Approve')} data-testid="swap-approve">
                  Approve
                </button>
                <button type="button" className="row-action" disabled={!!denied || busy} title={denied ?? 'Reject the swap, with a reason'} onClick={() => setRejecting(r)} data-testid="swap-reject">
                  Reject
                </button>
              </>
            )}
            <RowEventActions row={r} compact what="swaps" />
            {a && a.state !== 'completed' && (
              <span className={`action-state st-${a.state}`} title={`${a.label}: ${ACTION_TEXT[a.state]}${a.detail ? ` (${a.detail})` : ''}`} data-testid="action-state">
                {a.label}: {ACTION_TEXT[a.state]}
              </span>
            )}
          </span>
        );
      },
    },
  ];

  const scheduleCols: Column<ProjectionRow>[] = [
    { key: 'ward', label: 'Ward', width: 'minmax(8rem,1fr)', render: (r) => <b>{wardOf(r)}</b> },
    { key: 'period', label: 'Period', width: 'minmax(12rem,1.2fr)', render: (r) => `${str(r.data.period_start)} → ${str(r.data.period_end)}` },
    { key: 'version', label: 'Version', width: '5rem', className: 'num', render: (r) => `v${str(r.data.version ?? 1)}` },
    { key: 'status', label: 'Status', width: '7rem', render: (r) => <span className={`chip schedule-${str(r.data.status)}`}>{str(r.data.status)}</span> },
    { key: 'changes', label: 'Last change', width: 'minmax(16rem,3fr)', render: (r) => <span className="muted">{str(r.data.changes ?? (r.data.shift_count !== undefined ? `${str(r.data.shift_count)} shifts published` : ''))}</span> },
    { key: 'time', label: 'When', width: '7.5rem', render: (r) => `${ago(now - at(r, r.data.changed_at ? 'changed_at' : 'published_at'))} ago` },
    // Only while some schedule has buttons (an "Acknowledge" the scheduler attached to a change).
    ...(schedules.some((r) => r.actions) ? [{ key: 'act', label: '', width: 'minmax(8rem,1fr)', render: (r: ProjectionRow) => <RowEventActions row={r} compact what="schedules" /> }] : []),
  ];

  return (
    <section className="schedule" data-testid="schedule">
      <label className="ward-filter">
        Ward{' '}
        <select value={ward} onChange={(e) => setWardFilter(e.target.value)} data-testid="ward-filter">
          <option value="">All wards</option>
          {wards.map(([id, name]) => (
            <option key={id} value={id}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <h2 className="section-title">Emergency calls</h2>
      <div className="call-strip" data-testid="emergency-calls">
        {calls.filter(inWard).length === 0 && <span className="muted">No emergency calls.</span>}
        {calls.filter(inWard).map((c) => {
          const st = str(c.data.state) as CallState;
          const a = store.rowActions.forKey(c.key);
          return (
            <article key={c.key} className={`call call-${st}`} role={st === 'open' ? 'alert' : undefined} data-testid="emergency-call">
              <header>
                <b>{wardOf(c)}</b> <span className={`chip call-state-${st}`}>{st}</span>
                <span className="muted"> · {ago(now - at(c, 'called_at'))} ago</span>
              </header>
              <p className="call-message">{str(c.data.message)}</p>
              <p className="muted">
                {c.data.role !== undefined && `${str(c.data.role)} · `}
                {st === 'open' ? `${str(c.data.remaining ?? c.data.needed)} of ${str(c.data.needed)} still needed` : st === 'filled' ? `filled (${str(c.data.needed)})` : str(c.data.reason ?? 'closed')}
                {c.data.accepted_by !== undefined && ` · last accepted by ${str(c.data.accepted_by)}`}
              </p>
              {a && a.state !== 'completed' && (
                <p className={`action-state st-${a.state}`} role="status" data-testid="action-state">
                  {a.label}: {ACTION_TEXT[a.state]}
                  {a.detail ? ` (${a.detail})` : ''}
                </p>
              )}
              {st === 'open' && (
                <button type="button" className="primary" disabled={!!denied || pending(a)} title={denied ?? 'Accept: the scheduler books you for this call'} onClick={() => void ask(c, emergencyAcceptRequest(c), 'Accept')} data-testid="emergency-accept">
                  Accept call
                </button>
              )}
              <RowEventActions row={c} what="emergency calls" />
            </article>
          );
        })}
      </div>

      <h2 className="section-title">Shift swaps</h2>
      {rejecting && (
        <form
          className="confirm banner warn"
          aria-label="Reject swap"
          data-testid="reject-form"
          onSubmit={(e) => {
            e.preventDefault();
            const row = rejecting;
            setRejecting(null);
            void ask(row, swapRejectRequest(row, reason.trim()), 'Reject');
            setReason('');
          }}
        >
          <span>
            Reject the swap of <b>{person(rejecting.data.requester)}</b> ({shiftText(rejecting.data.shift)})?
          </span>
          <input autoFocus value={reason} onChange={(e) => setReason(e.target.value)} placeholder="Why? The requester is told." aria-label="Reason for rejecting" required maxLength={1000} />
          <button type="submit" className="primary" disabled={!reason.trim()}>
            Reject swap
          </button>
          <button type="button" onClick={() => setRejecting(null)}>
            Keep
          </button>
        </form>
      )}
      <SnapshotNotice field="swaps" noun="swaps" />
      <div className="pane">
        <VirtualTable rows={swaps.filter(inWard)} columns={swapCols} rowKey={(r) => r.key} rowHeight={44} label="Shift swaps" testId="swap-list" empty="No swap requests." rowClass={(r) => (r.data.state === 'requested' ? 'prio-row-high' : '')} />
      </div>

      <h2 className="section-title">Schedules</h2>
      <div className="pane pane-schedules">
        <VirtualTable rows={schedules.filter(inWard)} columns={scheduleCols} rowKey={(r) => r.key} rowHeight={40} label="Schedules" testId="schedule-list" empty="No schedule published yet." />
      </div>
    </section>
  );
}
