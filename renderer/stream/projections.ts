import { normalizeData, type HubEvent } from '../../shared/events.ts';
import type { ProjectionRow, Snapshot, StateKind } from '../../shared/state.ts';
import { stateChangeOf } from '../../shared/state-changes.ts';
import { underCarriedKeys } from '../../shared/state-keys.ts';
import { JOB_WHOLE_ROW_TYPES } from '../../shared/domains/job.ts';

/**
 * The client twin of electron/hub/projections.ts: the snapshot gives us the hub's state at seq N and
 * each later event is applied here with the same keys and merge rules (both take them from
 * shared/state-changes.ts), so a window that has been live for an hour shows exactly what a fresh
 * snapshot would.
 */
export type Tables = Record<StateKind, Map<string, ProjectionRow>>;

export const emptyTables = (): Tables => ({
  store_order: new Map(),
  trading_order: new Map(),
  position: new Map(),
  mail: new Map(),
  mail_sync: new Map(),
  job: new Map(),
});

export function tablesFromSnapshot(s: Snapshot): Tables {
  const t = emptyTables();
  const fill = (kind: StateKind, rows: ProjectionRow[]) => {
    for (const r of rows) t[kind].set(r.key, r);
  };
  fill('store_order', s.store_orders);
  fill('trading_order', s.trading_orders);
  fill('position', s.positions);
  fill('mail', s.mail);
  fill('mail_sync', s.mail_sync);
  fill('job', s.jobs);
  return t;
}

type Data = Record<string, unknown>;

/** What changed, so views can animate (new order highlight, struck-through deletes, qty deltas). */
export type Change =
  | { kind: StateKind; op: 'upsert'; key: string; row: ProjectionRow; prev: ProjectionRow | undefined; ev: HubEvent }
  | { kind: StateKind; op: 'delete'; key: string; prev: ProjectionRow | undefined; ev: HubEvent };

/**
 * A known type's data as the hub's projections read it (shared normalizeData: ids as strings,
 * defaults, unnamed fields kept); null when it does not match. The event itself stays as sent.
 */
export function parseData(ev: HubEvent): Data | null {
  return normalizeData(ev.type, ev.data);
}

/**
 * Types whose event carries a whole row. Any other type patches a row; patching one this window does
 * not hold (cut from the snapshot, or trimmed) leaves a partial row until the hub's copy is fetched.
 */
const WHOLE_ROW_TYPES: ReadonlySet<string> = new Set([
  'store.order.created',
  'trading.order.created',
  'trading.position.created',
  'mail.email.new',
  'mail.sync.started',
  'mail.sync.completed',
  'mail.sync.error',
  ...JOB_WHOLE_ROW_TYPES,
]);

export const startsWholeRow = (type: string): boolean => WHOLE_ROW_TYPES.has(type);

/** An upsert that patched a row this window did not hold: the row it shows lacks the fields it missed. */
export const patchedUnknownRow = (c: Change): boolean => c.op === 'upsert' && !c.prev && !startsWholeRow(c.ev.type);

export function applyEvent(t: Tables, ev: HubEvent, d: Data, out: Change[]): void {
  const c = stateChangeOf(ev, d);
  if (!c) return;
  // A row fetched whole from the hub (row-filler.ts) can be newer than events still on their way to
  // this window; those must not roll it back. The hub applies events in order and never needs this.
  const remove = (kind: StateKind, key: string) => {
    const prev = t[kind].get(key);
    if (!prev || prev.seq > ev.seq) return;
    t[kind].delete(key);
    out.push({ kind, op: 'delete', key, prev, ev });
  };
  switch (c.op) {
    case 'create':
    case 'patch': {
      const prev = t[c.kind].get(c.key);
      if (prev && prev.seq >= ev.seq) return;
      const base: Data = prev && c.op === 'patch' ? prev.data : {};
      const row: ProjectionRow = {
        key: c.key,
        seq: ev.seq,
        store_id: ev.store_id,
        user_id: ev.user_id,
        strategy_id: ev.strategy_id,
        created_at: prev?.created_at ?? ev.time,
        updated_at: ev.time,
        data: { ...base, ...c.fields },
      };
      t[c.kind].set(c.key, row);
      out.push({ kind: c.kind, op: 'upsert', key: c.key, row, prev, ev });
      return;
    }
    case 'delete':
      return remove(c.kind, c.key);
    case 'end_session':
      for (const [key, row] of t.store_order) if (underCarriedKeys(c.carried, row) && String(row.data.table_id) === c.table_id) remove('store_order', key);
      return;
  }
}
