import { test, expect } from '@playwright/test';
import { publish, type TestHub } from '../helpers/hub.ts';
import { consoleHubPerFile, login, SCREENSHOTS_DIR } from './fixtures.ts';

/**
 * The live view shows an event's tenant (in its scope column) and its topics, and filters by them.
 * With RELAYDESK_SCREENSHOTS=1 it also writes docs/screenshots/live-topics-light.png.
 */
const OUT = SCREENSHOTS_DIR;
const ROWS = '.vbody [role="row"]';

let hub: TestHub;
consoleHubPerFile((h) => (hub = h));

test('live view: tenant and topics of each event, and a topic filter', async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 700 });
  await login(page, hub, 'admin', {}, 'live');
  const live = page.getByTestId('live');
  const table = live.getByTestId('live-table');
  const ward = (n: number) => `https://example.net/wards/${n}`;
  const r = await publish(hub.url, [
    { type: 'x.ward.alarm', tenant_id: 'st-marys', topics: [ward(12), 'alarms'], priority: 'high', data: { bed: 4, level: 'high' } },
    { type: 'x.ward.note', tenant_id: 'st-marys', topics: [ward(12)], data: { text: 'Bed 4 checked' } },
    { type: 'x.ward.note', tenant_id: 'riverside', topics: [ward(3)], data: { text: 'Shift handover' } },
    { type: 'x.deploy.finished', data: { service: 'kitchen-display' } },
    { type: 'store.order.created', store_id: 12, tenant_id: 'riverside', topics: ['https://example.net/stores/12/orders'], data: { order_id: 'R1', items: [{ name: 'Soup', quantity: 1 }], total: 5 } },
  ]);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  await expect(table.locator(ROWS)).toHaveCount(5);
  // Topics as chips (a URI without its scheme and host; the whole topic in the title), the tenant in the scope.
  const alarm = table.locator(ROWS).filter({ hasText: 'x.ward.alarm' });
  await expect(alarm.getByTestId('live-topics')).toHaveAttribute('title', `${ward(12)}\nalarms`);
  await expect(alarm.locator('.chip.topic')).toHaveText(['/wards/12', 'alarms']);
  await expect(alarm).toContainText('tenant st-marys');
  await expect(table.locator(ROWS).filter({ hasText: 'x.deploy.finished' }).locator('.chip.topic')).toHaveCount(0);

  await live.getByTestId('live-scope').selectOption(`topic=${ward(12)}`);
  await expect(table.locator(ROWS)).toHaveCount(2);
  await live.getByTestId('live-scope').selectOption('tenant_id=riverside');
  await expect(table.locator(ROWS)).toHaveCount(2);
  await expect(table).toContainText('Shift handover');
  await live.getByTestId('live-scope').selectOption('');
  await table.locator(ROWS).filter({ hasText: 'x.ward.alarm' }).click();
  await expect(page.getByTestId('inspector')).toContainText('"tenant_id": "st-marys"');
  if (process.env.RELAYDESK_SCREENSHOTS) await page.screenshot({ path: `${OUT}live-topics-light.png` });
  else await page.screenshot({ path: test.info().outputPath('live-topics.png') });
});
