import { test, expect } from '@playwright/test';
import { publish, type TestHub } from '../helpers/hub.ts';
import { consoleHubPerFile, login, SCREENSHOTS_DIR, screenshotsOnly } from './fixtures.ts';

/**
 * Screenshots of the Jobs and Schedule views in both themes, for docs/screenshots/. Opt-in, like
 * screenshots.spec.ts: RELAYDESK_SCREENSHOTS=1 npx playwright test test/e2e/screenshots-domains.spec.ts
 */
screenshotsOnly();
const OUT = SCREENSHOTS_DIR;
const ago = (min: number) => new Date(Date.now() - min * 60_000).toISOString();

let hub: TestHub;
consoleHubPerFile((h) => (hub = h));

function jobs(): unknown[] {
  const u = { user_id: 'u1' };
  const q = (id: string, title: string, min: number, attempt = 1) => ({ type: 'job.queued', time: ago(min), data: { job_id: id, title, kind: 'script.generate', attempt }, ...u });
  const p = (id: string, progress: number, stage: string, message?: string) => ({ type: 'job.progress', data: { job_id: id, progress, stage, ...(message ? { message } : {}), eta_s: Math.round((100 - progress) * 1.4) }, ...u });
  return [
    q('gen-301', 'Episode 12 cold open', 14),
    p('gen-301', 100, 'review'),
    { type: 'job.completed', data: { job_id: 'gen-301', message: '1,840 words, 6 scenes', result: { script_url: '/scripts/gen-301.md' } }, ...u },
    q('gen-302', 'Quarterly town-hall talking points', 9),
    p('gen-302', 47, 'drafting', 'scene 3 of 6'),
    { type: 'job.failed', data: { job_id: 'gen-302', error: 'model rate limit reached (429); try again in a minute', retryable: true, stage: 'drafting' }, ...u },
    q('gen-303', 'Customer story: Busan bakery', 6),
    p('gen-303', 72, 'polishing', 'tightening the dialogue'),
    q('gen-304', 'Safety briefing for the night shift', 4),
    p('gen-304', 18, 'outline', 'outlining 5 sections'),
    q('gen-305', 'Teaser for the winter menu', 3),
    { type: 'job.failed', data: { job_id: 'gen-305', error: 'prompt refused by the content policy', retryable: false, stage: 'outline' }, ...u },
    q('gen-306', 'Product launch explainer', 2),
    { type: 'job.cancelled', data: { job_id: 'gen-306', reason: 'cancelled by the requester', cancelled_by: 'writer' }, ...u },
    q('gen-302', 'Quarterly town-hall talking points', 1, 2),
    p('gen-302', 9, 'outline'),
    q('gen-307', 'Podcast intro, season 3', 0),
    q('gen-308', 'Onboarding video: first week', 5),
    p('gen-308', 64, 'dialogue'),
    // The worker's own buttons on its latest failure: the row shows them until the job changes again.
    {
      type: 'job.failed',
      data: { job_id: 'gen-308', error: 'generation timed out after 120 s', retryable: true },
      actions: [
        { id: 'job.retry', label: 'Retry', style: 'primary', params: { job_id: 'gen-308' } },
        { id: 'job.discard', label: 'Discard', style: 'danger', confirm: 'Discard the draft of “Onboarding video: first week”?' },
      ],
      ...u,
    },
  ];
}

test('screenshots of the Jobs view, light and dark', async ({ page }) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1440, height: 900 });
  const r = await publish(hub.url, jobs());
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  await login(page, hub, 'admin', {}, 'jobs');
  await expect(page.getByTestId('job-list').locator('.vbody [role="row"]')).toHaveCount(8);
  await expect(page.getByTestId('job-list').getByRole('button', { name: 'Retry' })).toBeEnabled();
  for (const theme of ['dark', 'light'] as const) {
    if ((await page.locator('html').getAttribute('data-theme')) !== theme) await page.getByTestId('theme-toggle').click();
    await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
    await page.screenshot({ path: `${OUT}jobs-${theme}.png` });
  }
});

function schedule(): unknown[] {
  const shift = (date: string, label: 'Day' | 'Evening' | 'Night') => ({ date, label, ...{ Day: { start: '07:00', end: '15:00' }, Evening: { start: '15:00', end: '23:00' }, Night: { start: '23:00', end: '07:00' } }[label] });
  const swap = (id: string, ward: [string, string], requester: string, counterpart: string, sh: unknown, offered: unknown, reason: string | undefined, min: number) => ({
    type: 'schedule.swap.requested',
    time: ago(min),
    data: { swap_id: id, ward_id: ward[0], ward_name: ward[1], requester: { user_id: `u-${requester}`, name: requester }, counterpart: { user_id: `u-${counterpart}`, name: counterpart }, shift: sh, ...(offered ? { offered_shift: offered } : {}), ...(reason ? { reason } : {}) },
  });
  const icu: [string, string] = ['icu', 'ICU'];
  const er: [string, string] = ['er', 'Emergency'];
  const w5: [string, string] = ['w5', 'Ward 5 (surgery)'];
  const H = { tenant_id: 'st-marys' };
  return ([
    ...[icu, er, w5].map(([id, name], i) => ({ type: 'schedule.published', time: ago(120 - i), data: { schedule_id: `${id}-2026-12-07`, ward_id: id, ward_name: name, period_start: '2026-12-07', period_end: '2026-12-20', version: 1, shift_count: 42 } })),
    { type: 'schedule.updated', time: ago(35), data: { schedule_id: 'er-2026-12-07', ward_id: 'er', ward_name: 'Emergency', version: 3, changes: 'Jung Yuna on leave Thursday; covered by Han Doyun' } },
    swap('swap-1', icu, 'Kim Minji', 'Lee Jiho', shift('2026-12-12', 'Night'), shift('2026-12-14', 'Day'), 'family event', 12),
    swap('swap-2', er, 'Choi Hyunwoo', 'Park Seoyeon', shift('2026-12-10', 'Evening'), undefined, 'exam the next morning', 8),
    swap('swap-3', w5, 'Jung Yuna', 'Han Doyun', shift('2026-12-09', 'Day'), shift('2026-12-11', 'Day'), undefined, 30),
    { type: 'schedule.swap.approved', time: ago(20), data: { swap_id: 'swap-3', approved_by: 'ward manager Oh' } },
    swap('swap-4', icu, 'Lee Jiho', 'Kim Minji', shift('2026-12-15', 'Night'), undefined, 'medical appointment', 45),
    { type: 'schedule.swap.rejected', time: ago(40), data: { swap_id: 'swap-4', reason: 'only two RNs that night', rejected_by: 'ward manager Oh' } },
    { type: 'schedule.emergency.called', time: ago(3), data: { call_id: 'call-7', ward_id: 'er', ward_name: 'Emergency', message: 'Patient surge after a highway pile-up', needed: 3, role: 'RN' } },
    { type: 'schedule.emergency.accepted', time: ago(2), data: { call_id: 'call-7', accepted_by: 'Park Seoyeon', remaining: 2 } },
    { type: 'schedule.emergency.called', time: ago(50), data: { call_id: 'call-6', ward_id: 'icu', ward_name: 'ICU', message: 'Charge nurse needed for the night', needed: 1, role: 'charge RN' } },
    { type: 'schedule.emergency.accepted', time: ago(44), data: { call_id: 'call-6', accepted_by: 'Han Doyun', remaining: 0 } },
    { type: 'schedule.shift.reminder', time: ago(1), user_id: 'n101', data: { shift_id: 'sh-77', ward_id: 'icu', ward_name: 'ICU', starts_at: new Date(Date.now() + 3_600_000).toISOString(), label: 'Night' } },
  ] as Record<string, unknown>[]).map((e) => ({ ...e, ...H }));
}

test('screenshots of the Schedule view, light and dark', async ({ page }) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1440, height: 900 });
  const r = await publish(hub.url, schedule());
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  await login(page, hub, 'operator', { tenant_id: 'st-marys' }, 'schedule');
  await expect(page.getByTestId('swap-list').locator('.vbody [role="row"]')).toHaveCount(4);
  for (const theme of ['dark', 'light'] as const) {
    if ((await page.locator('html').getAttribute('data-theme')) !== theme) await page.getByTestId('theme-toggle').click();
    await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
    await page.screenshot({ path: `${OUT}schedule-${theme}.png` });
  }
});
