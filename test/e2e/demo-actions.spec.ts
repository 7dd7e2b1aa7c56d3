import { test, expect } from '@playwright/test';
import { ADMIN, api, until, type TestHub } from '../helpers/hub.ts';
import { login, consoleHubPerTest } from './fixtures.ts';
import { startDemo, DEMO_STORE_ID, type Demo } from '../../electron/demo/index.ts';
import type { ActionStatus } from '../../shared/domains/action.ts';

let hub: TestHub;
let demo: Demo | undefined;
consoleHubPerTest(
  (h) => (hub = h),
  async () => {
    await demo?.stop();
    demo = undefined;
  },
);

test('the demo store backend answers a bump from the console by verified webhook, and the board moves', async ({ page }) => {
  test.setTimeout(90_000);
  // The demo's own store with its own webhook receiver; slow (rate 0.05), so the simulated kitchen
  // takes 40 s or more to accept an order by itself: a move within the test is the operator's.
  demo = await startDemo({ url: hub.url, adminToken: ADMIN, rate: 0.05, seed: 11, domains: ['store'] });
  expect(demo.receiver, 'the demo store registered its webhook endpoint').toBeDefined();
  const endpointId = demo.receiver!.endpointId;

  // The receiver checks Standard Webhooks signatures: an unsigned request is refused.
  const forged = await fetch(demo.receiver!.url, { method: 'POST', headers: { 'content-type': 'application/json', 'webhook-id': 'msg_x', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,AAAA' }, body: '{"type":"action.requested","data":{}}' });
  expect(forged.status).toBe(401);

  await login(page, hub, 'operator', { store_ids: [DEMO_STORE_ID] });
  const board = page.getByTestId('view-orders');
  const pending = board.getByTestId('column-pending').getByTestId('order-card').first();
  await expect(pending).toBeVisible({ timeout: 30_000 });
  const orderId = (await pending.getAttribute('data-order'))!;

  await pending.getByTestId('bump').click();
  // The board moves when the demo backend publishes the order's new status.
  await expect(board.getByTestId('column-accepted').locator(`[data-order="${orderId}"]`)).toBeVisible({ timeout: 20_000 });
  await expect(board.getByTestId('column-pending').locator(`[data-order="${orderId}"]`)).toHaveCount(0);

  // The hub's record: requested by this operator, delivered by webhook to the demo's endpoint (a 2xx
  // after the receiver verified the signature), completed by the demo's own publisher token.
  const asked = (await api(hub.url, '/v1/events?type=action.requested')).body.events as { data: { action_id: string; target: { id: string }; params: { status: string } } }[];
  expect(asked).toHaveLength(1);
  expect(asked[0]!.data).toMatchObject({ target: { id: orderId }, params: { status: 'accepted' } });
  const status = (await until(async () => {
    const s = (await api<ActionStatus>(hub.url, `/v1/actions/${asked[0]!.data.action_id}`)).body;
    return s.state === 'completed' ? s : null;
  }, 'the action completed'))!;
  expect(status.delivered_to).toEqual([endpointId]);
  expect(status.outcomes.map((o) => o.type)).toEqual(['action.accepted', 'action.completed']);
  const hooks = (await api(hub.url, '/v1/webhooks')).body.webhooks as { id: string; delivered: number; dead: number; failed_attempts: number }[];
  expect(hooks.find((w) => w.id === endpointId)).toMatchObject({ dead: 0, failed_attempts: 0, delivered: 1 });
  const updated = (await api(hub.url, `/v1/events?type=store.order.updated`)).body.events as { data: { order_id: string; status: string } }[];
  expect(updated.filter((e) => e.data.order_id === orderId).map((e) => e.data.status)).toEqual(['accepted']);
});
