import type { HubEvent } from '../../shared/events.ts';
import type { ProjectionRow, Snapshot, StateKind } from '../../shared/state.ts';
import { underCarriedKeys } from '../../shared/state-keys.ts';
import { attachedActionsOf } from '../../shared/state-changes.ts';
import { builtinRegistry, type DomainRegistry } from '../../shared/domains/index.ts';

/**
 * The client twin of electron/hub/projections.ts: the snapshot gives us the hub's state at seq N and
 * each later event is applied here with the same keys and merge rules (both take them from the
 * domains' state rules, shared/domains), so a window that has been live for an hour shows exactly
 * what a fresh snapshot would. One table per state kind the registry knows.
 */
export type Tables = Record<StateKind, Map<string, ProjectionRow>>;

export const emptyTables = (registry: DomainRegistry = builtinRegistry): Tables =>
  Object.fromEntries(registry.kinds.map((k) => [k, new Map<string, ProjectionRow>()])) as Tables;

export function tablesFromSnapshot(s: Snapshot, registry: DomainRegistry = builtinRegistry): Tables {
  const t = emptyTables(registry) as Record<string, Map<string, ProjectionRow>>;
  for (const kind of registry.kinds) for (const r of (s as unknown as Record<string, ProjectionRow[] | undefined>)[registry.fields[kind]!] ?? []) t[kind]!.set(r.key, r);
  return t as Tables;
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
export function parseData(ev: HubEvent, registry: DomainRegistry = builtinRegistry): Data | null {
  return registry.normalize(ev.type, ev.data);
}

/**
 * Whether the type's event carries a whole row (its domain's state rule says so). Any other type
 * patches a row; patching one this window does not hold (cut from the snapshot, or trimmed) leaves
 * a partial row until the hub's copy is fetched.
 */
export const startsWholeRow = (type: string): boolean => builtinRegistry.startsWholeRow(type);

/** An upsert that patched a row this window did not hold: the row it shows lacks the fields it missed. */
export const patchedUnknownRow = (c: Change): boolean => c.op === 'upsert' && !c.prev && !startsWholeRow(c.ev.type);

export function applyEvent(tables: Tables, ev: HubEvent, d: Data, out: Change[], registry: DomainRegistry = builtinRegistry): void {
  const c = registry.stateChangeOf(ev, d);
  if (!c) return;
  const t = tables as Record<string, Map<string, ProjectionRow>>;
  const kind = c.kind as StateKind;
  const table = (t[kind] ??= new Map());
  // A row fetched whole from the hub (row-filler.ts) can be newer than events still on their way to
  // this window; those must not roll it back. The hub applies events in order and never needs this.
  const remove = (key: string) => {
    const prev = table.get(key);
    if (!prev || prev.seq > ev.seq) return;
    table.delete(key);
    out.push({ kind, op: 'delete', key, prev, ev });
  };
  switch (c.op) {
    case 'create':
    case 'patch': {
      const prev = table.get(c.key);
      if (prev && prev.seq >= ev.seq) return;
      const base: Data = prev && c.op === 'patch' ? prev.data : {};
      // The latest change's buttons only, as at the hub (shared/state-changes.ts).
      const actions = attachedActionsOf(ev);
      const row: ProjectionRow = {
        key: c.key,
        seq: ev.seq,
        store_id: ev.store_id,
        user_id: ev.user_id,
        strategy_id: ev.strategy_id,
        ...(ev.tenant_id != null ? { tenant_id: ev.tenant_id } : {}),
        created_at: prev?.created_at ?? ev.time,
        updated_at: ev.time,
        data: { ...base, ...c.fields },
        ...(actions ? { actions } : {}),
      };
      table.set(c.key, row);
      out.push({ kind, op: 'upsert', key: c.key, row, prev, ev });
      return;
    }
    case 'delete':
      return remove(c.key);
    case 'end_session':
      // Only a string equal to the value matches, as in the hub's SQL: a row without the field is no
      // table's (String(undefined) would make it table "undefined").
      for (const [key, row] of table) if (underCarriedKeys(c.carried, row) && row.data[c.field] === c.value) remove(key);
      return;
  }
}
