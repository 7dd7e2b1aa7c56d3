import { z } from 'zod';
import { defineDomain, str, type Data, type DomainEvent, type RowRule } from './define.ts';

// Long-running work a backend runs for someone (a script generation, an export, a report): queued,
// then progress reports, then exactly one of completed, failed or cancelled. Each job is one row of
// state, keyed by its job_id under the event's scope keys, so a console that opens late (or comes
// back after the hub restarted) sees where every job stands without replaying its progress reports.
//
// Loose at every level: these schemas check the fields they name and keep every other one, because
// an event is stored and delivered as its publisher sent it (shared/events.ts#normalizeData).

const jobId = z.union([z.string().min(1).max(128), z.number().int()]).transform(String);
const text = (max: number) => z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

export const jobQueued = z.looseObject({
  job_id: jobId,
  /** What a person calls the job ("Script: episode 12 draft"). */
  title: text(200).optional(),
  /** The kind of work, for grouping ("script.generate", "export.csv"). */
  kind: text(100).optional(),
  /** Which attempt this is: a retried job is queued again under the same job_id with attempt 2, 3… */
  attempt: z.number().int().positive().optional(),
});

export const jobProgress = z.looseObject({
  job_id: jobId,
  progress: z.number({ message: 'must be a number from 0 to 100' }).finite().min(0, 'must be from 0 to 100').max(100, 'must be from 0 to 100'),
  /** The step the job is in ("outline", "drafting", "review"). */
  stage: text(100),
  message: z.string().max(2000).optional(),
  /** The backend's estimate of the seconds left, when it has one. */
  eta_s: z.number().finite().nonnegative().optional(),
});

export const jobCompleted = z.looseObject({
  job_id: jobId,
  /** What the job produced, or where to find it (kept as sent). */
  result: z.record(z.string(), z.unknown()).optional(),
  message: z.string().max(2000).optional(),
});

export const jobFailed = z.looseObject({
  job_id: jobId,
  error: text(2000),
  /**
   * Whether running the job again can succeed (a timeout, a rate limit) or not (bad input). Required:
   * a console that had to guess would offer a retry that cannot work, or hide one that would.
   */
  retryable: z.boolean({ message: 'must be true or false: can running the job again succeed?' }),
  /** The stage it failed in, when not the last one reported. */
  stage: text(100).optional(),
});

export const jobCancelled = z.looseObject({
  job_id: jobId,
  reason: z.string().max(2000).optional(),
  cancelled_by: z.string().max(200).optional(),
});

export const jobTypes = {
  'job.queued': jobQueued,
  'job.progress': jobProgress,
  'job.completed': jobCompleted,
  'job.failed': jobFailed,
  'job.cancelled': jobCancelled,
} as const;
export type JobType = keyof typeof jobTypes;

export const jobStates = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobState = (typeof jobStates)[number];
/** States after which nothing more happens to the job (until it is queued again). */
export const JOB_FINAL_STATES: readonly JobState[] = ['completed', 'failed', 'cancelled'];

/**
 * The change a job event makes to its row, keyed by job_id. `job.queued` starts the row over (a retry
 * is a fresh attempt); the others patch it, so a progress report or an outcome for a job whose queued
 * event was never seen still makes a row. Terminal events record `finished_at`, which with the row's
 * `created_at` gives the elapsed time of a finished job.
 */
const jobRule = (op: 'create' | 'patch', extra: (ev: DomainEvent) => Data): RowRule<'job'> => ({ op, kind: 'job', id: 'job_id', fields: (d, ev) => ({ ...d, ...extra(ev) }) });

/**
 * The topic of one job's events: a page or a client that follows one job subscribes to
 * `topic=jobs/<job_id>` and sees that job alone, resuming by Last-Event-ID like any stream.
 */
export const jobTopic = (jobId: string) => `jobs/${jobId}`;

const name = (d: Data) => `Job ${str(d.title ?? d.job_id)}`;

export const job = defineDomain({
  name: 'job',
  types: jobTypes,
  // Jobs need no scope key: a job published without one is for unscoped consoles (admins).
  requiredKeys: [],
  kinds: {
    job: { field: 'jobs', cap: 5_000, view: 'jobs', prunedWithLog: { field: 'state', in: JOB_FINAL_STATES } },
  },
  state: {
    'job.queued': jobRule('create', (ev) => ({ state: 'queued', progress: 0, queued_at: ev.time })),
    'job.progress': jobRule('patch', () => ({ state: 'running' })),
    'job.completed': jobRule('patch', (ev) => ({ state: 'completed', progress: 100, finished_at: ev.time })),
    'job.failed': jobRule('patch', (ev) => ({ state: 'failed', finished_at: ev.time })),
    'job.cancelled': jobRule('patch', (ev) => ({ state: 'cancelled', finished_at: ev.time })),
  },
  summary: {
    'job.queued': (d) => `${name(d)} queued${d.attempt && Number(d.attempt) > 1 ? ` (attempt ${str(d.attempt)})` : ''}`,
    'job.progress': (d) => `${name(d)} · ${str(d.stage)} ${Math.round(Number(d.progress))}%${d.message ? ` · ${str(d.message)}` : ''}`,
    'job.completed': (d) => `${name(d)} completed${d.message ? `: ${str(d.message)}` : ''}`,
    'job.failed': (d) => `${name(d)} failed${d.retryable ? ' (retryable)' : ''}: ${str(d.error)}`,
    'job.cancelled': (d) => `${name(d)} cancelled${d.reason ? `: ${str(d.reason)}` : ''}`,
  },
  // A failure interrupts (it is at the default alert threshold) unless its publisher says otherwise.
  defaultPriority: { 'job.failed': 'high' },
  colour: '32',
});
