import type { Runtime } from './runtime.ts';
import type { HubEvent } from '../../shared/events.ts';
import { actionRequested, type EventAction } from '../../shared/domains/action.ts';
import { jobTopic } from '../../shared/domains/job.ts';
import { outcomeId } from './receiver.ts';

/**
 * An AI script generator's worker: jobs are queued, go through their stages with progress reports,
 * and end completed, failed (a rate limit or a timeout can be retried, a refused prompt cannot) or
 * cancelled by the person who asked. A retryable failure is queued again a little later as the next
 * attempt under the same job id, as the generator's retry does.
 *
 * A retryable failure carries a button (an attached action, `job.retry`): "Retry now" while the
 * automatic retry waits, which runs it at once, and "Retry" after the last automatic attempt, which
 * runs one more. The worker answers it by webhook; the button leaves the job's row with the next
 * attempt's `job.queued`, which carries none.
 */
export const JOB_RETRY_ACTION = 'job.retry';
const TOPICS = [
  'Episode 12 cold open',
  'Product launch explainer',
  'Quarterly town-hall talking points',
  'Onboarding video: first week',
  'Podcast intro, season 3',
  'Customer story: Busan bakery',
  'Safety briefing for the night shift',
  'Teaser for the winter menu',
] as const;
const STAGES = ['outline', 'drafting', 'dialogue', 'polishing', 'review'] as const;
const RETRYABLE_ERRORS = ['model rate limit reached (429); try again in a minute', 'generation timed out after 120 s', 'upstream model unavailable (503)'];
const PERMANENT_ERRORS = ['prompt refused by the content policy', 'source document is empty'];
const MAX_ATTEMPTS = 3;

export const DEMO_JOBS_USER = '1';

export interface JobsBackend {
  /** Answers a `job.retry` request about one of this worker's failures; leaves any other request alone. */
  handleAction(event: HubEvent): void;
}

/** A failed job waiting for its retry (automatic or the operator's): taken once, by whichever comes first. */
interface Waiting {
  title: string;
  attempt: number;
  /** The id of the failure event the Retry button is on: a request about an older failure is stale. */
  failureId: string;
}

export function startJobs(rt: Runtime, userId = DEMO_JOBS_USER): JobsBackend {
  let n = 300 + rt.int(0, 500);
  let running = 0;
  let failures = 0;
  const waiting = new Map<string, Waiting>();
  const retry = (jobId: string, failureId: string): Waiting | undefined => {
    const w = waiting.get(jobId);
    if (!w || w.failureId !== failureId) return undefined;
    waiting.delete(jobId);
    run(jobId, w.title, w.attempt + 1);
    return w;
  };

  const run = (jobId: string, title: string, attempt: number) => {
    // The person it is for, and the job's own topic for a client that follows just this job.
    const keys = { user_id: userId, topics: [jobTopic(jobId)] };
    running++;
    rt.safely(() => rt.client.publish('job.queued', { job_id: jobId, title, kind: 'script.generate', attempt }, keys));
    let progress = 0;
    let stage = 0;
    const end = () => running--;
    const step = () => {
      // Roughly one attempt in five fails part-way, one in fifteen is cancelled by its requester.
      if (progress > 15 && rt.chance(0.05)) {
        const retryable = rt.chance(0.7);
        const auto = retryable && attempt < MAX_ATTEMPTS;
        // The failure's own id, so a Retry request names which failure it is about; the clock keeps it
        // apart from an earlier demo run's failures in the same log (a reused id with other content is a 409).
        const failureId = `${jobId}-failed-${attempt}-${Date.now().toString(36)}-${++failures}`;
        const actions: EventAction[] = retryable ? [{ id: JOB_RETRY_ACTION, label: auto ? 'Retry now' : 'Retry', style: 'primary', params: { job_id: jobId } }] : [];
        rt.safely(() =>
          rt.client.publish(
            'job.failed',
            { job_id: jobId, error: rt.pick(retryable ? RETRYABLE_ERRORS : PERMANENT_ERRORS), retryable, stage: STAGES[stage] },
            { ...keys, priority: 'high', id: failureId, ...(actions.length ? { actions } : {}) },
          ),
        );
        end();
        if (retryable) waiting.set(jobId, { title, attempt, failureId });
        if (auto) rt.after(rt.between(6_000, 12_000), () => retry(jobId, failureId));
        return;
      }
      if (progress > 10 && rt.chance(0.015)) {
        rt.safely(() => rt.client.publish('job.cancelled', { job_id: jobId, reason: 'cancelled by the requester', cancelled_by: 'writer' }, keys));
        return end();
      }
      progress = Math.min(100, progress + rt.int(3, 12));
      stage = Math.min(STAGES.length - 1, Math.floor((progress / 100) * STAGES.length));
      const name = STAGES[stage]!;
      if (progress >= 100) {
        rt.safely(() =>
          rt.client.publish('job.completed', { job_id: jobId, message: `${rt.int(800, 2400)} words, ${rt.int(4, 14)} scenes`, result: { script_url: `/scripts/${jobId}.md`, attempt } }, keys),
        );
        return end();
      }
      rt.safely(() =>
        rt.client.publish('job.progress', { job_id: jobId, progress, stage: name, message: `${name}: ${progress}%`, eta_s: Math.round((100 - progress) * 1.5) }, keys),
      );
      rt.after(rt.between(900, 2_500), step);
    };
    // The worker picks the job up after a short wait in the queue.
    rt.after(rt.between(1_500, 4_000), step);
  };

  const queue = () => {
    // A small worker pool: new work waits while three jobs are already running.
    if (running >= 3) return;
    run(`gen-${++n}`, rt.pick(TOPICS), 1);
  };
  rt.every(5_000, 12_000, queue, 600);

  return {
    handleAction(event) {
      // The endpoint's scope is the user's, which the trading bot and the mailbox share: only a
      // retry is the worker's to answer.
      if (event.user_id !== userId || event.strategy_id || event.store_id) return;
      const parsed = actionRequested.safeParse(event.data);
      if (!parsed.success || parsed.data.name !== JOB_RETRY_ACTION) return;
      const req = parsed.data;
      const outcome = (type: 'action.accepted' | 'action.rejected' | 'action.completed', data: Record<string, unknown>) =>
        rt.safely(() => rt.client.publish(type, { action_id: req.action_id, ...data }, { user_id: userId, priority: 'high', id: outcomeId(req.action_id, type.slice(7)) }));
      const jobId = String(req.params.job_id ?? '');
      const w = req.target.type === 'job.failed' ? retry(jobId, req.target.id) : undefined;
      // Already retried (automatically, or by another operator's click), or not a failure of ours.
      if (!w) return outcome('action.rejected', { reason: waiting.has(jobId) ? `${jobId} failed again since; retry its latest failure` : `${jobId} is not waiting for a retry (it already runs again, or is not this worker's)` });
      outcome('action.accepted', { message: `${jobId}: attempt ${w.attempt + 1} queued` });
      outcome('action.completed', { result: { job_id: jobId, attempt: w.attempt + 1 } });
    },
  };
}
