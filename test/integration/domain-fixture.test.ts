import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestHub, api, publish, allEvents, type TestHub } from '../helpers/hub.ts';
import { Subscriber } from '../helpers/sse.ts';
import { shift } from '../fixtures/domains/shift.ts';
import { builtinRegistry } from '../../shared/domains/index.ts';
import { snapshotSchemaOf, statePageSchemaOf, type ProjectionRow } from '../../shared/state.ts';
import { inboxPageSchema } from '../../shared/inbox.ts';
import { applyEvent, emptyTables, parseData, type Change } from '../../renderer/stream/projections.ts';
import { toastFor } from '../../renderer/notify/toast-queue.ts';
import { describeEvent } from '../../renderer/stream/describe.ts';
import { summarize } from '../../electron/cli/tail.ts';

/**
 * A domain declared in one file (test/fixtures/domains/shift.ts) and given to a hub at start is
 * validated, projected, summarized and alerted on like the built-in ones, with nothing else changed;
 * a second hub in the same process, started without it, knows nothing of it.
 */
let t: TestHub;
let plain: TestHub;
const registry = builtinRegistry.with(shift);
beforeAll(async () => {
  t = await startTestHub({ domains: [shift] });
  plain = await startTestHub();
});
afterAll(async () => {
  await t.stop();
  await plain.stop();
});

const request = { type: 'shift.swap.requested', store_id: 12, data: { swap_id: 7, from: 'Kim', to: 'Lee', day: '2026-12-05' } };

describe('a domain registered at start', () => {
  it('is validated: its schemas, its required scope keys and its list of types', async () => {
    const noStore = await publish(t.url, { ...request, store_id: undefined });
    expect(noStore.status).toBe(422);
    expect(noStore.body.error.fields).toEqual([{ path: 'store_id', reason: 'required for shift.* events' }]);
    const badDay = await publish(t.url, { ...request, data: { ...request.data, day: 'Friday' } });
    expect(badDay.status).toBe(422);
    expect(badDay.body.error.fields[0].path).toBe('data.day');
    const unknown = await publish(t.url, { ...request, type: 'shift.swap.lost' });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.fields[0]).toEqual({
      path: 'type',
      reason: 'unknown shift event type; known: shift.swap.requested, shift.swap.approved, shift.swap.withdrawn, shift.roster.published',
    });
  });

  it('is projected into its own state kind, paged by its view and sent in snapshots; the console reducer agrees', async () => {
    const r = await publish(t.url, [
      request,
      { type: 'shift.swap.requested', store_id: 12, data: { swap_id: 'gone', from: 'Ana', to: 'Bo', day: '2026-12-06' } },
      { type: 'shift.swap.approved', store_id: 12, data: { swap_id: '7', by: 'manager' } },
      { type: 'shift.swap.withdrawn', store_id: 12, data: { swap_id: 'gone' } },
      { type: 'shift.roster.published', store_id: 12, data: { week: '2026-W50' } },
      { type: 'store.order.created', store_id: 12, data: { order_id: 1, items: [{ name: 'Tea', quantity: 1 }], total: 3 } },
    ]);
    expect(r.status, JSON.stringify(r.body)).toBe(201);

    const page = statePageSchemaOf(registry).parse((await api(t.url, '/v1/state/shifts')).body);
    const swaps = page.shift_swaps as ProjectionRow[];
    expect(swaps.map((s) => [s.key, s.data.status, s.data.approved_by, s.data.to])).toEqual([['12///7', 'approved', 'manager', 'Lee']]);
    expect(page.counts.shift_swaps).toEqual({ total: 1, returned: 1 });
    expect(Object.keys(page).filter((k) => k === 'store_orders')).toEqual([]);

    const sub = new Subscriber(t.url, { snapshot: '1' });
    try {
      const snap = snapshotSchemaOf(registry).parse((await sub.waitFor('initial')).data);
      expect((snap.shift_swaps as ProjectionRow[]).map((s) => s.key)).toEqual(['12///7']);
      expect(snap.store_orders).toHaveLength(1);
    } finally {
      sub.close();
    }

    const tables = emptyTables(registry);
    const out: Change[] = [];
    const log = await allEvents(t.url);
    for (const ev of log) applyEvent(tables, ev, parseData(ev, registry)!, out, registry);
    expect([...(tables as unknown as Record<string, Map<string, ProjectionRow>>).shift_swap!.values()]).toEqual(swaps);
  });

  it('is summarized, for the console and for `relaydesk tail`, and its alerts are the hub’s and the console’s', async () => {
    const log = await allEvents(t.url);
    const [asked, , approved, , roster] = log.filter((e) => e.type.startsWith('shift.'));
    expect(summarize(asked!, registry)).toBe('Kim asks Lee to take 2026-12-05');
    expect(summarize(approved!, registry)).toBe('Swap 7 approved by manager');
    // With the row the window holds, the summary names the swap instead of its id.
    const tables = emptyTables(registry);
    applyEvent(tables, asked!, parseData(asked!, registry)!, [], registry);
    const row = (kind: string, key: string) => (tables as unknown as Record<string, Map<string, ProjectionRow>>)[kind]?.get(key)?.data;
    expect(describeEvent(approved!, { row }, registry)).toBe('manager approved: Lee takes 2026-12-05');

    // The domain's default priority makes a swap request an alert: the hub's inbox lists it.
    expect(asked!.priority).toBe('high');
    const inbox = inboxPageSchema.parse((await api(t.url, '/v1/inbox?min_priority=high')).body);
    expect(inbox.items.map((i) => i.event.type)).toEqual(['shift.swap.requested', 'shift.swap.requested']);

    const ctx = (view: string) => ({ minPriority: 'high' as const, muted: false, view });
    expect(toastFor(asked!, asked!.data, ctx('orders'), registry)).toEqual({ group: 'alert:shift.swap.requested', text: 'Kim asks Lee to take 2026-12-05', tone: 'info' });
    expect(toastFor(roster!, roster!.data, ctx('shifts'), registry)).toEqual({ group: 'shift.roster', text: 'Roster for 2026-W50 is out', tone: 'info' });
    expect(toastFor(roster!, roster!.data, ctx('orders'), registry)).toBeNull();
  });

  it('stays with the hub it was given to', async () => {
    const r = await publish(plain.url, request);
    expect(r.status).toBe(422);
    expect(r.body.error.fields[0].reason).toMatch(/^unknown event type; use a known type or the custom prefix/);
    expect((await api(plain.url, '/v1/state/shifts')).status).toBe(404);
    expect(builtinRegistry.isKnown('shift.swap.requested')).toBe(false);
    const sub = new Subscriber(plain.url, { snapshot: '1' });
    try {
      expect((await sub.waitFor('initial')).data).not.toHaveProperty('shift_swaps');
    } finally {
      sub.close();
    }
  });
});
