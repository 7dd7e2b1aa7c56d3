import { test, expect } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { publish, type TestHub } from '../helpers/hub.ts';
import { login, startConsoleHub } from './fixtures.ts';

/**
 * Screenshots of the Jobs and Schedule views in both themes, for docs/screenshots/. Opt-in, like
 * screenshots.spec.ts: RELAYDESK_SCREENSHOTS=1 npx playwright test test/e2e/screenshots-domains.spec.ts
 */
test.skip(!process.env.RELAYDESK_SCREENSHOTS, 'set RELAYDESK_SCREENSHOTS=1 to regenerate docs/screenshots');
const OUT = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const ago = (min: number) => new Date(Date.now() - min * 60_000).toISOString();

let hub: TestHub;
test.beforeAll(async () => {
  hub = await startConsoleHub();
});
test.afterAll(async () => {
  await hub?.stop();
});

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
    { type: 'job.failed', data: { job_id: 'gen-308', error: 'generation timed out after 120 s', retryable: true }, ...u },
  ];
}

test('screenshots of the Jobs view, light and dark', async ({ page }) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1440, height: 900 });
  const r = await publish(hub.url, jobs());
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  await login(page, hub, 'admin', {}, 'jobs');
  await expect(page.getByTestId('job-list').locator('.vbody [role="row"]')).toHaveCount(8);
  for (const theme of ['dark', 'light'] as const) {
    if ((await page.locator('html').getAttribute('data-theme')) !== theme) await page.getByTestId('theme-toggle').click();
    await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
    await page.screenshot({ path: `${OUT}jobs-${theme}.png` });
  }
});
