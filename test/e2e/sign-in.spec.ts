import { test, expect } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { api, type TestHub } from '../helpers/hub.ts';
import { startConsoleHub } from './fixtures.ts';

/**
 * The sign-in screen a console shows without a session: paste a `relaydesk login-url` link. In a
 * browser the page opens the link; the hub answers with its HttpOnly cookie. (The desktop window
 * hands the link to its main process instead: test/unit/shell/main-process.test.ts.)
 */
let hub: TestHub;
test.beforeAll(async () => {
  hub = await startConsoleHub();
});
test.afterAll(async () => {
  await hub?.stop();
});

test('a pasted login link signs the browser in; a wrong one is refused with the reason', async ({ page }) => {
  await page.goto(`${hub.url}/`);
  const form = page.getByTestId('sign-in');
  await expect(page.getByRole('heading', { name: 'Sign in to RelayDesk' })).toBeVisible();
  // Never signed in here: the hub's hint about Authorization headers is for API clients, not shown.
  await expect(page.getByText('missing credentials')).toHaveCount(0);
  const field = form.getByLabel('Login link');
  await field.fill(`${hub.url}/v1/stream?access_token=x`);
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(form.getByRole('alert')).toHaveText(/the login link has path \/v1\/stream/);
  if (process.env.RELAYDESK_SCREENSHOTS)
    await page.screenshot({ path: fileURLToPath(new URL('../../docs/screenshots/sign-in-light.png', import.meta.url)) });

  const created = await api(hub.url, '/v1/tokens', { body: { role: 'operator', scope: { store_ids: ['12'] }, label: 'e2e sign-in' } });
  const link = (await api(hub.url, `/v1/tokens/${created.body.id}/login-url`, { method: 'POST' })).body.url as string;
  await field.fill(link);
  await form.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('connection').and(page.locator('[data-state="live"]')).waitFor();
  // The code left the address bar with the redirect; the cookie is out of the page's reach.
  expect(new URL(page.url()).search).toBe('');
  expect(await page.evaluate(() => document.cookie)).toBe('');
  await expect(page.locator('.identity')).toContainText('operator');

  // A session that ended (its token revoked) brings the screen back, saying why.
  expect((await api(hub.url, `/v1/tokens/${created.body.id}`, { method: 'DELETE' })).status).toBe(200);
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Sign in to RelayDesk' })).toBeVisible();
  await expect(page.getByText('console session expired or revoked')).toBeVisible();
});
