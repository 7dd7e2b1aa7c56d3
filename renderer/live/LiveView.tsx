import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { HubEvent } from '../../shared/events.ts';
import { useConsole } from '../app/context.ts';
import { typingIn } from '../app/hooks.ts';
import { VirtualTable, type Column } from '../app/VirtualTable.tsx';
import { useSlices } from '../stream/store.ts';
import { describeEvent, scopeLabel } from '../stream/describe.ts';
import { matches, type LiveFilter } from './filter.ts';
import { download, toCsv, toNdjson } from './export.ts';
import { EventActions } from '../actions/EventActions.tsx';

const ROW = 32;

const cols: Column<HubEvent>[] = [
  { key: 'seq', label: 'Seq', width: '5.5rem', className: 'num', render: (e) => e.seq },
  { key: 'time', label: 'Time', width: '6.5rem', render: (e) => new Date(e.time).toLocaleTimeString() },
  { key: 'type', label: 'Type', width: 'minmax(11rem,1.2fr)', render: (e) => <code>{e.type}</code> },
  { key: 'scope', label: 'Scope', width: 'minmax(8rem,1fr)', render: (e) => scopeLabel(e) },
  {
    key: 'topics',
    label: 'Topics',
    width: 'minmax(10rem,1.6fr)',
    render: (e) =>
      e.topics?.length ? (
        <span className="topics" title={e.topics.join('\n')} data-testid="live-topics">
          {e.topics.map((t) => (
            <span key={t} className="chip topic">
              {shortTopic(t)}
            </span>
          ))}
        </span>
      ) : null,
  },
  { key: 'prio', label: 'Priority', width: '5.5rem', render: (e) => <span className={`chip prio-${e.priority}`}>{e.priority}</span> },
  {
    key: 'summary',
    label: 'Summary',
    width: 'minmax(12rem,3fr)',
    render: (e) =>
      e.actions?.length ? (
        // Buttons first: a narrow column (the inspector open) cuts the text, never the buttons.
        <span className="summary-with-actions">
          <EventActions source={e} compact />
          <span className="summary-text">{describeEvent(e)}</span>
        </span>
      ) : (
        describeEvent(e)
      ),
  },
];

/** Every event this token may see, newest on top; the debugging and audit view. */
export function LiveView() {
  const { store } = useConsole();
  useSlices(store, 'live');
  const [filter, setFilter] = useState<LiveFilter>({ type: '', scope: '', text: '' });
  const [pausedAt, setPausedAt] = useState<number | null>(null);
  const [follow, setFollow] = useState(true);
  const [selected, setSelected] = useState<HubEvent | null>(null);
  const scrollRef = useRef<HTMLDivElement | null>(null);
  const textRef = useRef<HTMLInputElement>(null);
  const events = store.events;

  // Newest first, filtered; while paused, nothing after the pause point is drawn (but it is kept).
  const rows = useMemo(() => {
    const out: HubEvent[] = [];
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i]!;
      if (pausedAt !== null && e.seq > pausedAt) continue;
      if (matches(filter, e)) out.push(e);
    }
    return out;
  }, [events, filter, pausedAt]);
  const waiting = pausedAt === null ? 0 : countAfter(events, pausedAt);

  const { types, scopes } = useMemo(() => {
    const types = new Set<string>();
    const scopes = new Set<string>();
    for (const e of events) {
      types.add(e.type);
      if (e.store_id) scopes.add(`store_id=${e.store_id}`);
      if (e.user_id) scopes.add(`user_id=${e.user_id}`);
      if (e.strategy_id) scopes.add(`strategy_id=${e.strategy_id}`);
      if (e.tenant_id) scopes.add(`tenant_id=${e.tenant_id}`);
      for (const t of e.topics ?? []) if (scopes.size < 500) scopes.add(`topic=${t}`);
    }
    return { types: [...types].sort(), scopes: [...scopes].sort() };
    // Recomputed when the buffer is replaced; cheap next to rendering.
  }, [events]);
  const domains = [...new Set(types.map((t) => t.split('.')[0] + '.*'))];

  // Not following: keep the rows the user is reading in place while new ones land on top.
  const topSeq = useRef<number | null>(null);
  useLayoutEffect(() => {
    const el = scrollRef.current;
    const first = rows[0]?.seq ?? null;
    if (el && !follow && topSeq.current !== null && first !== null && first !== topSeq.current) {
      let added = 0;
      while (added < rows.length && rows[added]!.seq > topSeq.current) added++;
      el.scrollTop += added * ROW;
    }
    if (el && follow) el.scrollTop = 0;
    topSeq.current = first;
  }, [rows, follow]);

  const togglePause = () => setPausedAt((p) => (p === null ? (events[events.length - 1]?.seq ?? 0) : null));

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setSelected(null);
      if (typingIn(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === '/') {
        textRef.current?.focus();
        e.preventDefault();
      } else if (e.key === 'p') {
        togglePause();
        e.preventDefault();
      } else if (e.key === 'f') setFollow((f) => !f);
      else if (e.key === 'j' || e.key === 'ArrowDown' || e.key === 'k' || e.key === 'ArrowUp') {
        const i = selected ? rows.findIndex((r) => r.seq === selected.seq) : -1;
        const j = Math.max(0, Math.min(rows.length - 1, i + (e.key === 'j' || e.key === 'ArrowDown' ? 1 : -1)));
        const next = rows[j];
        if (next) {
          setSelected(next);
          setFollow(false);
          const el = scrollRef.current;
          if (el && (j * ROW < el.scrollTop || (j + 1) * ROW > el.scrollTop + el.clientHeight)) el.scrollTop = j * ROW - el.clientHeight / 2;
        }
        e.preventDefault();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const exportAs = (kind: 'ndjson' | 'csv') => {
    const oldestFirst = [...rows].reverse();
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    if (kind === 'ndjson') download(`relaydesk-events-${stamp}.ndjson`, 'application/x-ndjson', toNdjson(oldestFirst));
    else download(`relaydesk-events-${stamp}.csv`, 'text/csv', toCsv(oldestFirst));
  };

  return (
    <section className="live" data-testid="live">
      <div className="toolbar">
        <label>
          Type{' '}
          <select value={filter.type} onChange={(e) => setFilter({ ...filter, type: e.target.value })} data-testid="live-type">
            <option value="">All types</option>
            {domains.map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
            {types.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          Scope{' '}
          <select value={filter.scope} onChange={(e) => setFilter({ ...filter, scope: e.target.value })} data-testid="live-scope">
            <option value="">All scopes</option>
            {scopes.map((s) => (
              <option key={s} value={s}>
                {s.replace('=', ' ')}
              </option>
            ))}
          </select>
        </label>
        <input ref={textRef} type="search" placeholder="Filter text (/)" value={filter.text} onChange={(e) => setFilter({ ...filter, text: e.target.value })} aria-label="Filter text" data-testid="live-text" />
        <button type="button" onClick={togglePause} className={pausedAt !== null ? 'primary' : ''} data-testid="pause" aria-pressed={pausedAt !== null}>
          {pausedAt === null ? '❚❚ Pause (p)' : `▶ Resume · ${waiting} new`}
        </button>
        <label className="check" title="Keep the newest event in view (f)">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} data-testid="follow" /> Follow
        </label>
        <button type="button" onClick={() => exportAs('ndjson')} data-testid="export-ndjson">
          Export NDJSON
        </button>
        <button type="button" onClick={() => exportAs('csv')} data-testid="export-csv">
          Export CSV
        </button>
        <span className="muted" data-testid="live-count">
          {rows.length} shown · {events.length} buffered
        </span>
      </div>
      {store.dropped > 0 && (
        <div className="banner info" data-testid="dropped">
          {store.dropped.toLocaleString()} older events were dropped from this window to bound memory; they remain in the hub's history.
        </div>
      )}
      {pausedAt !== null && (
        <div className="banner warn" data-testid="paused-banner">
          Paused: {waiting} new events buffered. Resume to catch up.
        </div>
      )}
      <div className="live-body">
        <div className="pane pane-live">
          <VirtualTable
            rows={rows}
            columns={cols}
            rowKey={(e) => String(e.seq)}
            rowHeight={ROW}
            label="Live events"
            testId="live-table"
            selected={selected ? String(selected.seq) : null}
            onSelect={(e) => setSelected(e)}
            rowClass={(e) => `prio-row-${e.priority}`}
            scrollRef={scrollRef}
            onScroll={(el) => {
              // Scrolling down to read stops following; coming back to the top resumes it.
              if (el.scrollTop > ROW && follow) setFollow(false);
              else if (el.scrollTop === 0 && !follow) setFollow(true);
            }}
            empty="No events match the filters."
          />
        </div>
        {selected && (
          <aside className="inspector" aria-label="Event inspector" data-testid="inspector">
            <header>
              <b>Event {selected.seq}</b>
              <button type="button" onClick={() => void navigator.clipboard?.writeText(JSON.stringify(selected, null, 2))}>
                Copy
              </button>
              <button type="button" onClick={() => setSelected(null)} aria-label="Close inspector">
                ×
              </button>
            </header>
            {selected.actions?.length ? <EventActions source={selected} /> : null}
            <pre>{JSON.stringify(selected, null, 2)}</pre>
          </aside>
        )}
      </div>
    </section>
  );
}

/** A URI topic without its scheme and host (the column is narrow; the full topic is in the title). */
function shortTopic(t: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/]+(\/.*)$/i.exec(t);
  return m ? m[1]! : t;
}

function countAfter(events: readonly HubEvent[], seq: number): number {
  // The buffer is sorted by seq: walk back from the end.
  let n = 0;
  for (let i = events.length - 1; i >= 0 && events[i]!.seq > seq; i--) n++;
  return n;
}
