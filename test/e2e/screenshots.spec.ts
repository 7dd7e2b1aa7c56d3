import { test, expect } from '@playwright/test';
import { api, publish, until, type TestHub } from '../helpers/hub.ts';
import { consoleHubPerFile, login, SCREENSHOTS_DIR, screenshotsOnly } from './fixtures.ts';

/**
 * Screenshots of every view in both themes, with realistic data, for docs/screenshots/. Opt-in so a
 * plain test run does not rewrite the PNGs:
 *   RELAYDESK_SCREENSHOTS=1 npx playwright test test/e2e/screenshots.spec.ts
 */
screenshotsOnly();
const OUT = SCREENSHOTS_DIR;
const ago = (min: number) => new Date(Date.now() - min * 60_000).toISOString();

let hub: TestHub;
consoleHubPerFile((h) => (hub = h));

function seed() {
  const acct = (id: number, name: string, exchange: string) => ({ account_id: id, name, exchange });
  const orders = [
    { id: '1041', table: '3', items: [{ name: 'Bibimbap', quantity: 2 }, { name: 'Kimchi jjigae', quantity: 1 }], total: 38.5, min: 24, status: 'preparing' },
    { id: '1042', table: '7', items: [{ name: 'Bulgogi', quantity: 1, options: ['no onion'] }], total: 19, min: 13, status: 'preparing' },
    { id: '1043', table: '12', items: [{ name: 'Tteokbokki', quantity: 1 }, { name: 'Cola', quantity: 2 }], total: 14, min: 6, status: 'accepted' },
    { id: '1044', table: '5', items: [{ name: 'Japchae', quantity: 1 }], total: 12, min: 3, status: 'ready' },
    { id: '1045', table: '9', items: [{ name: 'Naengmyeon', quantity: 2 }], total: 22, min: 1, status: 'served' },
    { id: '1046', table: '2', label: 'Table 2', items: [{ name: 'Galbi', quantity: 3 }, { name: 'Rice', quantity: 3 }], total: 54000, currency: 'KRW', min: 0, status: 'pending' },
  ];
  const events: unknown[] = orders.map((o: { id: string; table: string; label?: string; items: unknown[]; total: number; currency?: string; min: number; status: string }) => ({
    type: 'store.order.created',
    store_id: 12,
    time: ago(o.min),
    data: { order_id: o.id, order_number: o.id, table_id: o.table, ...(o.label ? { table_label: o.label } : {}), items: o.items, total: o.total, currency: o.currency ?? 'USD', status: o.status },
  }));
  const syms = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'XRP/USDT', 'BNB/USDT'];
  for (let i = 0; i < 24; i++)
    events.push({
      type: i % 5 === 4 ? 'trading.order.filled' : 'trading.order.created',
      user_id: 'u1',
      strategy_id: (i % 3) + 1,
      data: {
        order_id: `T${100 + i}`,
        symbol: syms[i % syms.length],
        side: i % 2 ? 'SELL' : 'BUY',
        order_type: i % 4 === 0 ? 'MARKET' : 'LIMIT',
        quantity: Number((0.05 * (i + 1)).toFixed(2)),
        price: 1000 + i * 37,
        status: i % 5 === 4 ? 'FILLED' : 'NEW',
        account: i % 2 ? acct(2, 'Hedge', 'BYBIT') : acct(1, 'Main', 'BINANCE'),
        suppress_toast: true,
      },
    });
  for (const [i, s] of ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'].entries())
    events.push({ type: 'trading.position.updated', user_id: 'u1', strategy_id: i + 1, data: { position_id: `P${i}`, symbol: s, quantity: 1.5 + i, previous_quantity: 1 + i * 1.5, entry_price: 3000 + i * 100, unrealized_pnl: 42.5 - i * 30, account: acct(1, 'Main', 'BINANCE') } });
  events.push({ type: 'trading.order.batch', user_id: 'u1', strategy_id: 1, data: { summaries: [{ order_type: 'LIMIT', created: 50, cancelled: 10 }] } });
  const mails = [
    ['orders@freshfish.example', 'Delivery delayed to 14:00', 'Our truck is stuck in traffic on the bridge', 'supplier', 'high', 'Fish delivery moved to 14:00'],
    ['payroll@example.com', 'March payslips', 'Payslips for March are ready to review', 'admin', 'normal', 'Payslips ready'],
    ['health.inspector@city.example', 'Inspection on Friday', 'Routine inspection scheduled for Friday 10am', 'compliance', 'urgent', 'Inspection Friday 10:00'],
    ['newsletter@pos.example', 'New POS features', 'Check out split bills and tips', null, null, null],
  ] as const;
  for (const [i, [from, subject, snippet, cat, prio, summary]] of mails.entries()) {
    events.push({ type: 'mail.email.new', user_id: 'u1', priority: prio === 'urgent' ? 'urgent' : 'normal', data: { email_id: `M${i}`, from, subject, snippet, folder: 'INBOX', account: 'kitchen@example.com' } });
    if (cat) events.push({ type: 'mail.email.classified', user_id: 'u1', priority: prio === 'high' ? 'high' : 'normal', data: { email_id: `M${i}`, category: cat, priority: prio, summary } });
  }
  events.push({ type: 'mail.sync.completed', user_id: 'u1', data: { account: 'kitchen@example.com', new_count: 4, duration_ms: 820 } });
  events.push({ type: 'mail.sync.error', user_id: 'u1', data: { account: 'office@example.com', error: 'IMAP: authentication failed', retry_in_s: 60 } });
  events.push({ type: 'store.order.updated', store_id: 12, priority: 'high', data: { order_id: '1041', status: 'preparing', note: 'Allergy: peanuts' } });
  // A publisher's own buttons on an event: the live view and the notification centre show them.
  events.push({
    id: 'deploy-42-failed',
    type: 'x.deploy.failed',
    store_id: 12,
    priority: 'urgent',
    data: { service: 'kiosk-api', version: 'v42', host: 'web-7', error: 'health check failed' },
    actions: [
      { id: 'deploy.rollback', label: 'Roll back', style: 'danger', confirm: 'Roll kiosk-api on web-7 back to v41?', params: { to: 'v41' } },
      { id: 'deploy.retry', label: 'Retry', style: 'primary' },
    ],
  });
  return events;
}

test('screenshots of every view, light and dark', async ({ page }) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1440, height: 900 });
  // Two webhook endpoints for the Stats view: a kitchen backend that answers, one that is down.
  const { WebhookReceiver } = await import('../helpers/webhook-receiver.ts');
  const rx = new WebhookReceiver('whsec_' + Buffer.alloc(32, 9).toString('base64'));
  await rx.listen();
  const ok = await api(hub.url, '/v1/webhooks', { body: { url: rx.url, types: ['store.*'], scope: { store_ids: ['12'] }, description: 'kitchen display' } });
  rx.setSecret(ok.body.secret as string);
  await api(hub.url, '/v1/webhooks', { body: { url: 'http://127.0.0.1:59999/relaydesk', types: ['trading.order.*'], description: 'risk service' } });
  await login(page, hub);
  // Most orders arrive first and lose their NEW highlight; the last one stays fresh, as on a real board.
  const events = seed();
  const r = await publish(hub.url, events.slice(0, 5));
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  await page.waitForTimeout(16_500);
  const r2 = await publish(hub.url, events.slice(5));
  expect(r2.status, JSON.stringify(r2.body)).toBe(201);
  await expect(page.getByTestId('order-card')).toHaveCount(6);
  for (const theme of ['dark', 'light'] as const) {
    if ((await page.locator('html').getAttribute('data-theme')) !== theme) await page.getByTestId('theme-toggle').click();
    await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
    for (const v of ['orders', 'trading', 'mail', 'live', 'stats', 'alerts']) {
      await page.getByTestId(`tab-${v}`).click();
      await expect(page.getByTestId(`view-${v}`)).toBeVisible();
      // The newest row is the failed deploy with its publisher's buttons: the inspector shows them too.
      if (v === 'live') await page.locator('[data-testid="live-table"] .vbody [role="row"]').first().locator('.summary-text').click();
      if (v === 'stats') await page.waitForTimeout(4_500); // a few samples for the sparklines
      // One notice read (the mark is the hub's, so the second theme shows it too): read and unread side by side.
      if (v === 'alerts' && theme === 'dark') {
        await page.getByTestId('notice').last().locator('.notice-body').click();
        await expect(page.locator('.notice.read')).toHaveCount(1);
      }
      await page.screenshot({ path: `${OUT}${v}-${theme}.png` });
    }
  }
  await rx.close();
});

test('screenshots of the action history and a confirmation, light and dark', async ({ page }) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1440, height: 900 });
  const op = await api(hub.url, '/v1/tokens', { body: { role: 'operator', scope: { store_ids: ['12'] }, label: 'floor manager' } });
  const oc = await api(hub.url, '/v1/tokens', { body: { role: 'operator', scope: {}, label: 'on-call (ops)' } });
  const ask = (token: string, id: string, name: string, target: Record<string, unknown>, params: Record<string, unknown>, keys: Record<string, unknown> = { store_id: 12 }) =>
    api(hub.url, '/v1/actions', { body: { action_id: id, name, target, params, ...keys }, token });
  await ask(op.body.token, 'shot-1', 'order.status', { type: 'store.order', id: '1043' }, { status: 'preparing' });
  await ask(op.body.token, 'shot-2', 'order.status', { type: 'store.order', id: '1041' }, { status: 'cancelled', reason: 'customer left' });
  await ask(oc.body.token, 'shot-3', 'deploy.rollback', { type: 'x.deploy.failed', id: 'deploy-42-failed' }, { to: 'v41' });
  await ask(oc.body.token, 'shot-4', 'trading.order.cancel', { type: 'trading.order', id: 'T104' }, {}, { user_id: 'u1', strategy_id: 2 });
  const last = await ask(op.body.token, 'shot-5', 'order.status', { type: 'store.order', id: '1044' }, { status: 'served' });
  expect(last.status, JSON.stringify(last.body)).toBe(202);
  await publish(hub.url, [
    { type: 'action.accepted', store_id: 12, data: { action_id: 'shot-1' } },
    { type: 'action.completed', store_id: 12, data: { action_id: 'shot-1' } },
    { type: 'action.rejected', store_id: 12, data: { action_id: 'shot-2', reason: 'order 1041 is preparing; the kitchen has started it' } },
    { type: 'action.accepted', store_id: 12, data: { action_id: 'shot-3', message: 'rolling back' } },
    { type: 'action.failed', user_id: 'u1', strategy_id: 2, data: { action_id: 'shot-4', error: 'exchange timeout' } },
  ]);
  await login(page, hub);
  for (const theme of ['dark', 'light'] as const) {
    if ((await page.locator('html').getAttribute('data-theme')) !== theme) await page.getByTestId('theme-toggle').click();
    await page.getByTestId('tab-actions').click();
    await expect(page.getByTestId('history-row')).toHaveCount(5);
    await page.screenshot({ path: `${OUT}actions-${theme}.png` });
  }
  // The confirmation a publisher's "Roll back" asks for, over the notification centre.
  await page.getByTestId('tab-alerts').click();
  await page.locator('[data-testid="notice"]').filter({ hasText: 'x.deploy.failed' }).getByRole('button', { name: 'Roll back' }).click();
  await expect(page.getByTestId('confirm-action')).toBeVisible();
  await page.screenshot({ path: `${OUT}confirm-action-light.png` });
  await page.getByTestId('confirm-no').click();
});

test('screenshot of order cards with their store backend\'s buttons', async ({ page }) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1440, height: 900 });
  const order = (id: string, table: string, items: unknown[], total: number, min: number, status: string, actions?: unknown[]) => ({
    type: 'store.order.created',
    store_id: 14,
    time: ago(min),
    data: { order_id: id, order_number: id, table_id: table, items, total, currency: 'USD', status },
    ...(actions ? { actions } : {}),
  });
  const r = await publish(hub.url, [
    order('2201', '4', [{ name: 'Bibimbap', quantity: 2 }], 26, 12, 'preparing'),
    order('2202', '8', [{ name: 'Bulgogi', quantity: 1 }, { name: 'Rice', quantity: 1 }], 21, 7, 'accepted'),
    // The POS attached its own buttons: a paid-online order can be refunded, the guest called back.
    order('2203', '11', [{ name: 'Japchae', quantity: 1 }, { name: 'Cola', quantity: 2 }], 18.5, 4, 'pending', [
      { id: 'order.refund', label: 'Refund', style: 'danger', confirm: 'Refund 18.50 to the card ending 4242?', params: { amount: 18.5 } },
      { id: 'order.call_guest', label: 'Call guest' },
    ]),
    order('2204', '2', [{ name: 'Tteokbokki', quantity: 1 }], 9, 2, 'ready', [{ id: 'order.notify_runner', label: 'Page runner', style: 'primary' }]),
  ]);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  await login(page, hub, 'operator', { store_ids: ['14'] });
  await expect(page.getByTestId('order-card')).toHaveCount(4);
  // One ask answered, so the card shows how it ended: the refund asks first, and the POS refuses it.
  await page.locator('[data-order="2203"]').getByRole('button', { name: 'Refund' }).click();
  await page.getByTestId('confirm-yes').click();
  const asked = await until(async () => (await api(hub.url, '/v1/actions?name=order.refund')).body.actions?.[0]?.action_id as string | undefined, 'the refund request');
  await publish(hub.url, { type: 'action.rejected', store_id: 14, data: { action_id: asked, reason: 'the card payment has not settled yet; try after 18:00' } });
  await expect(page.locator('[data-order="2203"]').getByTestId('event-action-state')).toContainText('refused');
  // The toasts of the ask and its refusal would cover the board's foot.
  const dismiss = page.getByTestId('toast').getByRole('button', { name: 'Dismiss' });
  // (One may leave by itself between the count and the click.)
  while (await dismiss.count()) await dismiss.first().click({ timeout: 2_000 }).catch(() => undefined);
  if ((await page.locator('html').getAttribute('data-theme')) !== 'light') await page.getByTestId('theme-toggle').click();
  await page.screenshot({ path: `${OUT}orders-card-actions-light.png` });
});
