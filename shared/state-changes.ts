import type { HubEvent } from './events.ts';
import type { AttachedActions, StateKind } from './state.ts';
import type { CarriedKeys } from './state-keys.ts';
import { builtinRegistry } from './domains/index.ts';

type Data = Record<string, unknown>;

/**
 * What one event does to the current state. The hub's projections (electron/hub/projections.ts)
 * and the console's reducer (renderer/stream/projections.ts) both apply exactly this, so the two
 * cannot disagree about which row an event reaches or what it writes. Each domain declares the
 * rule of each of its types (shared/domains/<domain>.ts `state`); the registry turns it into this.
 *
 * - `create`: the row becomes `fields` (a whole row; whatever was there is replaced).
 * - `patch`: `fields` are merged over the row (a row the writer never created starts from them).
 * - `delete`: the row goes.
 * - `end_session`: every row of `kind` under the event's carried keys whose data `field` equals
 *   `value` goes (a store table's session ends: all its orders leave the board).
 *
 * `create`, `patch` and `delete` reach one row, whose key includes the event's scope keys: a writer
 * can only reach rows written under its own keys. `fields` always end with `last_type`.
 */
export type StateChange<K extends string = StateKind> =
  | { op: 'create' | 'patch'; kind: K; key: string; fields: Data }
  | { op: 'delete'; kind: K; key: string }
  | { op: 'end_session'; kind: K; carried: CarriedKeys; field: string; value: string };

/**
 * The change `ev` makes under the built-in domains, or null for types that keep no state. `data` is
 * the event's data as its type's schema parsed it (the hub stores it that way; the console passes
 * what it validated).
 */
export function stateChangeOf(ev: Pick<HubEvent, 'type' | 'store_id' | 'user_id' | 'strategy_id' | 'time'>, data: Data): StateChange | null {
  return builtinRegistry.stateChangeOf(ev, data) as StateChange | null;
}

/**
 * What a `create` or `patch` by `ev` leaves in the row's `actions`: the buttons `ev` carries and the
 * event they are about, or undefined (no buttons) when it carries none, an empty list included. The
 * row's buttons are always those of its latest change, never merged with older ones: they were
 * about the state that event described. The hub's projections and the console's reducer both call
 * this, so the two cannot disagree.
 */
export function attachedActionsOf(ev: Pick<HubEvent, 'seq' | 'id' | 'type' | 'topics' | 'actions'>): AttachedActions | undefined {
  if (!ev.actions?.length) return undefined;
  return { seq: ev.seq, id: ev.id, type: ev.type, ...(ev.topics != null ? { topics: ev.topics } : {}), items: ev.actions };
}
