import { test, expect, type Page } from '@playwright/test';
import { publish, type TestHub } from '../helpers/hub.ts';
import { login, consoleHubPerTest } from './fixtures.ts';

let hub: TestHub;
consoleHubPerTest((h) => (hub = h));

async function pub(events: unknown) {
  const r = await publish(hub.url, events);
  expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
}

const view = (page: Page, id: string) => page.getByTestId(`view-${id}`);
const ROWS = '.vbody [role="row"]';

test('Jobs view: progress bars, stage and elapsed, live; failures say whether they are retryable', async ({ page }) => {
  const u = { user_id: 'u1' };
  const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
  // Jobs already under way when the console opens come from the snapshot.
  await pub([
    { type: 'job.queued', data: { job_id: 'gen-1', title: 'Episode 12 cold open', kind: 'script.generate' }, time: minutesAgo(3), ...u },
    { type: 'job.progress', data: { job_id: 'gen-1', progress: 35, stage: 'drafting', message: 'scene 2 of 6' }, ...u },
    { type: 'job.queued', data: { job_id: 'gen-2', title: 'Launch explainer' }, time: minutesAgo(2), ...u },
    { type: 'job.progress', data: { job_id: 'gen-2', progress: 60, stage: 'dialogue' }, ...u },
    { type: 'job.failed', data: { job_id: 'gen-2', error: 'model rate limit reached (429)', retryable: true }, ...u },
    { type: 'job.failed', data: { job_id: 'gen-3', error: 'prompt refused by the content policy', retryable: false }, ...u },
  ]);
  await login(page, hub, 'operator', { user_id: 'u1' }, 'jobs');
  const jobs = view(page, 'jobs');
  const row = (title: string) => jobs.getByTestId('job-list').locator(ROWS).filter({ hasText: title });

  await expect(row('Episode 12')).toContainText('running');
  await expect(row('Episode 12')).toContainText('drafting');
  await expect(row('Episode 12')).toContainText('scene 2 of 6');
  await expect(row('Episode 12').getByRole('progressbar')).toHaveAttribute('aria-valuenow', '35');
  // Elapsed counts from the job's queued time: three minutes and going.
  await expect(row('Episode 12').getByTestId('job-elapsed')).toContainText(/^3m/);

  await expect(row('Launch explainer')).toContainText('failed');
  await expect(row('Launch explainer').getByTestId('job-retryable')).toHaveText('retryable');
  await expect(row('Launch explainer')).toContainText('model rate limit reached (429)');
  // The bar keeps how far the job got before it failed.
  await expect(row('Launch explainer').getByRole('progressbar')).toHaveAttribute('aria-valuenow', '60');
  await expect(row('gen-3').getByTestId('job-retryable')).toHaveText('not retryable');
  await expect(jobs.getByTestId('job-counts')).toContainText('1 running');
  await expect(jobs.getByTestId('job-counts')).toContainText('2 failed');

  // Live: the bar moves, then the job completes; a new job appears queued.
  await pub({ type: 'job.progress', data: { job_id: 'gen-1', progress: 80, stage: 'polishing' }, ...u });
  await expect(row('Episode 12').getByRole('progressbar')).toHaveAttribute('aria-valuenow', '80');
  await expect(row('Episode 12')).toContainText('polishing');
  await pub([
    { type: 'job.completed', data: { job_id: 'gen-1', message: '1,840 words, 6 scenes' }, ...u },
    { type: 'job.queued', data: { job_id: 'gen-4', title: 'Podcast intro' }, ...u },
  ]);
  await expect(row('Episode 12')).toContainText('completed');
  await expect(row('Episode 12')).toContainText('1,840 words, 6 scenes');
  await expect(row('Episode 12').getByRole('progressbar')).toHaveAttribute('aria-valuenow', '100');
  await expect(row('Podcast intro')).toContainText('waiting for a worker');
  // A finished job's elapsed time stops at its outcome.
  const frozen = await row('Episode 12').getByTestId('job-elapsed').textContent();
  await page.waitForTimeout(2_100);
  await expect(row('Episode 12').getByTestId('job-elapsed')).toHaveText(frozen!);

  // A failed job raised an alert (job.failed is high priority unless its publisher says otherwise).
  await page.getByTestId('tab-alerts').click();
  await expect(view(page, 'alerts')).toContainText('model rate limit reached (429)');
});

test('Schedule view: approve and reject swaps and accept an emergency call, answered by the demo scheduler', async ({ page }) => {
  const { startDemo } = await import('../../electron/demo/index.ts');
  const { ADMIN } = await import('../helpers/hub.ts');
  // A slow demo: the scheduler backend answers actions; its own traffic stays out of the way.
  const demo = await startDemo({ url: hub.url, adminToken: ADMIN, rate: 0.01, seed: 5, domains: ['schedule'] });
  try {
    const shift = { date: '2026-12-24', start: '23:00', end: '07:00', label: 'Night' };
    const H = { tenant_id: 'st-marys', topics: ['wards/icu'] };
    const swap = (id: string, who: string) => ({ ...H, type: 'schedule.swap.requested', data: { swap_id: id, ward_id: 'icu', ward_name: 'ICU', requester: { user_id: id, name: who }, counterpart: { user_id: 'n9', name: 'Lee Jiho' }, shift, reason: 'family event' } });
    await pub([
      swap('sw-1', 'Kim Minji'),
      swap('sw-2', 'Park Seoyeon'),
      { ...H, type: 'schedule.emergency.called', data: { call_id: 'call-1', ward_id: 'er', ward_name: 'Emergency', message: 'Mass-casualty alert: all hands', needed: 1, role: 'RN' } },
    ]);
    // A ward manager of this hospital only.
    await login(page, hub, 'operator', { tenant_id: 'st-marys' }, 'schedule');
    const sched = view(page, 'schedule');
    const row = (who: string) => sched.getByTestId('swap-list').locator(ROWS).filter({ hasText: who });
    await expect(row('Kim Minji')).toContainText('requested');
    await expect(row('Kim Minji')).toContainText('Night 2026-12-24 23:00–07:00');

    await row('Kim Minji').getByTestId('swap-approve').click();
    await expect(row('Kim Minji')).toContainText('approved');
    await expect(row('Kim Minji').getByTestId('swap-approve')).toHaveCount(0);

    // Rejecting asks why first; nothing is sent without a reason.
    await row('Park Seoyeon').getByTestId('swap-reject').click();
    const form = sched.getByTestId('reject-form');
    await expect(form.getByRole('button', { name: 'Reject swap' })).toBeDisabled();
    await form.getByLabel('Reason for rejecting').fill('no cover that night');
    await form.getByRole('button', { name: 'Reject swap' }).click();
    await expect(row('Park Seoyeon')).toContainText('rejected');
    await expect(row('Park Seoyeon')).toContainText('no cover that night');

    // The emergency call is urgent: an open card with an Accept button, and an urgent unread alert.
    const card = sched.getByTestId('emergency-call').filter({ hasText: 'Mass-casualty' });
    await expect(card).toContainText('open');
    await expect(page.getByTestId('unread-count')).toHaveClass(/urgent/);
    await card.getByTestId('emergency-accept').click();
    await expect(card).toContainText('filled');
    await expect(card).toContainText('last accepted by e2e operator');
    await expect(card.getByTestId('emergency-accept')).toHaveCount(0);

    // One ward's desk: the ICU's swaps, not the Emergency ward's call.
    await sched.getByTestId('ward-filter').selectOption('icu');
    await expect(sched.getByTestId('emergency-call')).toHaveCount(0);
    await expect(sched.getByTestId('swap-list').locator(ROWS)).toHaveCount(2);
    await sched.getByTestId('ward-filter').selectOption('er');
    await expect(sched.getByTestId('emergency-call')).toHaveCount(1);
    await expect(sched.getByTestId('swap-list').locator(ROWS)).toHaveCount(0);
  } finally {
    await demo.stop();
  }
});
