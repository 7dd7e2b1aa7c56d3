import { test, expect, type Page } from '@playwright/test';
import { api, publish, until, type TestHub } from '../helpers/hub.ts';
import { login, anotherWindow, consoleHubPerTest } from './fixtures.ts';

let hub: TestHub;
consoleHubPerTest((h) => (hub = h));

const view = (page: Page, id: string) => page.getByTestId(`view-${id}`);

const failedDeploy = {
  id: 'deploy-42-failed',
  type: 'x.deploy.failed',
  store_id: 7,
  priority: 'urgent',
  data: { service: 'web', version: 'v42', host: 'web-7' },
  actions: [
    { id: 'deploy.rollback', label: 'Roll back', style: 'danger', confirm: 'Roll web-7 back to v41?', params: { to: 'v41' } },
    { id: 'deploy.retry', label: 'Retry', style: 'primary' },
  ],
};

interface Requested {
  store_id: string;
  data: { action_id: string; name: string; target: { type: string; id: string; seq: number }; params: Record<string, unknown>; requested_by_label?: string };
}
const requested = async () => (await api(hub.url, '/v1/events?type=action.requested&order=asc')).body.events as Requested[];

test('attached actions: buttons on the live row and the notice, confirm first, state as the backend answers, viewers see why not', async ({ page, browser }) => {
  const r = await publish(hub.url, failedDeploy);
  expect(r.status).toBe(201);
  const seq = r.body.results[0].seq as number;
  await login(page, hub, 'operator', { store_ids: ['7'] }, 'live');

  // Live view: the row carries the buttons; Retry has no confirmation and goes at once.
  const row = view(page, 'live').locator('.vbody [role="row"]').filter({ hasText: 'x.deploy.failed' });
  await expect(row.getByTestId('event-action')).toHaveText(['Roll back', 'Retry']);
  await row.getByRole('button', { name: 'Retry' }).click();
  await expect(row.getByTestId('event-action-state')).toContainText('Retry: asked, waiting for the backend');
  const retry = (await until(async () => (await requested()).find((e) => e.data.name === 'deploy.retry'), 'the retry request'))!;
  expect(retry.data.target).toEqual({ type: 'x.deploy.failed', id: 'deploy-42-failed', seq });
  expect(retry.store_id).toBe('7');
  expect(retry.data.requested_by_label).toBe('e2e operator');
  // The test plays the deploy backend.
  await publish(hub.url, { type: 'action.completed', store_id: 7, data: { action_id: retry.data.action_id } });
  await expect(row.getByTestId('event-action-state')).toContainText('Retry: done');

  // Notification centre: the same buttons; Roll back asks first, and "Don't" sends nothing.
  await page.getByTestId('tab-alerts').click();
  const notice = view(page, 'alerts').locator(`[data-testid="notice"][data-seq="${seq}"]`);
  await notice.getByRole('button', { name: 'Roll back' }).click();
  const dialog = page.getByTestId('confirm-action');
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('Roll web-7 back to v41?');
  await dialog.getByTestId('confirm-no').click();
  await expect(dialog).toHaveCount(0);
  expect((await requested()).filter((e) => e.data.name === 'deploy.rollback')).toHaveLength(0);
  await notice.getByRole('button', { name: 'Roll back' }).click();
  await page.getByTestId('confirm-yes').click();
  const rollback = (await until(async () => (await requested()).find((e) => e.data.name === 'deploy.rollback'), 'the rollback request'))!;
  expect(rollback.data.params).toEqual({ to: 'v41' });
  await publish(hub.url, { type: 'action.rejected', store_id: 7, data: { action_id: rollback.data.action_id, reason: 'web-7 is locked for maintenance' } });
  await expect(notice.getByTestId('event-action-state')).toContainText('Roll back: refused (web-7 is locked for maintenance)');

  // A desktop notification's button opens the event with that action started: confirmation first.
  await page.evaluate((s) => (location.hash = `#/alerts/${s}/deploy.rollback`), seq);
  await expect(page.getByTestId('confirm-action')).toContainText('Roll web-7 back to v41?');
  await page.getByTestId('confirm-no').click();

  // A viewer sees the buttons disabled, and why.
  const viewer = await browser.newPage();
  try {
    await login(viewer, hub, 'subscriber', { store_ids: ['7'] }, 'alerts');
    const vNotice = view(viewer, 'alerts').locator(`[data-testid="notice"][data-seq="${seq}"]`);
    const btn = vNotice.getByRole('button', { name: 'Roll back' });
    await expect(btn).toBeDisabled();
    await expect(btn).toHaveAttribute('title', /subscriber token can watch events but not act on them/);
    await expect(vNotice).toContainText('sign in with an operator token');
  } finally {
    await viewer.close();
  }
  expect(await requested()).toHaveLength(2);
});

test('two windows of the same operator: a click in one shows its state in the other, as the backend answers', async ({ page, browser }) => {
  const r = await publish(hub.url, failedDeploy);
  const seq = r.body.results[0].seq as number;
  // The desk's window on the live view; the same operator's second window (a tablet) on the notifications.
  const id = await login(page, hub, 'operator', { store_ids: ['7'] }, 'live');
  const { context, page: tablet } = await anotherWindow(browser, hub, id, 'alerts');
  try {
    const row = view(page, 'live').locator('.vbody [role="row"]').filter({ hasText: 'x.deploy.failed' });
    const notice = view(tablet, 'alerts').locator(`[data-testid="notice"][data-seq="${seq}"]`);
    await expect(notice.getByTestId('event-action')).toHaveText(['Roll back', 'Retry']);
    await expect(notice.getByTestId('event-action-state')).toHaveCount(0);

    // Retry on the desk: the tablet shows it asked, under the button's label, and holds its buttons.
    await row.getByRole('button', { name: 'Retry' }).click();
    await expect(notice.getByTestId('event-action-state')).toHaveText('Retry: asked, waiting for the backend');
    await expect(notice.getByRole('button', { name: 'Roll back' })).toBeDisabled();
    const retry = (await until(async () => (await requested()).find((e) => e.data.name === 'deploy.retry'), 'the retry request'))!;
    // The deploy backend answers through the API: both windows follow.
    await publish(hub.url, { type: 'action.accepted', store_id: 7, data: { action_id: retry.data.action_id } });
    await expect(notice.getByTestId('event-action-state')).toHaveText('Retry: accepted by the backend');
    await publish(hub.url, { type: 'action.completed', store_id: 7, data: { action_id: retry.data.action_id } });
    await expect(notice.getByTestId('event-action-state')).toHaveText('Retry: done');
    await expect(row.getByTestId('event-action-state')).toHaveText('Retry: done');

    // The other way round: Roll back from the tablet (confirmed there); the desk sees the refusal and why.
    await notice.getByRole('button', { name: 'Roll back' }).click();
    await tablet.getByTestId('confirm-yes').click();
    await expect(row.getByTestId('event-action-state')).toHaveText('Roll back: asked, waiting for the backend');
    await expect(row.getByRole('button', { name: 'Retry' })).toBeDisabled();
    const rollback = (await until(async () => (await requested()).find((e) => e.data.name === 'deploy.rollback'), 'the rollback request'))!;
    await publish(hub.url, { type: 'action.rejected', store_id: 7, data: { action_id: rollback.data.action_id, reason: 'web-7 is locked for maintenance' } });
    await expect(row.getByTestId('event-action-state')).toHaveText('Roll back: refused (web-7 is locked for maintenance)');
    await expect(notice.getByTestId('event-action-state')).toHaveText('Roll back: refused (web-7 is locked for maintenance)');
    await expect(row.getByRole('button', { name: 'Retry' })).toBeEnabled();
    await page.screenshot({ path: test.info().outputPath('desk.png') });
    await tablet.screenshot({ path: test.info().outputPath('tablet.png') });
    expect(await requested()).toHaveLength(2);
  } finally {
    await context.close();
  }
});

test('action history: who asked what, on what, when, and how it ended; filtered', async ({ page }) => {
  const hubWithTimeouts = hub;
  const op = await api(hubWithTimeouts.url, '/v1/tokens', { body: { role: 'operator', scope: { store_ids: ['7'] }, label: 'night manager' } });
  const ask = (id: string, name: string, params: Record<string, unknown>, target = { type: 'store.order', id: `O-${id}` }) =>
    api(hub.url, '/v1/actions', { method: 'POST', token: op.body.token, body: { action_id: id, name, target, params, store_id: 7 } });
  await ask('h1', 'order.status', { status: 'accepted' });
  await ask('h2', 'order.status', { status: 'cancelled', reason: 'customer left' });
  await ask('h3', 'deploy.rollback', { to: 'v41' }, { type: 'x.deploy.failed', id: 'deploy-42-failed' });
  await ask('h4', 'order.status', { status: 'served' });
  await publish(hub.url, [
    { type: 'action.accepted', store_id: 7, data: { action_id: 'h1' } },
    { type: 'action.completed', store_id: 7, data: { action_id: 'h1' } },
    { type: 'action.rejected', store_id: 7, data: { action_id: 'h2', reason: 'the order is already being cooked' } },
    { type: 'action.failed', store_id: 7, data: { action_id: 'h3', error: 'web-7 unreachable' } },
  ]);

  await login(page, hub, 'operator', { store_ids: ['7'] }, 'actions');
  const history = view(page, 'actions');
  const rows = history.getByTestId('history-row');
  await expect(rows).toHaveCount(4);
  await expect(rows.first()).toHaveAttribute('data-action', 'h4');
  await expect(history.locator('[data-action="h2"]')).toContainText('night manager');
  await expect(history.locator('[data-action="h2"]')).toContainText('the order is already being cooked');
  await expect(history.locator('[data-action="h2"]').getByTestId('history-outcome')).toHaveText('rejected');
  await expect(history.locator('[data-action="h3"]')).toContainText('web-7 unreachable');
  await expect(history.locator('[data-action="h1"]').getByTestId('history-outcome')).toHaveText('completed');

  await history.getByTestId('history-state').selectOption('problems');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toHaveAttribute('data-action', 'h3');
  await expect(rows.nth(1)).toHaveAttribute('data-action', 'h2');
  await history.getByTestId('history-state').selectOption('');
  await history.getByTestId('history-name').fill('deploy.rollback');
  await expect(rows).toHaveCount(1);
  await history.getByTestId('history-name').fill('');
  await expect(rows).toHaveCount(4);

  // A new answer arrives on the stream: the history follows without a reload.
  await publish(hub.url, { type: 'action.completed', store_id: 7, data: { action_id: 'h4' } });
  await expect(history.locator('[data-action="h4"]').getByTestId('history-outcome')).toHaveText('completed');
  await page.screenshot({ path: test.info().outputPath('action-history.png') });
});
