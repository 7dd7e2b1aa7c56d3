import { describe, it, expect, afterAll } from 'vitest';
import { startTestHub, api, publish, allEvents, createToken, type TestHub } from '../helpers/hub.ts';
import { Subscriber } from '../helpers/sse.ts';
import { prng, type Rng } from '../helpers/reliability.ts';
import { KNOWN_TYPES, REQUIRED_KEYS, type KnownType, type PublishEnvelope, type HubEvent } from '../../shared/events.ts';
import { snapshotSchema, statePageSchema, stateFields, stateKinds, stateViews, type ProjectionRow, type StateView } from '../../shared/state.ts';
import { applyEvent, emptyTables, parseData, tablesFromSnapshot, type Change, type Tables } from '../../renderer/stream/projections.ts';
import { stateChangeOf } from '../../shared/state-changes.ts';
import { underCarriedKeys } from '../../shared/state-keys.ts';

/**
 * The hub's projections and the console's reducer apply the same domain rules; this checks that
 * they end with the same rows for random event sequences over every known type, every scope key
 * combination and the awkward ids (numbers that read as the same string id, a table called
 * "undefined", a mail sync without an account). Seeded, so a failure reproduces from its seed.
 */

type Data = Record<string, unknown>;
type Gen = (r: Rng) => Data;

// Small pools so later events keep hitting the rows earlier ones wrote.
const ORDER_IDS = [1, '1', 'A-2', 'x/3'];
const TABLES = ['T1', 2, 'undefined', 'Terrace 4'];
const STORE_STATUSES = ['pending', 'accepted', 'preparing', 'ready', 'served', 'completed', 'cancelled'];
const TRADING_STATUSES = ['NEW', 'OPEN', 'PARTIALLY_FILLED', 'FILLED', 'CANCELLED'];
const account = { account_id: 1, name: 'Main', exchange: 'BINANCE' };
const maybe = (r: Rng, d: Data): Data => Object.fromEntries(Object.entries(d).filter(() => r.chance(0.5)));

const tradingOrder: Gen = (r) => ({
  order_id: r.pick(ORDER_IDS),
  symbol: r.pick(['BTC/USDT', 'ETH/USDT']),
  side: r.pick(['BUY', 'SELL']),
  order_type: r.pick(['LIMIT', 'MARKET']),
  quantity: r.int(5) + 1,
  status: r.pick(TRADING_STATUSES),
  account,
  ...maybe(r, { price: 100 + r.int(10), filled_quantity: r.int(3) }),
});
const position: Gen = (r) => ({ position_id: r.pick(['p-1', 2, 'p-3']), symbol: 'ETH/USDT', quantity: r.int(4), entry_price: 3100, account, ...maybe(r, { unrealized_pnl: r.int(50) - 25 }) });
const sync = (extra: Gen): Gen => (r) => ({ ...r.pick([{}, { account: 'desk@example.com' }, { connection_id: 4 }, { account: 'ops@example.com' }]), ...extra(r) });
const jobId = (r: Rng) => r.pick(['j-1', 2, 'j-3']);
const swapId = (r: Rng) => r.pick(['s-1', 2]);
const callId = (r: Rng) => r.pick(['c-1', 2]);

/**
 * Schema-valid data for every known type. A Record over KnownType: a type added to a domain does not
 * compile here until it has a generator, so the parity check always covers every type.
 */
const GENERATORS: Record<KnownType, Gen | 'hub-written'> = {
  'store.order.created': (r) => ({
    order_id: r.pick(ORDER_IDS),
    items: [{ name: 'Ramen', quantity: r.int(3) + 1, price: 9 }],
    total: 9,
    ...maybe(r, { table_id: r.pick(TABLES), status: r.pick(STORE_STATUSES), note: 'no onions' }),
  }),
  'store.order.updated': (r) => ({ order_id: r.pick(ORDER_IDS), status: r.pick(STORE_STATUSES), ...maybe(r, { table_id: r.pick(TABLES) }) }),
  'store.order.deleted': (r) => ({ order_id: r.pick(ORDER_IDS), ...maybe(r, { reason: 'guest left' }) }),
  'store.session.ended': (r) => ({ table_id: r.pick(TABLES) }),
  'trading.order.created': tradingOrder,
  'trading.order.updated': tradingOrder,
  'trading.order.filled': tradingOrder,
  'trading.order.cancelled': tradingOrder,
  'trading.order.batch': (r) => ({ summaries: [{ order_type: 'LIMIT', created: r.int(5) }] }),
  'trading.position.created': position,
  'trading.position.updated': position,
  'trading.position.closed': position,
  'mail.email.new': (r) => ({ email_id: r.pick(['e-1', 2, 'e-3']), from: 'kim@example.com', subject: `s${r.int(100)}`, ...maybe(r, { folder: 'Archive', snippet: 'hi' }) }),
  'mail.email.classified': (r) => ({ email_id: r.pick(['e-1', 2, 'e-3']), category: r.pick(['support', 'spam']), priority: r.pick(['low', 'high']), ...maybe(r, { summary: 'late' }) }),
  'mail.email.updated': (r) => ({ email_id: r.pick(['e-1', 2, 'e-3']), ...maybe(r, { read: r.chance(0.5), starred: true, deleted: r.chance(0.5) }) }),
  'mail.sync.started': sync(() => ({})),
  'mail.sync.completed': sync((r) => maybe(r, { new_count: r.int(9), duration_ms: 120 })),
  'mail.sync.error': sync((r) => ({ error: 'IMAP login failed', ...maybe(r, { retry_in_s: 30 }) })),
  'action.requested': 'hub-written',
  'action.accepted': (r) => ({ action_id: `a-${r.int(5)}` }),
  'action.rejected': (r) => ({ action_id: `a-${r.int(5)}`, reason: 'busy' }),
  'action.completed': (r) => ({ action_id: `a-${r.int(5)}` }),
  'action.failed': (r) => ({ action_id: `a-${r.int(5)}`, error: 'timeout' }),
  'action.timed_out': 'hub-written',
  'job.queued': (r) => ({ job_id: jobId(r), ...maybe(r, { title: 'Draft', attempt: r.int(3) + 1 }) }),
  'job.progress': (r) => ({ job_id: jobId(r), progress: r.int(101), stage: 'drafting' }),
  'job.completed': (r) => ({ job_id: jobId(r), ...maybe(r, { result: { url: 'https://example.com/x' } }) }),
  'job.failed': (r) => ({ job_id: jobId(r), error: 'rate limited', retryable: r.chance(0.5) }),
  'job.cancelled': (r) => ({ job_id: jobId(r) }),
  'schedule.published': (r) => ({ schedule_id: r.pick(['icu-1', 2]), ward_id: 'icu', period_start: '2026-12-07', period_end: '2026-12-20', ...maybe(r, { version: r.int(3) + 1 }) }),
  'schedule.updated': (r) => ({ schedule_id: r.pick(['icu-1', 2]), ward_id: 'icu', version: r.int(5) + 1, changes: 'Kim moves to Wednesday' }),
  'schedule.swap.requested': (r) => ({ swap_id: swapId(r), ward_id: 'icu', requester: { user_id: 'n1', name: 'Kim' }, shift: { date: '2026-12-24', start: '23:00', end: '07:00' }, ...maybe(r, { reason: 'exam' }) }),
  'schedule.swap.approved': (r) => ({ swap_id: swapId(r), ...maybe(r, { approved_by: 'Oh' }) }),
  'schedule.swap.rejected': (r) => ({ swap_id: swapId(r), reason: 'short-staffed' }),
  'schedule.shift.reminder': () => ({ shift_id: 'sh-1', ward_id: 'icu', starts_at: '2026-12-24T23:00:00+09:00' }),
  'schedule.emergency.called': (r) => ({ call_id: callId(r), ward_id: 'er', message: 'two off sick', ...maybe(r, { needed: r.int(3) + 1 }) }),
  'schedule.emergency.accepted': (r) => ({ call_id: callId(r), accepted_by: 'Park', remaining: r.int(3) }),
  'schedule.emergency.closed': (r) => ({ call_id: callId(r), ...maybe(r, { reason: 'covered' }) }),
  'mercure.update': 'hub-written',
};

function randomEvent(r: Rng, i: number, buttons: Rng): PublishEnvelope {
  const publishable = KNOWN_TYPES.filter((t) => GENERATORS[t] !== 'hub-written');
  const type = r.pick(publishable);
  const data = (GENERATORS[type] as Gen)(r);
  const need = REQUIRED_KEYS[type.split('.')[0]!] ?? [];
  const keys: Partial<Record<'store_id' | 'user_id' | 'strategy_id' | 'tenant_id', string | number>> = {};
  // Every scope key combination the domain allows: required keys always, the others now and then.
  if (need.includes('store_id') || r.chance(0.3)) keys.store_id = r.pick(['12', 13]);
  if (need.includes('user_id') || r.chance(0.3)) keys.user_id = r.pick(['7', '8']);
  if (need.includes('strategy_id') || r.chance(0.3)) keys.strategy_id = r.pick([1, '2']);
  if (need.includes('tenant_id') || r.chance(0.2)) keys.tenant_id = r.pick(['h1', 'h2']);
  // Some events say when they happened, the rest take the hub's receive time.
  const time = r.chance(0.5) ? { time: new Date(Date.UTC(2026, 11, 2, 10, 0, i)).toISOString() } : {};
  return { type, data, ...keys, ...time, ...attached(buttons, i) };
}

/**
 * Buttons on some events (and an empty list now and then, which attaches none), so rows gain, swap
 * and lose their attached actions as later events change them; a few carry topics, which the row's
 * actions keep for the request.
 */
function attached(r: Rng, i: number): Pick<PublishEnvelope, 'actions' | 'topics'> {
  const roll = r.int(10);
  if (roll < 6) return {};
  if (roll === 6) return { actions: [] };
  const retry = { id: 'job.retry', label: 'Retry', style: 'primary' as const, params: { attempt: i } };
  const actions = r.pick([[retry], [retry, { id: 'job.discard', label: 'Discard', style: 'danger' as const, confirm: 'Drop it for good?' }], [{ id: 'x.ack', label: 'Ack' }]]);
  return { actions, ...(r.chance(0.3) ? { topics: [`https://example.net/things/${i % 3}`] } : {}) };
}

async function hubRows(t: TestHub, token?: string): Promise<Map<string, ProjectionRow>> {
  const rows = new Map<string, ProjectionRow>();
  for (const view of Object.keys(stateViews) as StateView[]) {
    const r = await api(t.url, `/v1/state/${view}?limit=5000`, { token });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const page = statePageSchema.parse(r.body);
    expect(page.next_cursor).toBeNull();
    for (const kind of stateViews[view]) for (const row of page[stateFields[kind]] ?? []) rows.set(`${kind} ${row.key}`, row);
  }
  return rows;
}

const tableRows = (tables: Tables) => new Map<string, ProjectionRow>(stateKinds.flatMap((kind) => [...tables[kind].values()].map((row) => [`${kind} ${row.key}`, row] as const)));
const sorted = (m: Map<string, ProjectionRow>) => new Map([...m].sort(([a], [b]) => (a < b ? -1 : 1)));

function replay(tables: Tables, events: HubEvent[]): void {
  const out: Change[] = [];
  for (const ev of events) {
    const d = parseData(ev);
    expect(d, `${ev.type} #${ev.seq} as delivered parses`).not.toBeNull();
    applyEvent(tables, ev, d!, out);
  }
}

let t: TestHub | undefined;
afterAll(async () => {
  await t?.stop();
});

describe('hub state and the console reducer agree on random event sequences', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`seed ${seed}: GET /v1/state equals the reducer fed GET /v1/events, from empty, from a mid-way snapshot and in a scope`, async () => {
      await t?.stop();
      t = await startTestHub();
      const r = prng(seed);
      // Buttons come from a second stream, so each seed's events (types, keys, data) stay those it always made.
      const buttons = prng(seed + 1_000);
      const events = Array.from({ length: 300 }, (_, i) => randomEvent(r, i, buttons));
      let mid: Tables | undefined;
      let midSeq = 0;
      for (let i = 0; i < events.length; ) {
        const n = 1 + r.int(25);
        const res = await publish(t.url, events.slice(i, i + n));
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        i += n;
        // A console that opens half-way: the snapshot, then the events after it.
        if (!mid && i >= events.length / 2) {
          const sub = new Subscriber(t.url, { snapshot: '1' });
          try {
            const snap = snapshotSchema.parse((await sub.waitFor('initial')).data);
            mid = tablesFromSnapshot(snap);
            midSeq = snap.seq;
          } finally {
            sub.close();
          }
        }
      }
      const log = await allEvents(t.url);
      expect(new Set(log.map((e) => e.type)).size, 'the sequence covers most publishable types').toBeGreaterThan(20);

      const hub = sorted(await hubRows(t));
      expect(hub.size).toBeGreaterThan(10);
      // Some rows end with the buttons of their last change, and some lost those of an earlier one.
      const withActions = [...hub.values()].filter((row) => row.actions);
      expect(withActions.length).toBeGreaterThan(0);
      expect(withActions.length).toBeLessThan(hub.size);
      for (const row of withActions) {
        const ev = log.find((e) => e.seq === row.actions!.seq)!;
        expect(row.actions, `row ${row.key}: the buttons of the event that last changed it`).toEqual({ seq: row.seq, id: ev.id, type: ev.type, ...(ev.topics ? { topics: ev.topics } : {}), items: ev.actions });
      }
      const rowOf = (e: HubEvent) => {
        const c = stateChangeOf(e, parseData(e)!);
        return c && (c.op === 'create' || c.op === 'patch') ? `${c.kind} ${c.key}` : null;
      };
      const lostActions = [...hub].filter(([k, row]) => !row.actions && log.some((e) => e.seq < row.seq && e.actions?.length && rowOf(e) === k));
      expect(lostActions.length, 'rows whose later change cleared the buttons of an earlier one').toBeGreaterThan(0);

      const fromEmpty = emptyTables();
      replay(fromEmpty, log);
      expect(sorted(tableRows(fromEmpty))).toEqual(hub);

      replay(mid!, log.filter((e) => e.seq > midSeq));
      expect(sorted(tableRows(mid!))).toEqual(hub);

      // A scoped console: the events its token may read, reduced, are the state its token may read,
      // with one known gap. A session end written under fewer keys (store 12 alone) also ends the
      // orders of user 7 at that table, but a user-7 token cannot read an event without user 7, so
      // its console keeps those orders until its next snapshot. Every other row must be the hub's.
      const user7 = await createToken(t.url, 'subscriber', { user_id: '7' });
      const scopedLog = await allEvents(t.url, user7);
      const scoped = emptyTables();
      replay(scoped, scopedLog);
      const scopedHub = sorted(await hubRows(t, user7));
      expect(scopedHub.size).toBeGreaterThan(0);
      expect(scopedHub.size).toBeLessThan(hub.size);
      const mine = tableRows(scoped);
      for (const [k, row] of scopedHub) expect(mine.get(k), k).toEqual(row);
      const readable = new Set(scopedLog.map((e) => e.seq));
      const unseenEnds = log.flatMap((e) => {
        const c = readable.has(e.seq) ? null : stateChangeOf(e, parseData(e)!);
        return c?.op === 'end_session' ? [{ seq: e.seq, c }] : [];
      });
      for (const [k, row] of mine)
        if (!scopedHub.has(k))
          expect(
            unseenEnds.some(({ seq, c }) => k.startsWith(`${c.kind} `) && seq > row.seq && underCarriedKeys(c.carried, row) && row.data[c.field] === c.value),
            `${k} is only missing at the hub because of a session end the token cannot read`,
          ).toBe(true);
    });
  }
});
