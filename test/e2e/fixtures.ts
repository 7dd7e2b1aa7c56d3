import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test, expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { api, startTestHub, type TestHub } from '../helpers/hub.ts';

export const RENDERER_DIR = fileURLToPath(new URL('../../dist/renderer', import.meta.url));

/** A real hub serving the built console bundle. Build first: `npx vite build`. */
export async function startConsoleHub(): Promise<TestHub> {
  if (!existsSync(`${RENDERER_DIR}/index.html`)) throw new Error(`no console bundle at ${RENDERER_DIR}; run \`npx vite build\` first`);
  // Short heartbeats so the indicator and the dead-connection watchdog are exercised quickly.
  return startTestHub({ rendererDir: RENDERER_DIR, heartbeatMs: 1_000, retryMs: 500 });
}

/**
 * Sign a browser in the way a user does: mint a token, ask the hub for its one-time login URL, open
 * it (the hub sets the HttpOnly cookie and redirects to `/`). Returns the token id.
 */
export async function login(page: Page, hub: TestHub, role: 'admin' | 'subscriber' | 'operator' = 'admin', scope: Record<string, unknown> = {}, view = 'orders'): Promise<string> {
  const created = await api(hub.url, '/v1/tokens', { body: { role, scope, label: `e2e ${role}` } });
  if (created.status !== 201) throw new Error(`token create failed: ${created.status} ${JSON.stringify(created.body)}`);
  const id = created.body.id as string;
  await signIn(page, hub, id, view);
  return id;
}

/** Open a one-time login link of an existing token in `page`, go to `view` and wait until it is live. */
export async function signIn(page: Page, hub: TestHub, tokenId: string, view = 'orders'): Promise<void> {
  const link = await api(hub.url, `/v1/tokens/${tokenId}/login-url`, { method: 'POST' });
  if (link.status !== 201) throw new Error(`login-url failed: ${link.status} ${JSON.stringify(link.body)}`);
  await page.goto(link.body.url as string);
  await page.waitForURL((u) => !u.pathname.startsWith('/auth/'));
  if (view !== 'orders') await page.getByTestId(`tab-${view}`).click();
  await page.getByTestId('connection').and(page.locator('[data-state="live"]')).waitFor();
}

/**
 * Another window of the same user: a separate browser context (its own cookies, like another device)
 * signed in with a login link of the same token. Close `context` when done.
 */
export async function anotherWindow(browser: Browser, hub: TestHub, tokenId: string, view = 'orders'): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, hub, tokenId, view);
  return { context, page };
}

/** Where the documentation's screenshots live (written only when RELAYDESK_SCREENSHOTS is set). */
export const SCREENSHOTS_DIR = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

/** The file's tests only regenerate docs/screenshots: skipped unless asked for. */
export function screenshotsOnly(): void {
  test.skip(!process.env.RELAYDESK_SCREENSHOTS, 'set RELAYDESK_SCREENSHOTS=1 to regenerate docs/screenshots');
}

/** One console hub shared by the tests of the file, handed over through `set`. */
export function consoleHubPerFile(set: (hub: TestHub) => void): void {
  let hub: TestHub | undefined;
  test.beforeAll(async () => {
    hub = await startConsoleHub();
    set(hub);
  });
  test.afterAll(async () => {
    await hub?.stop();
  });
}

/**
 * A fresh console hub for every test of the file, handed over through `set`. Uncaught exceptions in
 * the page fail the test whatever it asserts. `beforeStop` runs first at the end (a demo publishing
 * into the hub must stop before the hub does).
 */
export function consoleHubPerTest(set: (hub: TestHub) => void, beforeStop?: () => Promise<void>): void {
  let hub: TestHub | undefined;
  let pageErrors: string[] = [];
  test.beforeEach(async ({ page }) => {
    hub = await startConsoleHub();
    set(hub);
    pageErrors = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });
  test.afterEach(async () => {
    await beforeStop?.();
    await hub?.stop();
    expect(pageErrors, 'uncaught errors in the page').toEqual([]);
  });
}
