import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ACTION_STATE_GROUPS, actionStates, type ActionList, type ActionState, type ActionStatus } from '../../shared/domains/action.ts';
import { useConsole } from '../app/context.ts';
import { hubCall } from '../app/connection.ts';
import { useNow } from '../app/hooks.ts';
import { useSlices } from '../stream/store.ts';
import { ago } from '../stream/describe.ts';
import { ACTION_TEXT } from './row-actions.ts';

interface Filters {
  state: '' | 'open' | 'problems' | ActionState;
  name: string;
  mine: boolean;
}

/** Who, what, on what, when and how it ended, for every action of this token's scope (GET /v1/actions). */
export function ActionHistory() {
  const { store, conn, me } = useConsole();
  useSlices(store, 'live');
  const now = useNow(5_000);
  const [filters, setFilters] = useState<Filters>({ state: '', name: '', mine: false });
  const [pages, setPages] = useState<ActionList[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  const query = useCallback(
    (cursor?: string) => {
      const state = filters.state === 'open' || filters.state === 'problems' ? ACTION_STATE_GROUPS[filters.state].join(',') : filters.state || undefined;
      const name = /^[a-z][a-z0-9_.-]*$/.test(filters.name.trim()) ? filters.name.trim() : undefined;
      return { limit: 100, state, name, requested_by: filters.mine ? me.token_id : undefined, cursor };
    },
    [filters, me.token_id],
  );

  const reload = useCallback(async () => {
    setLoading(true);
    try {
      setPages([await hubCall(conn, 'listActions', { query: query() })]);
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setLoading(false);
    }
  }, [conn, query]);

  // Reload when the filters change, and when the stream brings an action event (a new request or an
  // outcome), at most every half second.
  const lastActionSeq = useMemo(() => {
    for (let i = store.events.length - 1; i >= 0; i--) if (store.events[i]!.type.startsWith('action.')) return store.events[i]!.seq;
    return 0;
  }, [store.events]);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => void reload(), 150);
    return () => {
      if (timer.current) clearTimeout(timer.current);
    };
  }, [reload, lastActionSeq]);

  const more = async () => {
    const next = pages.at(-1)?.next_cursor;
    if (!next) return;
    try {
      const page = await hubCall(conn, 'listActions', { query: query(next) });
      setPages((p) => [...p, page]);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const rows = pages.flatMap((p) => p.actions);
  const names = [...new Set(rows.map((a) => a.name))].sort();
  return (
    <section className="action-history" data-testid="action-history">
      <div className="toolbar">
        <label>
          Outcome{' '}
          <select value={filters.state} onChange={(e) => setFilters({ ...filters, state: e.target.value as Filters['state'] })} data-testid="history-state">
            <option value="">All</option>
            <option value="open">Still open</option>
            <option value="problems">Refused, failed or unanswered</option>
            {actionStates.map((s) => (
              <option key={s} value={s}>
                {s.replace('_', ' ')}
              </option>
            ))}
          </select>
        </label>
        <label>
          Action{' '}
          <input list="action-names" value={filters.name} onChange={(e) => setFilters({ ...filters, name: e.target.value })} placeholder="any (e.g. order.status)" aria-label="Action name" data-testid="history-name" />
          <datalist id="action-names">
            {names.map((n) => (
              <option key={n} value={n} />
            ))}
          </datalist>
        </label>
        <label className="check">
          <input type="checkbox" checked={filters.mine} onChange={(e) => setFilters({ ...filters, mine: e.target.checked })} data-testid="history-mine" /> Only mine
        </label>
        <button type="button" onClick={() => void reload()} disabled={loading}>
          Refresh
        </button>
        <span className="muted" data-testid="history-count">
          {rows.length} action{rows.length === 1 ? '' : 's'}
        </span>
      </div>
      {error && <div className="banner warn">Could not read the action history: {error}</div>}
      {rows.length === 0 && !error ? (
        <p className="empty">{loading ? 'Loading…' : 'No actions match. Actions appear here when an operator asks a backend to do something.'}</p>
      ) : (
        <table className="plain history-table" data-testid="history-table">
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>What</th>
              <th>Target</th>
              <th>Scope</th>
              <th>Outcome</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((a) => (
              <HistoryRow key={`${a.requested_seq}`} a={a} now={now} />
            ))}
          </tbody>
        </table>
      )}
      {pages.at(-1)?.next_cursor && (
        <button type="button" onClick={() => void more()} data-testid="history-more">
          Older actions
        </button>
      )}
    </section>
  );
}

function HistoryRow({ a, now }: { a: ActionStatus; now: number }) {
  const params = Object.entries(a.params);
  const scope = [a.store_id && `store ${a.store_id}`, a.user_id && `user ${a.user_id}`, a.strategy_id && `strategy ${a.strategy_id}`].filter(Boolean).join(' · ');
  const last = a.outcomes.at(-1);
  const detail = a.reason ?? a.error ?? (a.state === 'delivered' ? `to ${a.delivered_to.join(', ')}` : undefined);
  return (
    <tr data-testid="history-row" data-action={a.action_id} data-state={a.state}>
      <td title={a.requested_at}>
        {new Date(a.requested_at).toLocaleTimeString()}
        <div className="muted">{ago(now - Date.parse(a.requested_at))} ago</div>
      </td>
      <td title={`token ${a.requested_by}`}>{a.requested_by_label ?? a.requested_by}</td>
      <td>
        <code>{a.name}</code>
        {params.length > 0 && <div className="muted params">{params.map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ')}</div>}
      </td>
      <td>
        <code>{a.target.type}</code> {a.target.id}
        {a.target.seq !== undefined && <span className="muted"> · event {a.target.seq}</span>}
      </td>
      <td className="muted">{scope || 'all'}</td>
      <td>
        <span className={`chip outcome st-${a.state}`} data-testid="history-outcome">
          {a.state.replace('_', ' ')}
        </span>{' '}
        <span className="muted" title={ACTION_TEXT[a.state]}>
          {detail ?? ''}
          {last ? ` · ${ago(Date.parse(last.at) - Date.parse(a.requested_at))} after asking` : ''}
        </span>
      </td>
    </tr>
  );
}
