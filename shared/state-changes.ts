import type { HubEvent } from './events.ts';
import type { StateKind } from './state.ts';
import { carriedKeys, stateRowKey, type CarriedKeys } from './state-keys.ts';
import { jobStateChange } from './domains/job.ts';

type Data = Record<string, unknown>;

/**
 * What one event does to the current state. The hub's projections (electron/hub/projections.ts)
 * and the console's reducer (renderer/stream/projections.ts) both apply exactly this, so the two
 * cannot disagree about which row an event reaches or what it writes.
 *
 * - `create`: the row becomes `fields` (a whole row; whatever was there is replaced).
 * - `patch`: `fields` are merged over the row (a row the writer never created starts from them).
 * - `delete`: the row goes.
 * - `end_session`: every store order of table `table_id` under the event's carried keys goes.
 *
 * `create`, `patch` and `delete` reach one row, whose key includes the event's scope keys: a writer
 * can only reach rows written under its own keys. `fields` always end with `last_type`.
 */
export type StateChange =
  | { op: 'create' | 'patch'; kind: StateKind; key: string; fields: Data }
  | { op: 'delete'; kind: StateKind; key: string }
  | { op: 'end_session'; kind: 'store_order'; carried: CarriedKeys; table_id: string };

/**
 * The change `ev` makes, or null for types that keep no state. `data` is the event's data as its
 * type's schema parsed it (the hub stores it that way; the console passes what it validated).
 */
export function stateChangeOf(ev: Pick<HubEvent, 'type' | 'store_id' | 'user_id' | 'strategy_id' | 'time'>, data: Data): StateChange | null {
  const key = (id: unknown) => stateRowKey(ev, id);
  const fields = (f: Data): Data => ({ ...f, last_type: ev.type });
  const d = data;
  switch (ev.type) {
    case 'store.order.created':
      return { op: 'create', kind: 'store_order', key: key(d.order_id), fields: fields(d) };
    case 'store.order.updated':
      return { op: 'patch', kind: 'store_order', key: key(d.order_id), fields: fields(d) };
    case 'store.order.deleted':
      return { op: 'delete', kind: 'store_order', key: key(d.order_id) };
    case 'store.session.ended':
      return { op: 'end_session', kind: 'store_order', carried: carriedKeys(ev), table_id: String(d.table_id) };
    case 'trading.order.created':
    case 'trading.order.updated':
    case 'trading.order.filled':
    case 'trading.order.cancelled':
      return { op: 'patch', kind: 'trading_order', key: key(d.order_id), fields: fields(d) };
    case 'trading.position.created':
    case 'trading.position.updated':
      return { op: 'patch', kind: 'position', key: key(d.position_id), fields: fields(d) };
    case 'trading.position.closed':
      return { op: 'delete', kind: 'position', key: key(d.position_id) };
    case 'mail.email.new':
      return { op: 'create', kind: 'mail', key: key(d.email_id), fields: fields(d) };
    case 'mail.email.classified': {
      const { email_id, ...classification } = d;
      return { op: 'patch', kind: 'mail', key: key(email_id), fields: fields({ email_id, classification }) };
    }
    case 'mail.email.updated':
      if (d.deleted) return { op: 'delete', kind: 'mail', key: key(d.email_id) };
      return { op: 'patch', kind: 'mail', key: key(d.email_id), fields: fields(d) };
    case 'mail.sync.started':
    case 'mail.sync.completed':
    case 'mail.sync.error':
      return {
        op: 'patch',
        kind: 'mail_sync',
        key: key(d.account ?? d.connection_id ?? 'default'),
        fields: fields({ ...d, state: ev.type.slice('mail.sync.'.length), at: ev.time }),
      };
    default:
      return jobStateChange(ev, d);
  }
}
