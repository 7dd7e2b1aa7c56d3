import { useMemo } from 'react';
import type { ProjectionRow } from '../../shared/state.ts';
import { JOB_FINAL_STATES, type JobState } from '../../shared/domains/job.ts';
import { useConsole } from '../app/context.ts';
import { SnapshotNotice } from '../app/SnapshotNotice.tsx';
import { useNow } from '../app/hooks.ts';
import { VirtualTable, type Column } from '../app/VirtualTable.tsx';
import { useSlices } from '../stream/store.ts';
import { ago } from '../stream/describe.ts';
import { RowEventActions } from '../actions/EventActions.tsx';

const stateOf = (r: ProjectionRow): JobState => String(r.data.state ?? 'queued') as JobState;
const finished = (r: ProjectionRow) => JOB_FINAL_STATES.includes(stateOf(r));
/** Working jobs first (what someone is waiting on), then failures (what needs a look), then the rest. */
const RANK: Record<JobState, number> = { running: 0, queued: 1, failed: 2, cancelled: 3, completed: 4 };

/** Elapsed since the job's first event: up to now while it works, up to its outcome once finished. */
export function jobElapsedMs(r: ProjectionRow, now: number): number {
  const from = Date.parse(String(r.data.queued_at ?? r.created_at));
  const to = finished(r) ? Date.parse(String(r.data.finished_at ?? r.updated_at)) : now;
  return Math.max(0, to - from);
}

export function JobsView() {
  const { store } = useConsole();
  useSlices(store, 'tables');
  const now = useNow(1_000);
  const version = store.version('tables');
  const jobs = useMemo(
    () => [...store.tables.job.values()].sort((a, b) => RANK[stateOf(a)] - RANK[stateOf(b)] || b.seq - a.seq),
    // `version` moves whenever the store mutates its tables in place.
    [version, store],
  );
  const counts = useMemo(() => {
    const c: Record<JobState, number> = { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
    for (const r of jobs) c[stateOf(r)] = (c[stateOf(r)] ?? 0) + 1;
    return c;
  }, [jobs]);

  const cols: Column<ProjectionRow>[] = [
    {
      key: 'job',
      label: 'Job',
      width: 'minmax(12rem,2fr)',
      render: (r) => (
        <span className="job-title" title={`job ${String(r.data.job_id)}`}>
          <b>{String(r.data.title ?? r.data.job_id)}</b>
          {r.data.kind !== undefined && <span className="muted"> · {String(r.data.kind)}</span>}
        </span>
      ),
    },
    {
      key: 'state',
      label: 'State',
      width: '11rem',
      render: (r) => (
        <>
          <span className={`chip job-state job-${stateOf(r)}`}>{stateOf(r)}</span>
          {/* A retry is the same job again: say which attempt this is. */}
          {Number(r.data.attempt ?? 1) > 1 && <span className="chip job-attempt">attempt {String(r.data.attempt)}</span>}
        </>
      ),
    },
    { key: 'progress', label: 'Progress', width: 'minmax(10rem,1.5fr)', render: (r) => <ProgressBar row={r} /> },
    {
      key: 'stage',
      label: 'Stage · message',
      width: 'minmax(14rem,3fr)',
      render: (r) => <StageCell row={r} />,
    },
    // The worker's own buttons for the job as its last event left it (Retry on a failure, Cancel while it runs).
    { key: 'act', label: '', width: 'minmax(9rem,1.3fr)', render: (r) => <RowEventActions row={r} compact what="jobs" /> },
    { key: 'elapsed', label: 'Elapsed', width: '6.5rem', className: 'num', render: (r) => <span data-testid="job-elapsed">{ago(jobElapsedMs(r, now))}</span> },
  ];

  return (
    <section className="jobs" data-testid="jobs">
      <div className="job-counts" data-testid="job-counts">
        {(['running', 'queued', 'failed', 'cancelled', 'completed'] as const).map((s) => (
          <span key={s} className={`chip job-state job-${s}`}>
            {counts[s]} {s}
          </span>
        ))}
      </div>
      <SnapshotNotice field="jobs" noun="jobs" />
      <div className="pane">
        <VirtualTable rows={jobs} columns={cols} rowKey={(r) => r.key} rowHeight={44} label="Jobs" testId="job-list" empty="No jobs yet." rowClass={(r) => `job-row job-row-${stateOf(r)}`} />
      </div>
    </section>
  );
}

function ProgressBar({ row }: { row: ProjectionRow }) {
  const pct = Math.max(0, Math.min(100, Number(row.data.progress ?? 0)));
  const st = stateOf(row);
  return (
    <span className="job-progress">
      <span className={`bar job-bar-${st}`} role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(pct)} aria-label={`${String(row.data.title ?? row.data.job_id)} progress`}>
        <span className="fill" style={{ width: `${pct}%` }} />
      </span>
      <span className="num pct">{Math.round(pct)}%</span>
    </span>
  );
}

function StageCell({ row }: { row: ProjectionRow }) {
  const st = stateOf(row);
  const d = row.data;
  if (st === 'failed')
    return (
      <span className="job-failure" role="alert" title={String(d.error)}>
        <span className={`chip ${d.retryable ? 'job-retryable' : 'job-permanent'}`} data-testid="job-retryable">
          {d.retryable ? 'retryable' : 'not retryable'}
        </span>{' '}
        {d.stage !== undefined && <span className="muted">{String(d.stage)}: </span>}
        <span className="job-error">{String(d.error)}</span>
      </span>
    );
  if (st === 'cancelled') return <span className="muted">cancelled{d.reason ? `: ${String(d.reason)}` : ''}{d.cancelled_by ? ` (by ${String(d.cancelled_by)})` : ''}</span>;
  if (st === 'completed') return <span>{d.message ? String(d.message) : 'done'}</span>;
  if (st === 'queued') return <span className="muted">waiting for a worker…</span>;
  return (
    <span className="job-stage">
      <b>{String(d.stage ?? '')}</b>
      {d.message !== undefined && <span className="muted"> · {String(d.message)}</span>}
      {typeof d.eta_s === 'number' && <span className="muted"> · ~{ago(d.eta_s * 1000)} left</span>}
    </span>
  );
}
