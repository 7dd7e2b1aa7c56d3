import { test, expect, type Page } from '@playwright/test';
import { api, publish, until, type TestHub } from '../helpers/hub.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { login, consoleHubPerTest } from './fixtures.ts';
import type { ActionList } from '../../shared/domains/action.ts';

// Buttons a publisher attached to the event that last changed a row, on the state cards: the jobs
// view's rows and the orders board's cards. Everything goes through real HTTP: the publisher, the
// hub, the console in Chromium, the action request to a webhook receiver or GET /v1/actions.

let hub: TestHub;
let rx: WebhookReceiver | undefined;
consoleHubPerTest(
  (h) => (hub = h),
  async () => {
    await rx?.close();
    rx = undefined;
  },
);

// Two windows and a webhook round trip on a machine shared with other work: more than the default minute.
test.describe.configure({ timeout: 150_000 });

const view = (page: Page, id: string) => page.getByTestId(`view-${id}`);
const ROWS = '.vbody [role="row"]';

async function pub(events: unknown): Promise<number[]> {
  const r = await publish(hub.url, events);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return (r.body.results as { seq: number }[]).map((x) => x.seq);
}

interface Delivered {
  type: string;
  user_id: string | null;
  data: { action_id: string; name: string; target: { type: string; id: string; seq: number }; params: Record<string, unknown> };
}

test('jobs: a failure\'s Retry is on the job\'s row; the click reaches the worker\'s webhook, the row says how far it got, and the next run takes the button away', async ({ page, browser }) => {
  const u = { user_id: 'u1' };
  // The script generator's worker: its webhook endpoint receives the action requests of its user.
  rx = new WebhookReceiver('whsec_' + Buffer.alloc(32, 1).toString('base64'));
  await rx.listen();
  const ep = await api(hub.url, '/v1/webhooks', { body: { url: rx.url, types: ['action.requested'], scope: { user_id: 'u1' }, description: 'script worker' } });
  expect(ep.status, JSON.stringify(ep.body)).toBe(201);
  rx.setSecret(ep.body.secret as string);

  await pub([
    { type: 'job.queued', data: { job_id: 'gen-7', title: 'Launch explainer' }, ...u },
    { type: 'job.progress', data: { job_id: 'gen-7', progress: 60, stage: 'dialogue' }, ...u },
    { type: 'job.queued', data: { job_id: 'gen-8', title: 'Podcast intro' }, ...u },
  ]);
  await login(page, hub, 'operator', u, 'jobs');
  const jobs = view(page, 'jobs');
  const row = (title: string) => jobs.getByTestId('job-list').locator(ROWS).filter({ hasText: title });
  await expect(row('Launch explainer')).toContainText('dialogue');
  await expect(row('Launch explainer').getByTestId('event-action')).toHaveCount(0);

  // The job fails live, with the worker's buttons attached to the failure.
  const [failedSeq] = await pub({
    id: 'gen-7-failed-1',
    type: 'job.failed',
    data: { job_id: 'gen-7', error: 'model rate limit reached (429)', retryable: true },
    actions: [
      { id: 'job.retry', label: 'Retry', style: 'primary', params: { job_id: 'gen-7' } },
      { id: 'job.discard', label: 'Discard', style: 'danger', confirm: 'Discard the draft of Launch explainer?' },
    ],
    ...u,
  });
  const failed = row('Launch explainer');
  await expect(failed).toContainText('model rate limit reached (429)');
  await expect(failed.getByTestId('event-action')).toHaveText(['Retry', 'Discard']);
  // Only the job its event changed has them.
  await expect(row('Podcast intro').getByTestId('event-action')).toHaveCount(0);

  // Discard asks first; "Don't" sends nothing.
  await failed.getByRole('button', { name: 'Discard' }).click();
  const dialog = page.getByTestId('confirm-action');
  await expect(dialog).toContainText('Discard the draft of Launch explainer?');
  await expect(dialog).toContainText(`job.failed #${failedSeq}`);
  await dialog.getByTestId('confirm-no').click();
  await expect(dialog).toHaveCount(0);

  // Retry goes at once, to the worker's webhook, about the failure event.
  await failed.getByRole('button', { name: 'Retry' }).click();
  await expect(failed.getByTestId('event-action-state')).toContainText('Retry: ');
  const asked = (await until(() => rx!.applied.find((a) => a.type === 'action.requested'), 'the retry request at the webhook'))!.data as unknown as Delivered;
  expect(asked.data).toMatchObject({ name: 'job.retry', target: { type: 'job.failed', id: 'gen-7-failed-1', seq: failedSeq }, params: { job_id: 'gen-7' } });
  expect(asked.user_id).toBe('u1');
  expect(rx.applied.filter((a) => a.type === 'action.requested')).toHaveLength(1);
  // The worker accepts: the row says so next to the buttons, which wait meanwhile.
  await pub({ type: 'action.accepted', data: { action_id: asked.data.action_id, message: 'queued again' }, ...u });
  await expect(failed.getByTestId('event-action-state')).toContainText('Retry: accepted by the backend');
  await expect(failed.getByRole('button', { name: 'Retry' })).toBeDisabled();

  // A viewer of the same jobs sees the buttons, disabled, and why.
  const viewer = await browser.newPage();
  try {
    await login(viewer, hub, 'subscriber', u, 'jobs');
    const vRow = view(viewer, 'jobs').getByTestId('job-list').locator(ROWS).filter({ hasText: 'Launch explainer' });
    const btn = vRow.getByRole('button', { name: 'Retry' });
    await expect(btn).toBeDisabled();
    await expect(btn).toHaveAttribute('title', /subscriber token can watch jobs but not act on them; sign in with an operator token/);
  } finally {
    await viewer.close();
  }

  // The worker runs the job again: the failure's buttons belonged to the failure, and go.
  await pub([
    { type: 'job.queued', data: { job_id: 'gen-7', title: 'Launch explainer', attempt: 2 }, ...u },
    { type: 'action.completed', data: { action_id: asked.data.action_id }, ...u },
  ]);
  await expect(failed).toContainText('attempt 2');
  await expect(failed.getByTestId('event-action')).toHaveCount(0);
  // The hub's state says the same as the window.
  const state = await api(hub.url, '/v1/state/jobs');
  const gen7 = (state.body.jobs as { data: { job_id: string }; actions?: unknown }[]).find((r) => r.data.job_id === 'gen-7')!;
  expect(gen7).not.toHaveProperty('actions');
});

test('orders board: the store backend\'s button on a card, confirmed, asked, refused with a reason; the next status change clears it', async ({ page }) => {
  const [createdSeq] = await pub({
    id: 'pos-1001',
    type: 'store.order.created',
    store_id: 12,
    data: { order_id: 1001, table_id: 'T4', items: [{ name: 'Ramen', quantity: 2, price: 9.5 }], total: 19 },
    actions: [{ id: 'order.refund', label: 'Refund', style: 'danger', confirm: 'Refund 19.00 to the card?', params: { amount: 19 } }],
  });
  await pub({ type: 'store.order.created', store_id: 12, data: { order_id: 1002, table_id: 'T5', items: [{ name: 'Gyoza', quantity: 1, price: 6 }], total: 6 } });
  await login(page, hub, 'operator', { store_ids: ['12'] });
  const board = view(page, 'orders');
  const card = board.getByTestId('column-pending').locator('[data-order="1001"]');
  await expect(card.getByTestId('event-action')).toHaveText(['Refund']);
  await expect(board.locator('[data-order="1002"]').getByTestId('event-action')).toHaveCount(0);
  // The board's own buttons are still there, beside the backend's.
  await expect(card.getByTestId('bump')).toBeVisible();

  await card.getByRole('button', { name: 'Refund' }).click();
  const dialog = page.getByTestId('confirm-action');
  await expect(dialog).toContainText('Refund 19.00 to the card?');
  await dialog.getByTestId('confirm-yes').click();
  await expect(card.getByTestId('event-action-state')).toContainText('Refund: ');

  const list = (await until(async () => {
    const r = await api<ActionList>(hub.url, '/v1/actions?name=order.refund');
    return r.body.actions.length ? r.body : null;
  }, 'the refund request'))!;
  expect(list.actions).toHaveLength(1);
  const refund = list.actions[0]!;
  expect(refund).toMatchObject({ name: 'order.refund', target: { type: 'store.order.created', id: 'pos-1001', seq: createdSeq }, params: { amount: 19 }, store_id: '12', requested_by_label: 'e2e operator' });

  // The store backend refuses; the card says why.
  await pub({ type: 'action.rejected', store_id: 12, data: { action_id: refund.action_id, reason: 'the payment has not settled yet' } });
  await expect(card.getByTestId('event-action-state')).toContainText('Refund: refused (the payment has not settled yet)');
  await page.screenshot({ path: test.info().outputPath('orders-card-actions.png') });

  // The kitchen accepts the order: the card moves, and the refund offer was about the old state.
  await pub({ type: 'store.order.updated', store_id: 12, data: { order_id: 1001, status: 'accepted' } });
  const moved = board.getByTestId('column-accepted').locator('[data-order="1001"]');
  await expect(moved).toBeVisible();
  await expect(moved.getByTestId('event-action')).toHaveCount(0);
});
