/**
 * Demo publishers: a restaurant (store 12), a trading bot (user 1, strategies 1 and 2) and a mailbox
 * (user 1). They publish through the public HTTP API with the publisher client, like any backend,
 * using a publisher token created with the admin token. `relaydesk serve --demo` runs them.
 * The restaurant is also a backend that acts: it registers a webhook endpoint for `action.requested`
 * in its store and answers operators' `order.status` actions (accepted, the order's update, completed,
 * or rejected with the reason); the trading bot answers `trading.order.cancel` and the mailbox
 * `mail.mark_read` and `mail.star` the same way. An AI script generator's worker (user 1) reports
 * its jobs' progress and outcomes, attaches a Retry button to retryable failures and answers it. A hospital's shift scheduler publishes schedules, swap requests,
 * reminders and emergency calls, and answers the ward manager's `schedule.swap.approve|reject` and
 * `schedule.emergency.accept` actions by webhook.
 */
import { Publisher, hubFetch, type PublisherStats } from '../client/index.ts';
import type { TokenInfo } from '../../shared/api.ts';
import { Runtime, seeded, type DemoLog } from './runtime.ts';
import { DEMO_STORE_ID, startStore } from './store.ts';
import { startReceiver, type Receiver } from './receiver.ts';
import type { HubEvent } from '../../shared/events.ts';
import type { TokenScope } from '../../shared/scope.ts';
import { DEMO_TRADING_USER, startTrading } from './trading.ts';
import { DEMO_MAIL_USER, startMail } from './mail.ts';
import { DEMO_JOBS_USER, startJobs } from './jobs.ts';
import { DEMO_TENANT, startSchedule } from './schedule.ts';

export { DEMO_STORE_ID } from './store.ts';
export { DEMO_TRADING_USER, DEMO_STRATEGIES } from './trading.ts';
export { DEMO_MAIL_USER, DEMO_MAIL_ACCOUNT } from './mail.ts';
export { DEMO_JOBS_USER } from './jobs.ts';
export { DEMO_TENANT } from './schedule.ts';

export type DemoDomain = 'store' | 'trading' | 'mail' | 'jobs' | 'schedule';

export interface DemoOptions {
  url: string;
  adminToken: string;
  /** Speed multiplier: 1 is a few events per second in total; 10 is ten times as busy. */
  rate?: number;
  /** Seed for reproducible runs (default: random). */
  seed?: number;
  domains?: DemoDomain[];
  log?: DemoLog;
}

export interface Demo {
  tokenId: string;
  /** The store backend's webhook receiver (when the store runs and its endpoint could be registered). */
  receiver?: { url: string; endpointId: string };
  /** The trading bot's receiver, answering `trading.order.cancel`. */
  tradingReceiver?: { url: string; endpointId: string };
  /** The mailbox's receiver, answering `mail.mark_read` and `mail.star`. */
  mailReceiver?: { url: string; endpointId: string };
  /** The script worker's receiver, answering the `job.retry` it attaches to retryable failures. */
  jobsReceiver?: { url: string; endpointId: string };
  /** The shift scheduler's receiver, answering swap decisions and accepted emergency calls. */
  scheduleReceiver?: { url: string; endpointId: string };
  stats(): PublisherStats & { published: number; failed: number };
  /** Stop the simulators, drain what is buffered, and revoke the demo's token. */
  stop(): Promise<void>;
}

const quiet: DemoLog = { info: () => {}, warn: () => {} };

export async function startDemo(o: DemoOptions): Promise<Demo> {
  const rate = o.rate ?? 1;
  if (!(rate > 0 && rate <= 1000)) throw new Error(`demo rate must be in (0, 1000], got ${rate}`);
  const log = o.log ?? quiet;
  const admin = { url: o.url, token: o.adminToken, timeoutMs: 10_000 };
  const created = await hubFetch<TokenInfo & { token: string }>(admin, 'POST', '/v1/tokens', { role: 'publisher', label: 'demo publishers', scope: {} });
  const client = new Publisher({
    url: o.url,
    token: created.token,
    idPrefix: 'demo',
    lingerMs: 25,
    retry: { initialMs: 200, maxMs: 5_000 },
    onRetry: ({ attempt, error }) => attempt === 1 && log.warn(`demo: publish failed (${error.message}); retrying`),
  });
  const rt = new Runtime(client, rate, o.seed === undefined ? Math.random : seeded(o.seed), log);
  const domains = new Set(o.domains ?? ['store', 'trading', 'mail', 'jobs', 'schedule']);
  // Every simulator starts before anything is awaited, so a seeded run draws the same numbers in the
  // same order whatever the webhook registration below costs.
  const store = domains.has('store') ? startStore(rt) : undefined;
  const trading = domains.has('trading') ? startTrading(rt) : undefined;
  const mail = domains.has('mail') ? startMail(rt) : undefined;
  const jobs = domains.has('jobs') ? startJobs(rt) : undefined;
  const schedule = domains.has('schedule') ? startSchedule(rt) : undefined;
  const register = async (what: string, scope: TokenScope, handle: (ev: HubEvent) => void, types = ['action.requested']): Promise<Receiver | undefined> => {
    try {
      const r = await startReceiver({ admin, types, scope, description: `relaydesk demo ${what} backend`, handle, log });
      log.info(`demo: the ${what} backend answers actions at ${r.url} (webhook ${r.endpointId})`);
      return r;
    } catch (err) {
      // The events still flow; only operators' actions on this backend go unanswered (and time out).
      log.warn(`demo: could not register the ${what} backend's webhook (${(err as Error).message}); actions will not be answered`);
      return undefined;
    }
  };
  const receiver = store && (await register('store', { store_ids: [DEMO_STORE_ID] }, (ev) => ev.type === 'action.requested' && store.handleAction(ev)));
  const tradingReceiver = trading && (await register('trading', { user_id: DEMO_TRADING_USER }, (ev) => ev.type === 'action.requested' && trading.handleAction(ev)));
  // The same user as the trading bot: each backend answers only its own requests (see handleAction).
  const mailReceiver = mail && (await register('mail', { user_id: DEMO_MAIL_USER }, (ev) => ev.type === 'action.requested' && mail.handleAction(ev)));
  // The script worker answers the Retry it attaches to its failures (same user again).
  const jobsReceiver = jobs && (await register('jobs', { user_id: DEMO_JOBS_USER }, (ev) => ev.type === 'action.requested' && jobs.handleAction(ev)));
  // The scheduler also hears of swap requests and emergency calls, which the staff app and the wards raise.
  const scheduleReceiver = schedule && (await register('scheduler', { tenant_id: DEMO_TENANT }, (ev) => schedule.handle(ev), ['action.requested', 'schedule.swap.requested', 'schedule.emergency.called']));
  log.info(`demo: publishing ${[...domains].join(', ')} events at ${rate}x as token ${created.id}`);

  let stopping: Promise<void> | undefined;
  return {
    tokenId: created.id,
    ...(receiver ? { receiver: { url: receiver.url, endpointId: receiver.endpointId } } : {}),
    ...(tradingReceiver ? { tradingReceiver: { url: tradingReceiver.url, endpointId: tradingReceiver.endpointId } } : {}),
    ...(mailReceiver ? { mailReceiver: { url: mailReceiver.url, endpointId: mailReceiver.endpointId } } : {}),
    ...(jobsReceiver ? { jobsReceiver: { url: jobsReceiver.url, endpointId: jobsReceiver.endpointId } } : {}),
    ...(scheduleReceiver ? { scheduleReceiver: { url: scheduleReceiver.url, endpointId: scheduleReceiver.endpointId } } : {}),
    stats: () => ({ ...client.stats(), published: rt.published, failed: rt.failed }),
    stop: () =>
      (stopping ??= (async () => {
        // The endpoint goes first, so no action is delivered to a backend that can no longer answer it.
        await Promise.all([receiver?.stop(), tradingReceiver?.stop(), mailReceiver?.stop(), jobsReceiver?.stop(), scheduleReceiver?.stop()]);
        rt.stop();
        const { unsent } = await client.close(5_000);
        if (unsent) log.warn(`demo: ${unsent} event(s) not delivered at stop`);
        await hubFetch(admin, 'DELETE', `/v1/tokens/${created.id}`).catch(() => {});
        log.info(`demo: stopped after ${rt.published} events`);
      })()),
  };
}
