import type { Runtime } from './runtime.ts';
import { jobTopic } from '../../shared/domains/job.ts';

/**
 * An AI script generator's worker: jobs are queued, go through their stages with progress reports,
 * and end completed, failed (a rate limit or a timeout can be retried, a refused prompt cannot) or
 * cancelled by the person who asked. A retryable failure is queued again a little later as the next
 * attempt under the same job id, as the generator's retry does.
 */
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

export function startJobs(rt: Runtime, userId = DEMO_JOBS_USER): void {
  let n = 300 + rt.int(0, 500);
  let running = 0;

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
        rt.safely(() =>
          rt.client.publish('job.failed', { job_id: jobId, error: rt.pick(retryable ? RETRYABLE_ERRORS : PERMANENT_ERRORS), retryable, stage: STAGES[stage] }, { ...keys, priority: 'high' }),
        );
        end();
        if (retryable && attempt < MAX_ATTEMPTS) rt.after(rt.between(6_000, 12_000), () => run(jobId, title, attempt + 1));
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
}
