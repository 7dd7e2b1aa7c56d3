/**
 * UI throughput: how many events/s the console renders while staying responsive.
 *
 *   npx vite build && node bin/run-ts.js bench/ui-throughput.ts [--seconds 60] [--rate 1000] [--view live]
 *
 * A real hub in its own process, real Debian Chromium driven by Playwright, a publisher sending
 * `rate` events/s in 10 batches a second (mixed store, trading and mail, with bounded id spaces so
 * state stays bounded like a real desk). Measured inside the page: long tasks (PerformanceObserver),
 * frame times (rAF deltas), JS heap after a forced GC (CDP) at start, middle and end; and how far the
 * window lags behind the hub's head at the end. Results go to stdout and bench/out/ui-throughput.json.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { spawnHub, BENCH_ADMIN } from './lib/hub-process.ts';
import { post } from './lib/publisher.ts';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
};
const SECONDS = Number(arg('seconds', '60'));
const RATE = Number(arg('rate', '1000'));
const VIEW = arg('view', 'live');
const TICKS_PER_S = 10;
const RENDERER = fileURLToPath(new URL('../dist/renderer/index.html', import.meta.url));
if (!existsSync(RENDERER)) throw new Error('build the console first: npx vite build');

const syms = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'XRP/USDT'];
let n = 0;
/** One event; ids cycle so tables stay bounded (updates, not endless inserts). */
function event(): unknown {
  const i = n++;
  const k = i % 10;
  if (k < 4) {
    const id = `S${i % 300}`;
    return i % 3 === 0
      ? { type: 'store.order.created', store_id: 1 + (i % 3), data: { order_id: id, table_id: String(i % 40), items: [{ name: 'Bibimbap', quantity: 1 + (i % 3) }], total: 12 } }
      : { type: 'store.order.updated', store_id: 1 + (i % 3), data: { order_id: id, status: ['accepted', 'preparing', 'ready', 'served'][i % 4] } };
  }
  if (k < 8)
    return {
      type: 'trading.order.updated',
      user_id: 'u1',
      strategy_id: 1 + (i % 5),
      data: { order_id: `T${i % 2000}`, symbol: syms[i % 4], side: i % 2 ? 'SELL' : 'BUY', order_type: 'LIMIT', quantity: 1, price: 100 + (i % 50), status: 'OPEN', account: { account_id: 1, name: 'Main', exchange: 'BINANCE' }, suppress_toast: true },
    };
  return { type: 'mail.email.new', user_id: 'u1', priority: i % 500 === 0 ? 'high' : 'normal', data: { email_id: `M${i % 1000}`, from: 'x@example.com', subject: `Message ${i}`, snippet: 'hello', folder: 'INBOX' } };
}

const hub = await spawnHub();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-precise-memory-info'],
});
try {
  const auth = { authorization: `Bearer ${BENCH_ADMIN}`, 'content-type': 'application/json' };
  const tok = await (await fetch(`${hub.url}/v1/tokens`, { method: 'POST', headers: auth, body: JSON.stringify({ role: 'admin', label: 'ui bench' }) })).json();
  const link = await (await fetch(`${hub.url}/v1/tokens/${tok.id}/login-url`, { method: 'POST', headers: { authorization: auth.authorization } })).json();

  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  // A string, not a function: tsx compiles functions with esbuild's __name helper, absent in the page.
  await page.addInitScript(`
    window.__bench = { longTasks: [], frames: [] };
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__bench.longTasks.push([e.startTime, e.duration]); })
      .observe({ type: 'longtask', buffered: true });
    let last = performance.now();
    const frame = (t) => { window.__bench.frames.push(t - last); last = t; requestAnimationFrame(frame); };
    requestAnimationFrame(frame);
  `);
  await page.goto(link.url);
  await page.getByTestId(`tab-${VIEW}`).click();
  await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
  const cdp = await page.context().newCDPSession(page);
  // The forced GC is our own measurement, and it blocks the page: long tasks during it are not counted.
  const gcWindows: [number, number][] = [];
  const heapMB = async () => {
    const from = await page.evaluate('performance.now()') as number;
    await cdp.send('HeapProfiler.collectGarbage');
    const h = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
    gcWindows.push([from, (await page.evaluate('performance.now()')) as number]);
    return h.usedSize / 1e6;
  };
  const notOurs = (t: [number, number]) => !gcWindows.some(([a, b]) => t[0] < b && t[0] + t[1] > a);
  const inPage = () =>
    page.evaluate(() => {
      const w = window as unknown as { __bench: { longTasks: [number, number][]; frames: number[] }; __relaydesk: { received: number; events: { seq: number }[] } };
      const b = w.__bench;
      const out = { longTasks: b.longTasks.splice(0), frames: b.frames.splice(0), received: w.__relaydesk.received, lastSeq: w.__relaydesk.events.at(-1)?.seq ?? 0 };
      return out;
    });

  // Warm-up: fill the state and the live buffer, then reset the counters.
  const send = async (count: number) => {
    const batch = Array.from({ length: count }, event);
    const status = await post(hub.url, '/v1/events', JSON.stringify(batch));
    if (status !== 201) throw new Error(`publish failed: ${status}`);
  };
  for (let i = 0; i < 20; i++) await send(500);
  await page.waitForTimeout(2_000);
  await inPage();
  const heapStart = await heapMB();
  const startReceived = (await inPage()).received;

  const perTick = Math.round(RATE / TICKS_PER_S);
  const longTasks: [number, number][] = [];
  const frames: number[] = [];
  const perSecond: number[] = [];
  let heapMid = 0;
  let lastReceived = startReceived;
  const t0 = Date.now();
  let published = 0;
  for (let tick = 0; tick < SECONDS * TICKS_PER_S; tick++) {
    // Paced against the wall clock so a slow tick does not lower the offered rate.
    const due = t0 + (tick * 1000) / TICKS_PER_S;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await send(perTick);
    published += perTick;
    if (tick % TICKS_PER_S === TICKS_PER_S - 1) {
      const s = await inPage();
      longTasks.push(...s.longTasks);
      frames.push(...s.frames);
      perSecond.push(s.received - lastReceived);
      lastReceived = s.received;
    }
    if (tick === (SECONDS * TICKS_PER_S) / 2) heapMid = await heapMB();
  }
  const elapsed = (Date.now() - t0) / 1000;
  // The global head is an admin's figure (/healthz does not tell it to anyone).
  const head = (await (await fetch(`${hub.url}/v1/stats`, { headers: { authorization: auth.authorization } })).json()).head_seq as number;
  const atEnd = await inPage();
  longTasks.push(...atEnd.longTasks);
  frames.push(...atEnd.frames);
  // How long until the window holds the hub's head (catch-up after the load stops).
  const catchUpStart = Date.now();
  let caughtUp = atEnd.lastSeq >= head;
  while (!caughtUp && Date.now() - catchUpStart < 30_000) {
    await page.waitForTimeout(50);
    caughtUp = (await inPage()).lastSeq >= head;
  }
  const catchUpMs = Date.now() - catchUpStart;
  const heapEnd = await heapMB();
  const received = (await inPage()).received - startReceived;

  const tasks = longTasks.filter(notOurs).map((t) => t[1]);
  const sorted = [...frames].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  const result = {
    view: VIEW,
    seconds: SECONDS,
    offered_per_s: RATE,
    published,
    published_per_s: Math.round(published / elapsed),
    rendered_per_s: Math.round(received / (elapsed + catchUpMs / 1000)),
    rendered_per_s_min_1s_window: Math.min(...perSecond),
    lag_at_end_events: Math.max(0, head - atEnd.lastSeq),
    catch_up_ms: caughtUp ? catchUpMs : null,
    long_tasks: {
      count: tasks.length,
      over_100ms: tasks.filter((d) => d > 100).length,
      max_ms: Math.round(Math.max(0, ...tasks)),
      during_forced_gc_excluded: longTasks.length - tasks.length,
    },
    frames: { count: frames.length, p50_ms: +pct(50).toFixed(1), p95_ms: +pct(95).toFixed(1), p99_ms: +pct(99).toFixed(1), max_ms: +(sorted.at(-1) ?? 0).toFixed(1) },
    heap_mb: { start: +heapStart.toFixed(1), mid: +heapMid.toFixed(1), end: +heapEnd.toFixed(1) },
    hub_rss_mb: Math.round(hub.rssMB()),
  };
  console.log(JSON.stringify(result, null, 2));
  const out = fileURLToPath(new URL('./out/', import.meta.url));
  mkdirSync(out, { recursive: true });
  writeFileSync(`${out}ui-throughput-${VIEW}.json`, JSON.stringify({ ...result, at: new Date().toISOString() }, null, 2));
} finally {
  await browser.close();
  await hub.stop();
}
