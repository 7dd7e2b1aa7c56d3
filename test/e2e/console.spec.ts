import { test, expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { ADMIN, api, publish, until, type TestHub } from '../helpers/hub.ts';
import { sample } from '../helpers/events.ts';
import { login, anotherWindow, RENDERER_DIR, consoleHubPerTest } from './fixtures.ts';
import { Hub } from '../../electron/hub/hub.ts';
import { SNAPSHOT_CAPS } from '../../shared/state.ts';

let hub: TestHub;
consoleHubPerTest((h) => (hub = h));

async function pub(events: unknown) {
  const r = await publish(hub.url, events);
  expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
  return r.body as { results: { seq: number }[] };
}

const view = (page: Page, id: string) => page.getByTestId(`view-${id}`);
/** Body rows of a virtual table (the header is a row too). */
const ROWS = '.vbody [role="row"]';

test('events appear in their own view and not in the others', async ({ page }) => {
  await login(page, hub);
  await pub([
    sample.storeOrder(12, { data: { order_id: 'KIT-1', table_id: '7', items: [{ name: 'Bibimbap', quantity: 2 }], total: 24 } }),
    sample.tradingOrder('u1', 3, { data: { ...(sample.tradingOrder('u1', 3).data as object), symbol: 'SOL/USDT' } }),
    sample.mail('u1', { data: { email_id: 'm-1', from: 'chef@example.com', subject: 'Fish delivery late', snippet: 'Truck delayed', folder: 'INBOX' } }),
  ]);

  // Orders board: the card, with its table and items, and nothing from trading or mail.
  const board = view(page, 'orders');
  await expect(board.getByTestId('order-card')).toHaveCount(1);
  await expect(board.getByTestId('order-card')).toContainText('Table 7');
  await expect(board.getByTestId('order-card')).toContainText('Bibimbap');
  await expect(board.getByTestId('column-pending')).toContainText('#KIT-1');
  await expect(board).not.toContainText('SOL/USDT');
  await expect(board).not.toContainText('Fish delivery late');

  await page.getByTestId('tab-trading').click();
  const trading = view(page, 'trading');
  await expect(trading.getByTestId('trading-orders')).toContainText('SOL/USDT');
  await expect(trading).not.toContainText('Bibimbap');
  await expect(trading).not.toContainText('Fish delivery late');

  await page.getByTestId('tab-mail').click();
  const mail = view(page, 'mail');
  await expect(mail.getByTestId('mail-list')).toContainText('Fish delivery late');
  await expect(mail.getByTestId('mail-list')).toContainText('classifying');
  await expect(mail).not.toContainText('SOL/USDT');
  await expect(mail).not.toContainText('Bibimbap');
  // The classification arrives later and the same row gains it.
  await pub({ type: 'mail.email.classified', user_id: 'u1', data: { email_id: 'm-1', category: 'supplier', priority: 'high', summary: 'Delivery delayed 2h' } });
  await expect(mail.getByTestId('mail-list')).toContainText('Delivery delayed 2h');
  await expect(mail.getByTestId('mail-list').locator(ROWS)).toHaveCount(1);
  // Sync errors are visible.
  await pub({ type: 'mail.sync.error', user_id: 'u1', data: { account: 'kitchen@example.com', error: 'IMAP login failed', retry_in_s: 30 } });
  await expect(mail.getByTestId('mail-sync')).toContainText('IMAP login failed');

  // The live stream shows all of them.
  await page.getByTestId('tab-live').click();
  const live = view(page, 'live').getByTestId('live-table');
  for (const text of ['store.order.created', 'trading.order.created', 'mail.email.new', 'mail.email.classified']) await expect(live).toContainText(text);
});

test('orders board: status moves, deletes strike through then vanish, session end clears the table', async ({ page }) => {
  await login(page, hub);
  const board = view(page, 'orders');
  await pub([
    sample.storeOrder(1, { data: { order_id: 'A', table_id: '4', items: [{ name: 'Ramen', quantity: 1 }], total: 9 } }),
    sample.storeOrder(1, { data: { order_id: 'B', table_id: '5', items: [{ name: 'Gimbap', quantity: 3 }], total: 15 } }),
    sample.storeOrder(2, { data: { order_id: 'C', table_id: '9', items: [{ name: 'Tteokbokki', quantity: 1 }], total: 7 } }),
  ]);
  await expect(board.getByTestId('order-card')).toHaveCount(3);
  await expect(board.locator('[data-order="A"]')).toContainText('NEW');
  await pub({ type: 'store.order.updated', store_id: 1, data: { order_id: 'A', status: 'preparing' } });
  await expect(board.getByTestId('column-preparing').locator('[data-order="A"]')).toBeVisible();
  // Store selector narrows the board.
  await board.getByTestId('store-select').selectOption('2');
  await expect(board.getByTestId('order-card')).toHaveCount(1);
  await board.getByTestId('store-select').selectOption('');
  await pub({ type: 'store.order.deleted', store_id: 1, data: { order_id: 'B', reason: 'customer left' } });
  await expect(board.locator('[data-order="B"]')).toContainText('DELETED');
  await expect(board.locator('[data-order="B"]')).toHaveCount(0, { timeout: 10_000 });
  await pub({ type: 'store.session.ended', store_id: 1, data: { table_id: '4' } });
  await expect(board.locator('[data-order="A"]')).toHaveCount(0);
  await expect(board.getByTestId('order-card')).toHaveCount(1);
});

test('strategy filter hides and shows rows and is remembered; batch toasts honour suppress flags', async ({ page }) => {
  await login(page, hub, 'admin', {}, 'trading');
  const trading = view(page, 'trading');
  const order = (strategy: number, symbol: string, extra: Record<string, unknown> = {}) => {
    const e = sample.tradingOrder('u1', strategy);
    return { ...e, data: { ...(e.data as object), symbol, ...extra } };
  };
  await pub([order(1, 'AAA/USDT'), order(2, 'BBB/USDT'), order(3, 'CCC/USDT')]);
  const table = trading.getByTestId('trading-orders');
  for (const s of ['AAA/USDT', 'BBB/USDT', 'CCC/USDT']) await expect(table).toContainText(s);

  await trading.getByTestId('strategy-filter').click();
  await trading.getByTestId('strategy-2').check();
  await expect(table).toContainText('BBB/USDT');
  await expect(table).not.toContainText('AAA/USDT');
  await expect(table).not.toContainText('CCC/USDT');
  await trading.getByTestId('strategy-3').check();
  await expect(table).toContainText('CCC/USDT');
  await expect(table).not.toContainText('AAA/USDT');

  // New rows respect the filter as they arrive.
  await pub([order(1, 'DDD/USDT'), order(3, 'EEE/USDT')]);
  await expect(table).toContainText('EEE/USDT');
  await expect(table).not.toContainText('DDD/USDT');

  // Remembered across a reload.
  await page.reload();
  await page.getByTestId('connection').and(page.locator('[data-state="live"]')).waitFor();
  await expect(trading.getByTestId('strategy-filter')).toContainText('Strategies: 2, 3');
  await expect(table).toContainText('BBB/USDT');
  await expect(table).not.toContainText('AAA/USDT');
  await trading.getByTestId('strategy-filter').click();
  await trading.getByRole('button', { name: 'Show all' }).click();
  for (const s of ['AAA/USDT', 'BBB/USDT', 'CCC/USDT', 'DDD/USDT']) await expect(table).toContainText(s);

  // Batch: one summary toast; the suppressed per-order events raise none.
  const toasts = page.getByTestId('toasts');
  await pub([
    { type: 'trading.order.batch', user_id: 'u1', strategy_id: 1, data: { summaries: [{ order_type: 'LIMIT', created: 50, cancelled: 10 }] } },
    order(1, 'ZZZ/USDT', { suppress_toast: true }),
  ]);
  await expect(toasts).toContainText('50 LIMIT created, 10 cancelled');
  await expect(table).toContainText('ZZZ/USDT');
  await expect(toasts).not.toContainText('ZZZ/USDT');
  // An order that is not suppressed does get a toast while the trading view is open; a burst of
  // them is one toast with a count, not a stack.
  await pub(order(1, 'YYY/USDT'));
  await expect(toasts).toContainText('YYY/USDT');
  await pub([order(1, 'Y2/USDT'), order(1, 'Y3/USDT'), order(1, 'Y4/USDT')]);
  await expect(toasts.getByTestId('toast').filter({ hasText: 'Y4/USDT' })).toContainText('×4');
  expect(await toasts.getByTestId('toast').count()).toBeLessThanOrEqual(3);
});

test('rough edges: table labels, money, toasts beside the work, mail alerts, order ids, no failed loads', async ({ page, context }) => {
  const failed: string[] = [];
  page.on('response', (r) => {
    if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
  });
  page.on('console', (m) => {
    if (m.type() === 'error') failed.push(m.text());
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await login(page, hub);
  const board = view(page, 'orders');
  await pub([
    sample.storeOrder(1, { data: { order_id: 'KRW-1', table_label: 'Table 2', items: [{ name: 'Galbi', quantity: 2 }], total: 54000, currency: 'KRW' } }),
    sample.storeOrder(1, { data: { order_id: 'USD-1', table_id: '9', items: [{ name: 'Soup', quantity: 1 }], total: 12.5, currency: 'USD' } }),
  ]);
  const krw = board.locator('[data-order="KRW-1"]');
  await expect(krw).toContainText('Table 2');
  await expect(krw).not.toContainText('Table Table');
  await expect(krw).toContainText('₩54,000');
  await expect(board.locator('[data-order="USD-1"]')).toContainText('Table 9');
  await expect(board.locator('[data-order="USD-1"]')).toContainText('$12.50');

  // Trading chatter does not interrupt someone working the orders board.
  const toasts = page.getByTestId('toasts');
  // (The store order published after them shows they have all arrived.)
  await pub([...Array.from({ length: 5 }, () => sample.tradingOrder('u1', 1)), sample.storeOrder(1, { data: { order_id: 'AFTER', table_id: '4', items: [{ name: 'Tea', quantity: 1 }], total: 1 } })]);
  await expect(board.locator('[data-order="AFTER"]')).toBeVisible();
  await expect(toasts.getByTestId('toast')).toHaveCount(0);

  // Alerts do toast, at most three at once, in a strip that does not cover the board.
  await pub([
    { ...sample.storeOrder(1, { data: { order_id: 'HOT-1', table_id: '3', items: [{ name: 'Allergy check', quantity: 1 }], total: 1 } }), priority: 'urgent' },
    { ...sample.tradingOrder('u1', 1), type: 'trading.order.cancelled', priority: 'high' },
    { ...sample.mail('u1'), priority: 'high' },
    { ...sample.position('u1', 1), priority: 'high' },
    { type: 'mail.sync.error', user_id: 'u1', priority: 'urgent', data: { account: 'ops@example.com', error: 'IMAP login failed' } },
  ]);
  await expect(toasts.getByTestId('toast').first()).toBeVisible();
  await expect.poll(() => toasts.getByTestId('toast').count()).toBe(3);
  await expect(toasts).toContainText('more');
  const strip = (await toasts.boundingBox())!;
  const main = (await board.boundingBox())!;
  expect(strip.y).toBeGreaterThanOrEqual(main.y + main.height - 1);

  // A classified mail alert names its subject and sender, not the sync worker's id.
  await pub([
    { type: 'mail.email.new', user_id: 'u1', data: { email_id: 'm-77', from: 'kim@supplier.kr', subject: 'Invoice overdue', folder: 'INBOX' } },
    { type: 'mail.email.classified', user_id: 'u1', priority: 'high', data: { email_id: 'm-77', category: 'support', priority: 'high' } },
  ]);
  await page.getByTestId('tab-alerts').click();
  await expect(view(page, 'alerts')).toContainText('Support: “Invoice overdue” from kim@supplier.kr');
  await expect(view(page, 'alerts')).not.toContainText('Mail m-77 classified');

  // The trading table shows the order id, and copies it.
  const t = sample.tradingOrder('u1', 1);
  (t.data as Record<string, unknown>).order_id = 'EXCH-123456789';
  await pub(t);
  await page.getByTestId('tab-trading').click();
  const row = view(page, 'trading').getByTestId('trading-orders').locator(ROWS).filter({ hasText: 'EXCH-123456789' });
  await expect(row.getByTestId('order-id')).toHaveText('EXCH-123456789');
  await row.getByRole('button', { name: 'Copy order id EXCH-123456789' }).click();
  await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe('EXCH-123456789');

  expect(failed, 'failed requests or console errors').toEqual([]);
});

test('stats: webhook endpoints with their delivery state and dead letters', async ({ page }) => {
  const { WebhookReceiver } = await import('../helpers/webhook-receiver.ts');
  await hub.restart({ webhooks: { timeoutMs: 2_000, maxAttempts: 2, baseDelayMs: 20, maxDelayMs: 50 } });
  const rx = new WebhookReceiver('whsec_' + Buffer.alloc(32, 3).toString('base64'));
  await rx.listen();
  try {
    const ep = await api(hub.url, '/v1/webhooks', { body: { url: rx.url, types: ['store.*'], description: 'kitchen backend' } });
    expect(ep.status).toBe(201);
    rx.setSecret(ep.body.secret as string);
    rx.status = 500;
    const r = await pub(sample.storeOrder(4, { id: 'wh-dead-1' }));
    await until(async () => (await api(hub.url, '/v1/webhooks/dead')).body.dead.length === 1, 'a dead letter');
    rx.status = 200;
    await pub(sample.storeOrder(4, { id: 'wh-ok-1' }));
    await until(() => rx.applied.length === 1, 'the next event delivered');
    await login(page, hub, 'admin', {}, 'stats');
    const hooks = view(page, 'stats').getByTestId('webhooks');
    const row = hooks.getByTestId('webhook-row');
    await expect(row).toContainText(rx.url);
    await expect(row).toContainText('kitchen backend');
    await expect(row).toContainText('store.* · all');
    await expect(row.locator('td.num')).toHaveText(['1', '0', '1']);
    const dead = hooks.getByTestId('dead-letters');
    await expect(dead).toContainText(String(r.results[0]!.seq));
    await expect(dead).toContainText('store.order.created');
    await expect(dead).toContainText('HTTP 500');
  } finally {
    await rx.close();
  }
});

test('orders board: an operator bumps and cancels orders; the backend answers; a viewer sees why it cannot', async ({ page, browser }) => {
  await pub([
    sample.storeOrder(7, { data: { order_id: 'ACT-1', table_id: '4', items: [{ name: 'Ramen', quantity: 1 }], total: 9 } }),
    sample.storeOrder(7, { data: { order_id: 'ACT-2', table_id: '5', items: [{ name: 'Soup', quantity: 1 }], total: 5 } }),
  ]);
  // The test is the store backend: it answers each action.requested as a backend would.
  const answered = new Set<string>();
  const backend = async (decide: (d: { action_id: string; params: { status: string; reason?: string }; target: { id: string } }) => 'ok' | string) => {
    const asked = (await api(hub.url, '/v1/events?type=action.requested')).body.events as { store_id: string; data: { action_id: string; params: { status: string }; target: { id: string } } }[];
    for (const e of asked) {
      if (answered.has(e.data.action_id)) continue;
      answered.add(e.data.action_id);
      const verdict = decide(e.data as never);
      const keys = { store_id: e.store_id };
      if (verdict === 'ok')
        await pub([
          { type: 'action.accepted', ...keys, data: { action_id: e.data.action_id } },
          { type: 'store.order.updated', ...keys, data: { order_id: e.data.target.id, status: e.data.params.status } },
          { type: 'action.completed', ...keys, data: { action_id: e.data.action_id } },
        ]);
      else await pub({ type: 'action.rejected', ...keys, data: { action_id: e.data.action_id, reason: verdict } });
    }
    return asked.length;
  };

  await login(page, hub, 'operator', { store_ids: ['7'] });
  const board = view(page, 'orders');
  const card = board.locator('[data-order="ACT-1"]');
  await expect(card.getByTestId('bump')).toHaveText('Accept');
  await card.getByTestId('bump').click();
  await expect(card.getByTestId('action-state')).toContainText('→ accepted: asked, waiting for the backend');
  await until(async () => (await backend(() => 'ok')) >= 1, 'the action reached the backend');
  await expect(board.getByTestId('column-accepted').locator('[data-order="ACT-1"]')).toBeVisible();
  // Keyboard, as a kitchen display is bumped: focus the card, Enter.
  const moved = board.locator('[data-order="ACT-1"]');
  await moved.focus();
  await page.keyboard.press('Enter');
  await until(async () => (await backend(() => 'ok')) >= 2, 'the second action');
  await expect(board.getByTestId('column-preparing').locator('[data-order="ACT-1"]')).toBeVisible();

  // Cancel needs a reason; the backend refuses, and the card says why.
  const other = board.locator('[data-order="ACT-2"]');
  await other.getByTestId('cancel').click();
  await other.getByLabel('Reason for cancelling').fill('customer left');
  await other.getByRole('button', { name: 'Cancel order' }).click();
  await until(async () => (await backend(() => 'the order is already being cooked')) >= 3, 'the cancel');
  await expect(other.getByTestId('action-state')).toContainText('refused (the order is already being cooked)');
  await expect(board.getByTestId('column-pending').locator('[data-order="ACT-2"]')).toBeVisible();
  // The history says who asked what, and why.
  const asked = (await api(hub.url, '/v1/events?type=action.requested')).body.events as { data: { params: { status: string; reason?: string }; requested_by_label?: string } }[];
  const cancel = asked.find((e) => e.data.params.status === 'cancelled')!;
  expect(cancel.data.params.reason).toBe('customer left');
  expect(cancel.data.requested_by_label).toBe('e2e operator');

  // A viewer sees the buttons, disabled, with the reason.
  const viewer = await browser.newPage();
  try {
    await login(viewer, hub, 'subscriber', { store_ids: ['7'] });
    const bump = viewer.getByTestId('view-orders').locator('[data-order="ACT-2"]').getByTestId('bump');
    await expect(bump).toBeDisabled();
    await expect(bump).toHaveAttribute('title', /subscriber token can watch orders but not act/);
  } finally {
    await viewer.close();
  }
});

test('trading: cancel an order after a confirmation naming account, symbol, side and quantity', async ({ page }) => {
  const t = sample.tradingOrder('u1', 2);
  (t.data as Record<string, unknown>).order_id = 'EX-77';
  await pub(t);
  await login(page, hub, 'operator', { user_id: 'u1' }, 'trading');
  const row = view(page, 'trading').getByTestId('trading-orders').locator(ROWS).filter({ hasText: 'EX-77' });
  await row.getByTestId('cancel-order').click();
  const confirm = page.getByTestId('confirm-cancel');
  await expect(confirm).toContainText('Cancel BUY 0.01 BTC/USDT on Main · BINANCE (order EX-77)?');
  await confirm.getByRole('button', { name: 'Cancel order' }).click();
  await expect(row.getByTestId('action-state')).toContainText('Cancel: asked, waiting for the backend');
  const asked = await until(async () => (await api(hub.url, '/v1/events?type=action.requested')).body.events[0], 'the cancel request');
  expect(asked).toMatchObject({ user_id: 'u1', strategy_id: '2', data: { name: 'trading.order.cancel', target: { type: 'trading.order', id: 'EX-77' } } });
  // The bot answers: accepted, then the order's cancellation.
  await pub([
    { type: 'action.accepted', user_id: 'u1', strategy_id: 2, data: { action_id: asked.data.action_id } },
    { ...t, type: 'trading.order.cancelled', data: { ...(t.data as object), status: 'CANCELLED' } },
    { type: 'action.completed', user_id: 'u1', strategy_id: 2, data: { action_id: asked.data.action_id } },
  ]);
  await expect(row).toContainText('CANCELLED');
  await expect(row.getByTestId('cancel-order')).toHaveCount(0);
});

test('mail: mark read and star through the mail backend', async ({ page }) => {
  await pub({ type: 'mail.email.new', user_id: 'u1', data: { email_id: 'm-9', from: 'kim@supplier.kr', subject: 'Invoice overdue', folder: 'INBOX' } });
  await login(page, hub, 'operator', { user_id: 'u1' }, 'mail');
  const row = view(page, 'mail').getByTestId('mail-list').locator(ROWS).filter({ hasText: 'Invoice overdue' });
  // The test is the mail-sync backend: it applies each request to the mailbox and confirms it.
  const answer = async (n: number) => {
    const asked = (await until(async () => {
      const evs = (await api(hub.url, '/v1/events?type=action.requested&order=asc')).body.events as { data: { action_id: string; name: string; params: Record<string, boolean> } }[];
      return evs.length >= n ? evs[n - 1] : undefined;
    }, `action ${n}`))!;
    await pub([
      { type: 'action.accepted', user_id: 'u1', data: { action_id: asked.data.action_id } },
      { type: 'mail.email.updated', user_id: 'u1', data: { email_id: 'm-9', ...asked.data.params } },
      { type: 'action.completed', user_id: 'u1', data: { action_id: asked.data.action_id } },
    ]);
    return asked.data;
  };
  await row.getByTestId('mail-read').click();
  expect(await answer(1)).toMatchObject({ name: 'mail.mark_read', params: { read: true } });
  await expect(row.getByTestId('mail-read')).toHaveText('Mark unread');
  await row.getByTestId('mail-star').click();
  expect(await answer(2)).toMatchObject({ name: 'mail.star', params: { starred: true } });
  await expect(row.getByTestId('mail-star')).toHaveText('★');
});

test('live view: pause keeps buffering with a counter, resume catches up; export NDJSON and CSV', async ({ page }) => {
  await login(page, hub, 'admin', {}, 'live');
  const live = view(page, 'live');
  const table = live.getByTestId('live-table');
  await pub([sample.mail('u1', { data: { email_id: 'e1', from: 'a@example.com', subject: 'first', snippet: '', folder: 'INBOX' } })]);
  await expect(table).toContainText('a@example.com: first');

  await live.getByTestId('pause').click();
  await pub([1, 2, 3].map((i) => sample.mail('u1', { data: { email_id: `p${i}`, from: 'b@example.com', subject: `during pause ${i}`, snippet: '', folder: 'INBOX' } })));
  await expect(live.getByTestId('pause')).toContainText('3 new');
  await expect(table).not.toContainText('during pause');
  await live.getByTestId('pause').click();
  for (const i of [1, 2, 3]) await expect(table).toContainText(`during pause ${i}`);
  // Newest on top.
  await expect(table.locator(ROWS).first()).toContainText('during pause 3');

  // Filter by text and type, then export exactly the filtered rows.
  await pub(sample.storeOrder(5, { data: { order_id: 'X1', items: [{ name: 'Soup, "hot"', quantity: 1, spice: 'mild' }], total: 5, client_tag: 'pos-7' } }));
  await live.getByTestId('live-type').selectOption('mail.*');
  await live.getByTestId('live-text').fill('during pause');
  await expect(table.locator(ROWS)).toHaveCount(3);
  const [nd] = await Promise.all([page.waitForEvent('download'), live.getByTestId('export-ndjson').click()]);
  const lines = readFileSync((await nd.path())!, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(lines.map((e) => e.data.subject)).toEqual(['during pause 1', 'during pause 2', 'during pause 3']);
  expect(lines.every((e) => e.type === 'mail.email.new' && typeof e.seq === 'number')).toBe(true);

  await live.getByTestId('live-type').selectOption('store.*');
  await live.getByTestId('live-text').fill('');
  await expect(table.locator(ROWS)).toHaveCount(1);
  const [csv] = await Promise.all([page.waitForEvent('download'), live.getByTestId('export-csv').click()]);
  const text = readFileSync((await csv.path())!, 'utf8');
  const rows = text.trim().split('\r\n');
  expect(rows[0]).toBe('seq,id,type,time,received_at,priority,store_id,user_id,strategy_id,tenant_id,topics,summary,data');
  expect(rows).toHaveLength(2);
  expect(rows[1]).toContain('store.order.created');
  // Quotes inside the JSON are doubled, the cell quoted.
  expect(rows[1]).toContain('""Soup, \\""hot\\""""');

  // Inspector shows the raw JSON.
  await table.locator(ROWS).first().click();
  await expect(live.getByTestId('inspector')).toContainText('"order_id": "X1"');
  // Fields no schema names are part of the event, and shown with it.
  await expect(live.getByTestId('inspector')).toContainText('"client_tag": "pos-7"');
  await expect(live.getByTestId('inspector')).toContainText('"spice": "mild"');
});

test('reconnect after the hub restarts shows every event published meanwhile exactly once', async ({ page }) => {
  await login(page, hub, 'admin', {}, 'live');
  const live = view(page, 'live');
  const table = live.getByTestId('live-table');
  const before = await pub([1, 2, 3].map((i) => sample.mail('u1', { data: { email_id: `b${i}`, from: 'x@example.com', subject: `before-${i}`, snippet: '', folder: 'INBOX' } })));
  await expect(table).toContainText('before-3');

  // Stop the hub, publish while the window cannot hear, start again on the same port and database.
  const restarted = hub.restart();
  await expect(page.getByTestId('connection')).not.toHaveAttribute('data-state', 'live');
  await restarted;
  // The window has not reconnected yet (the hub asked for a 500 ms pause): these are truly missed.
  expect((await api(hub.url, '/v1/connections')).body.connections).toHaveLength(0);
  const during = await pub([1, 2, 3, 4, 5].map((i) => sample.mail('u1', { data: { email_id: `d${i}`, from: 'x@example.com', subject: `during-${i}`, snippet: '', folder: 'INBOX' } })));
  // Data stayed on screen during the outage.
  await expect(table).toContainText('before-3');
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'live', { timeout: 20_000 });
  await pub(sample.mail('u1', { data: { email_id: 'after', from: 'x@example.com', subject: 'after-1', snippet: '', folder: 'INBOX' } }));
  await expect(table).toContainText('after-1');

  // Every seq exactly once, in the table the user sees (all rows fit: no virtualization cut-off).
  const seqs = (await table.locator(ROWS).locator('[role=cell]:first-child').allTextContents()).map(Number);
  const expected = [...before.results, ...during.results].map((r) => r.seq);
  for (const s of expected) expect(seqs.filter((x) => x === s), `seq ${s}`).toHaveLength(1);
  expect(new Set(seqs).size).toBe(seqs.length);
  for (let i = 1; i <= 5; i++) await expect(table.getByText(`x@example.com: during-${i}`, { exact: true })).toHaveCount(1);
});

test("a scoped token's window never shows out-of-scope events", async ({ page }) => {
  await login(page, hub, 'subscriber', { store_ids: ['12'] }, 'live');
  await expect(page.getByTestId('identity')).toContainText('stores=12');
  // The one-time code was exchanged for a cookie and is gone from the address bar.
  expect(page.url()).not.toContain('code=');
  await pub([
    sample.storeOrder(12, { data: { order_id: 'MINE-1', table_id: '1', items: [{ name: 'Mine', quantity: 1 }], total: 1 } }),
    sample.storeOrder(13, { data: { order_id: 'OTHER-1', table_id: '2', items: [{ name: 'Other', quantity: 1 }], total: 1 } }),
    sample.tradingOrder('u9', 4),
    sample.mail('u9', { data: { email_id: 'secret', from: 'ceo@example.com', subject: 'secret', snippet: '', folder: 'INBOX' } }),
    sample.storeOrder(12, { data: { order_id: 'MINE-2', table_id: '1', items: [{ name: 'Mine too', quantity: 1 }], total: 1 } }),
  ]);
  const table = view(page, 'live').getByTestId('live-table');
  await expect(table).toContainText('Order MINE-2');
  await expect(table.locator(ROWS)).toHaveCount(2);
  await expect(table).not.toContainText('OTHER-1');
  await expect(table).not.toContainText('trading.');
  await expect(table).not.toContainText('mail.');
  await page.getByTestId('tab-orders').click();
  await expect(view(page, 'orders').getByTestId('order-card')).toHaveCount(2);
  await expect(view(page, 'orders')).not.toContainText('OTHER-1');
  await page.getByTestId('tab-stats').click();
  await expect(view(page, 'stats').getByTestId('stats-admin-only')).toContainText('need an admin token');
  // After a reload (snapshot + history backfill) still nothing from outside the scope.
  await page.reload();
  await page.getByTestId('tab-live').click();
  await expect(table).toContainText('Order MINE-2');
  await expect(table).not.toContainText('OTHER-1');
  await expect(table.locator(ROWS)).toHaveCount(2);
});

test('urgent events land in the notification centre as unread and can be marked read', async ({ page }) => {
  await login(page, hub);
  await pub([
    sample.mail('u1', { priority: 'urgent', data: { email_id: 'u', from: 'boss@example.com', subject: 'Freezer alarm', snippet: '', folder: 'INBOX' } }),
    sample.mail('u1', { priority: 'normal', data: { email_id: 'n', from: 'news@example.com', subject: 'Newsletter', snippet: '', folder: 'INBOX' } }),
  ]);
  await expect(page.getByTestId('unread-count')).toHaveText('1');
  await page.getByTestId('tab-alerts').click();
  const alerts = view(page, 'alerts');
  await expect(alerts.getByTestId('notice')).toHaveCount(1);
  await expect(alerts.getByTestId('notice')).toContainText('Freezer alarm');
  await alerts.getByTestId('notice').click();
  await expect(page.getByTestId('unread-count')).toHaveCount(0);
});

test('force_disconnect shows the reason and a Retry', async ({ page }) => {
  await login(page, hub);
  await until(async () => (await fetch(`${hub.url}/v1/connections`, { headers: { authorization: 'Bearer test-admin-token' } }).then((r) => r.json())).connections.length > 0, 'console connection');
  await fetch(`${hub.url}/v1/connections?all=1`, { method: 'DELETE', headers: { authorization: 'Bearer test-admin-token' } });
  await expect(page.getByTestId('forced-banner')).toContainText('disconnected by an administrator');
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'offline');
  await page.getByTestId('retry').click();
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'live');
});

test('outage: reconnecting shows attempt and elapsed, offers Retry, keeps data, then catches up once', async ({ page }) => {
  await login(page, hub, 'admin', {}, 'live');
  const table = view(page, 'live').locator('[data-testid="live-table"]');
  await pub(sample.mail('u1', { data: { email_id: 'k1', from: 'x@example.com', subject: 'kept', snippet: '', folder: 'INBOX' } }));
  await expect(table).toContainText('kept');
  // Take the hub down for a while (TestHub.restart is close+start in one go, too quick for backoff).
  const port = hub.hub.port;
  await hub.hub.close();
  const indicator = page.getByTestId('connection');
  await expect(indicator).toHaveAttribute('data-state', 'reconnecting');
  // Backoff 1 s then 2 s (+-10 %): by the third attempt the user is offered Retry.
  await expect(indicator).toContainText(/attempt [3-9]/, { timeout: 10_000 });
  await expect(indicator).toContainText(/down \d+s/);
  await expect(page.getByTestId('retry')).toBeVisible();
  await expect(table).toContainText('kept');
  const again = await Hub.start({ port, dbFile: hub.dbFile, adminToken: ADMIN, logLevel: 'silent', rendererDir: RENDERER_DIR, heartbeatMs: 1_000, retryMs: 500 });
  try {
    await outageTail(page, table, again.url);
  } finally {
    await again.close();
  }
});

async function outageTail(page: Page, table: ReturnType<Page['locator']>, url: string) {
  const indicator = page.getByTestId('connection');
  const missed = await publish(url, [1, 2].map((i) => sample.mail('u1', { data: { email_id: `m${i}`, from: 'x@example.com', subject: `missed-${i}`, snippet: '', folder: 'INBOX' } })));
  await page.getByTestId('retry').click();
  await expect(indicator).toHaveAttribute('data-state', 'live');
  for (const r of missed.body.results as { seq: number }[]) await expect(table.locator(`[data-key="${r.seq}"]`)).toHaveCount(1);
  await expect(table.getByText('x@example.com: kept', { exact: true })).toHaveCount(1);
}

test('the live buffer is bounded and says when older rows were dropped', async ({ page }) => {
  await login(page, hub, 'admin', {}, 'live');
  const live = view(page, 'live');
  const batch = (from: number) => Array.from({ length: 2_600 }, (_, i) => ({ type: 'x.load.tick', store_id: 's1', data: { i: from + i } }));
  await pub(batch(0));
  await pub(batch(2_600));
  await expect(live.getByTestId('live-count')).toContainText('5000 buffered');
  await expect(live.getByTestId('dropped')).toContainText('200 older events were dropped');
  // The newest is on top and the oldest kept is tick 200.
  await expect(live.locator('[data-testid="live-table"] .vbody [role="row"]').first()).toContainText('"i":5199');
  await live.getByTestId('live-text').fill('"i":200}');
  await expect(live.locator('[data-testid="live-table"] .vbody [role="row"]')).toHaveCount(1);
  await live.getByTestId('live-text').fill('"i":199}');
  await expect(live.locator('[data-testid="live-table"] .vbody [role="row"]')).toHaveCount(0);
});

test('the notification inbox keeps read marks across a reload', async ({ page }) => {
  await login(page, hub, 'admin', {}, 'alerts');
  await pub([
    sample.storeOrder(1, { priority: 'urgent', data: { order_id: 'U1', items: [{ name: 'Allergy check', quantity: 1 }], total: 1 } }),
    sample.storeOrder(1, { priority: 'high', data: { order_id: 'H1', items: [{ name: 'Big party', quantity: 12 }], total: 100 } }),
  ]);
  const alerts = view(page, 'alerts');
  await expect(alerts.getByTestId('notice')).toHaveCount(2);
  await expect(page.getByTestId('unread-count')).toHaveText('2');
  await alerts.getByTestId('notice').filter({ hasText: 'Order U1' }).click();
  await expect(page.getByTestId('unread-count')).toHaveText('1');
  // The marks are the hub's: nothing in this browser's storage is needed to get them back.
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await expect(view(page, 'alerts').getByTestId('notice')).toHaveCount(2);
  await expect(page.getByTestId('unread-count')).toHaveText('1');
  await expect(view(page, 'alerts').getByTestId('notice').filter({ hasText: 'Order H1' })).toContainText('high');
});

test('two windows of the same token share the inbox live: read, mark all read, clear, tab title', async ({ browser, page }) => {
  const id = await login(page, hub, 'admin', {}, 'alerts');
  // A second browser context (another device) signed in with a login link of the same token.
  const { context: other, page: tablet } = await anotherWindow(browser, hub, id, 'alerts');
  try {
    await pub([
      sample.storeOrder(1, { priority: 'urgent', data: { order_id: 'S1', items: [{ name: 'Allergy check', quantity: 1 }], total: 1 } }),
      sample.storeOrder(1, { priority: 'urgent', data: { order_id: 'S2', items: [{ name: 'Fire drill', quantity: 1 }], total: 1 } }),
      sample.storeOrder(1, { priority: 'high', data: { order_id: 'S3', items: [{ name: 'Big party', quantity: 12 }], total: 100 } }),
    ]);
    for (const p of [page, tablet]) {
      await expect(p.getByTestId('unread-count')).toHaveText('3');
      await expect(p).toHaveTitle('(2) RelayDesk');
    }
    // Read in one window: the other's list, badge and title follow without a reload.
    await view(page, 'alerts').getByTestId('notice').filter({ hasText: 'Order S1' }).click();
    await expect(tablet.getByTestId('unread-count')).toHaveText('2');
    await expect(tablet).toHaveTitle('(1) RelayDesk');
    await expect(view(tablet, 'alerts').locator('.notice.read')).toContainText('Order S1');
    // Mark all read on the tablet: the desktop window's badge goes and its title is plain.
    await view(tablet, 'alerts').getByRole('button', { name: 'Mark all read' }).click();
    await expect(page.getByTestId('unread-count')).toHaveCount(0);
    await expect(page).toHaveTitle('RelayDesk');
    // Clear one, then all: gone in both windows, and still gone after a reload.
    await view(page, 'alerts').getByRole('button', { name: /^Clear: .*Order S3/ }).click();
    await expect(view(tablet, 'alerts').getByTestId('notice')).toHaveCount(2);
    await view(tablet, 'alerts').getByRole('button', { name: 'Clear', exact: true }).click();
    await expect(view(page, 'alerts').getByTestId('notice')).toHaveCount(0);
    await page.reload();
    await page.getByTestId('connection').and(page.locator('[data-state="live"]')).waitFor();
    await expect(view(page, 'alerts').getByTestId('notice')).toHaveCount(0);
  } finally {
    await other.close();
  }
});

test('a clicked notification opens the inbox on that event and marks it read', async ({ page }) => {
  await login(page, hub);
  const r = await pub([
    sample.storeOrder(1, { priority: 'urgent', data: { order_id: 'N1', items: [{ name: 'Gas leak check', quantity: 1 }], total: 1 } }),
    sample.storeOrder(1, { priority: 'high', data: { order_id: 'N2', items: [{ name: 'VIP table', quantity: 1 }], total: 1 } }),
  ]);
  await expect(page.getByTestId('unread-count')).toHaveText('2');
  // What the desktop shell's focus event and the browser Notification's click both do.
  await page.evaluate((seq) => (location.hash = `#/alerts/${seq}`), r.results[0]!.seq);
  const focused = view(page, 'alerts').locator('.notice.focused');
  await expect(focused).toContainText('Order N1');
  await expect(page.getByTestId('unread-count')).toHaveText('1');
});

test('a reset (history pruned while away) reloads the state from the snapshot and says so', async ({ page }) => {
  await login(page, hub);
  const board = view(page, 'orders');
  const order = (id: string) => sample.storeOrder(1, { data: { order_id: id, table_id: id, items: [{ name: `dish ${id}`, quantity: 1 }], total: 1 } });
  await pub([order('A'), order('B'), order('C')]);
  await expect(board.getByTestId('order-card')).toHaveCount(3);
  // Come back with a retention of 3 events, publish more than that while the window is away, prune.
  await hub.restart({ retention: { maxEvents: 3, maxAgeMs: undefined, chunk: 100, intervalMs: 60_000 } });
  await pub([{ type: 'store.order.deleted', store_id: 1, data: { order_id: 'A' } }, order('D'), ...Array.from({ length: 8 }, (_, i) => ({ type: 'x.filler.tick', store_id: '1', data: { i } }))]);
  await hub.hub.prune();
  await expect(page.getByTestId('reset-banner')).toContainText('no longer retained', { timeout: 15_000 });
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'live');
  await expect(board.locator('[data-order="D"]')).toHaveCount(1);
  await expect(board.locator('[data-order="A"]')).toHaveCount(0);
  await expect(board.getByTestId('order-card')).toHaveCount(3);
});

test('keyboard: digits switch views, t toggles the theme, j/k walk the live list into the inspector', async ({ page }) => {
  await login(page, hub);
  await pub([1, 2, 3].map((i) => sample.mail('u1', { data: { email_id: `k${i}`, from: 'k@example.com', subject: `key ${i}`, snippet: '', folder: 'INBOX' } })));
  await page.keyboard.press('2');
  await expect(page.getByTestId('view-trading')).toBeVisible();
  const theme = await page.locator('html').getAttribute('data-theme');
  await page.keyboard.press('t');
  await expect(page.locator('html')).not.toHaveAttribute('data-theme', theme!);
  // The digit is the tab's position, so it is read off the tab bar rather than assumed.
  const tabNames = await page.getByRole('tab').allTextContents();
  await page.keyboard.press(String(tabNames.findIndex((t) => t.startsWith('Live')) + 1));
  const live = view(page, 'live');
  await expect(live.getByTestId('live-table')).toContainText('key 3');
  await page.keyboard.press('j');
  await expect(live.getByTestId('inspector')).toContainText('"subject": "key 3"');
  await page.keyboard.press('j');
  await expect(live.getByTestId('inspector')).toContainText('"subject": "key 2"');
  await page.keyboard.press('k');
  await expect(live.getByTestId('inspector')).toContainText('"subject": "key 3"');
  await page.keyboard.press('Escape');
  await expect(live.getByTestId('inspector')).toHaveCount(0);
  await page.keyboard.press('/');
  await expect(live.getByTestId('live-text')).toBeFocused();
  // Typing digits in a field does not switch views.
  await page.keyboard.type('1');
  await expect(page.getByTestId('view-live')).toBeVisible();
});

test('state built live equals the state a fresh snapshot gives (client projections match the hub)', async ({ page }) => {
  await login(page, hub);
  const acct = { account_id: 1, name: 'Main', exchange: 'BINANCE' };
  const tord = (id: string, status: string, extra: Record<string, unknown> = {}) => ({
    type: `trading.order.${status === 'FILLED' ? 'filled' : status === 'CANCELLED' ? 'cancelled' : 'updated'}`,
    user_id: 'u1',
    strategy_id: 2,
    data: { order_id: id, symbol: 'BTC/USDT', side: 'BUY', order_type: 'LIMIT', quantity: 1, price: 10, status, account: acct, ...extra },
  });
  await pub([
    sample.storeOrder(1, { data: { order_id: 'A', table_id: '1', items: [{ name: 'a', quantity: 1 }], total: 1 } }),
    sample.storeOrder(1, { data: { order_id: 'B', table_id: '2', items: [{ name: 'b', quantity: 1 }], total: 2 } }),
    sample.storeOrder(1, { data: { order_id: 'C', table_id: '2', items: [{ name: 'c', quantity: 1 }], total: 3 } }),
    { type: 'store.order.updated', store_id: 1, data: { order_id: 'A', status: 'ready', note: 'no salt' } },
    { type: 'store.session.ended', store_id: 1, data: { table_id: '2' } },
    tord('T1', 'NEW'),
    tord('T1', 'PARTIALLY_FILLED', { filled_quantity: 0.5 }),
    tord('T2', 'NEW'),
    tord('T2', 'CANCELLED'),
    { type: 'trading.position.updated', user_id: 'u1', strategy_id: 2, data: { position_id: 'P1', symbol: 'BTC/USDT', quantity: 2, entry_price: 10, account: acct } },
    { type: 'trading.position.updated', user_id: 'u1', strategy_id: 2, data: { position_id: 'P2', symbol: 'ETH/USDT', quantity: 1, entry_price: 5, account: acct } },
    { type: 'trading.position.closed', user_id: 'u1', strategy_id: 2, data: { position_id: 'P2', symbol: 'ETH/USDT', quantity: 0, entry_price: 5, account: acct } },
    sample.mail('u1', { data: { email_id: 'M1', from: 'a@x.example', subject: 'one', snippet: '', folder: 'INBOX' } }),
    sample.mail('u1', { data: { email_id: 'M2', from: 'b@x.example', subject: 'two', snippet: '', folder: 'INBOX' } }),
    { type: 'mail.email.classified', user_id: 'u1', data: { email_id: 'M1', category: 'ops', priority: 'high', summary: 's' } },
    { type: 'mail.email.updated', user_id: 'u1', data: { email_id: 'M2', deleted: true } },
    { type: 'mail.email.updated', user_id: 'u1', data: { email_id: 'M1', read: true } },
    { type: 'mail.sync.error', user_id: 'u1', data: { account: 'a@x.example', error: 'boom' } },
  ]);
  const board = view(page, 'orders');
  await expect(board.getByTestId('order-card')).toHaveCount(1);
  const dump = () =>
    page.evaluate(() => {
      const s = (window as unknown as { __relaydesk: { tables: Record<string, Map<string, unknown>> } }).__relaydesk;
      return Object.fromEntries(Object.entries(s.tables).map(([k, m]) => [k, [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1))]));
    });
  await until(async () => (await dump()).mail_sync?.length === 1, 'all events applied');
  const live = await dump();
  await page.reload();
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'live');
  await expect(board.locator('[data-order="A"]')).toContainText('no salt');
  await expect(board.getByTestId('column-ready').locator('[data-order="A"]')).toHaveCount(1);
  expect(await dump()).toEqual(live);
  await page.getByTestId('tab-trading').click();
  await expect(view(page, 'trading').getByTestId('trading-orders').locator(ROWS)).toHaveCount(2);
  await expect(view(page, 'trading').getByTestId('positions').locator(ROWS)).toHaveCount(1);
});

test('says when the hub snapshot was cut at its cap ("Showing N of M"), fills in older rows as they change, and keeps M current', async ({ page }) => {
  // Caps of 5 orders and 3 positions stand in for 5,000: the same path, a dozen rows instead of thousands.
  await hub.restart({ snapshotCaps: { ...SNAPSHOT_CAPS, store_order: 5, position: 3 } });
  await pub([
    ...Array.from({ length: 12 }, (_, i) => sample.storeOrder(1, { data: { order_id: `CAP-${i}`, table_id: String(i), items: [{ name: 'Ramen', quantity: 1 }], total: 9 } })),
    ...Array.from({ length: 4 }, () => sample.position('u1', 2)),
    sample.mail('u1'),
  ]);
  await login(page, hub);
  const board = view(page, 'orders');
  await expect(board.getByTestId('truncated-store_orders')).toHaveText("Showing 5 of 12 open orders: the hub's snapshot carries the newest 5, and older ones appear here when they change.");
  await expect(board.getByTestId('order-card')).toHaveCount(5);
  await expect(board.locator('[data-order="CAP-11"]')).toHaveCount(1);
  await expect(board.locator('[data-order="CAP-6"]')).toHaveCount(0);
  // An update to an order the snapshot left out: the window fetches the hub's whole row (table,
  // items, total, age) instead of showing a card with only the new status.
  await pub([{ type: 'store.order.updated', store_id: 1, data: { order_id: 'CAP-0', status: 'ready' } }]);
  const late = board.locator('[data-order="CAP-0"]');
  await expect(late).toHaveCount(1);
  await expect(late).toContainText('Table 0');
  await expect(late).toContainText('1× Ramen');
  await expect(late.locator('footer')).toContainText('ready');
  await expect(board.getByTestId('truncated-store_orders')).toContainText('Showing 6 of 12 open orders');
  // New orders and deletes this window sees move the total at once.
  await pub([sample.storeOrder(1, { data: { order_id: 'CAP-NEW', table_id: '30', items: [{ name: 'Gyoza', quantity: 2 }], total: 7 } })]);
  await expect(board.getByTestId('truncated-store_orders')).toContainText('Showing 7 of 13 open orders');
  await pub([{ type: 'store.order.deleted', store_id: 1, data: { order_id: 'CAP-NEW' } }]);
  await expect(board.getByTestId('truncated-store_orders')).toContainText('Showing 6 of 12 open orders');
  // Orders this window never held leave the hub (deleted, a table's session ended): the total follows
  // at the next re-read (every 10 s), though no row here changed.
  await pub([
    ...['CAP-2', 'CAP-3'].map((order_id) => ({ type: 'store.order.deleted', store_id: 1, data: { order_id } })),
    { type: 'store.session.ended', store_id: 1, data: { table_id: '4' } },
  ]);
  await expect(board.getByTestId('truncated-store_orders')).toContainText('Showing 6 of 9 open orders', { timeout: 20_000 });

  await page.getByTestId('tab-trading').click();
  const trading = view(page, 'trading');
  await expect(trading.getByTestId('truncated-positions')).toContainText('Showing 3 of 4 positions');
  await expect(trading.getByTestId('truncated-trading_orders')).toHaveCount(0);
  await page.getByTestId('tab-mail').click();
  await expect(view(page, 'mail').getByTestId('mail-list').locator(ROWS)).toHaveCount(1);
  await expect(view(page, 'mail').getByTestId('truncated-mail')).toHaveCount(0);
});

test('rows the snapshot left out, fetched while events keep coming: merged, removed with their session, or named when the hub will not give them', async ({ page }) => {
  await hub.restart({ snapshotCaps: { ...SNAPSHOT_CAPS, store_order: 2 } });
  await pub(Array.from({ length: 6 }, (_, i) => sample.storeOrder(1, { data: { order_id: `R-${i}`, table_id: String(i), items: [{ name: 'Udon', quantity: 1 }], total: 8 } })));
  await login(page, hub);
  const board = view(page, 'orders');
  await expect(board.getByTestId('truncated-store_orders')).toContainText('Showing 2 of 6 open orders');

  // 1. The hub's answer is older than what the window applied meanwhile: both are kept, the newer
  //    status and note over the hub's table and items.
  await page.route('**/v1/state/orders?key=*', async (route) => {
    const answer = await route.fetch();
    await pub([{ type: 'store.order.updated', store_id: 1, data: { order_id: 'R-0', status: 'served', note: 'no onion' } }]);
    await expect(board.locator('[data-order="R-0"]')).toContainText('no onion');
    await route.fulfill({ response: answer });
  });
  await pub([{ type: 'store.order.updated', store_id: 1, data: { order_id: 'R-0', status: 'ready' } }]);
  const r0 = board.locator('[data-order="R-0"]');
  await expect(r0).toContainText('Table 0');
  await expect(r0).toContainText('1× Udon');
  await expect(r0).toContainText('no onion');
  await expect(r0.locator('footer')).toContainText('served');
  await page.unroute('**/v1/state/orders?key=*');

  // 2. The table's session ends before the hub is asked: the window could not match the partial
  //    card (it has no table yet), and the hub no longer has the row, so the card goes.
  let asked = false;
  await page.route('**/v1/state/orders?key=*', async (route) => {
    await pub([{ type: 'store.session.ended', store_id: 1, data: { table_id: '1' } }]);
    await route.continue();
    asked = true;
  });
  await pub([{ type: 'store.order.updated', store_id: 1, data: { order_id: 'R-1', status: 'ready' } }]);
  // Only once the window has asked (so it held the partial card) does "no card" mean it was removed.
  await expect.poll(() => asked).toBe(true);
  await expect(board.locator('[data-order="R-1"]')).toHaveCount(0);
  await page.unroute('**/v1/state/orders?key=*');

  // 3. The hub cannot hand the row over: after its retries the window says so instead of passing the
  //    partial card off as whole.
  await page.route('**/v1/state/orders?key=*', (r) => r.fulfill({ status: 503, body: '{"error":{"status":503,"message":"busy"}}' }));
  await pub([{ type: 'store.order.updated', store_id: 1, data: { order_id: 'R-2', status: 'ready' } }]);
  await expect(page.getByTestId('toasts')).toContainText('1 row could not be loaded whole from the hub; reload the window to see it complete');
  await expect(board.locator('[data-order="R-2"]')).toContainText('Takeaway');
});

test('without a session the console asks for a login link instead of failing', async ({ page }) => {
  await page.goto(hub.url + '/');
  await expect(page.getByRole('heading', { name: 'Sign in to RelayDesk' })).toBeVisible();
  await expect(page.getByText('relaydesk login-url')).toBeVisible();
  // A used login link is refused by the hub.
  const link = await api(hub.url, '/v1/tokens', { body: { role: 'subscriber', scope: {} } });
  const url = (await api(hub.url, `/v1/tokens/${link.body.id}/login-url`, { method: 'POST' })).body.url as string;
  await page.goto(url);
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'live');
  const again = await page.request.get(url, { maxRedirects: 0 });
  expect(again.status()).toBe(401);
});
