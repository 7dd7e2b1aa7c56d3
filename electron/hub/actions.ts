import type { Statement } from 'better-sqlite3';
import { inScope, topicsOf, type EventKeys, type TokenScope } from '../../shared/scope.ts';
import { typeMatches, type HubEvent, type ValidEvent } from '../../shared/events.ts';
import { FINAL_ACTION_STATES, type ActionState, type ActionStatus } from '../../shared/domains/action.ts';
import type { DB } from './db.ts';
import type { WebhookEndpoints } from './webhooks/endpoints.ts';

export interface ActionOptions {
  /** An action with no outcome this long after its request is marked `action.timed_out` by the hub. */
  timeoutMs: number;
  /** How often the hub looks for such actions. */
  sweepIntervalMs: number;
}

export const ACTION_DEFAULTS: ActionOptions = { timeoutMs: 60_000, sweepIntervalMs: 5_000 };

interface Row {
  seq: number;
  id: string;
  type: string;
  data: string;
  store_id: string | null;
  user_id: string | null;
  strategy_id: string | null;
  tenant_id: string | null;
  topics: string | null;
  received_at: string;
  namespace: string;
}

// Every query names `type GLOB 'action.*'` so SQLite may use the partial index on action ids
// (db.ts): it reads action rows only, however long the rest of the log is.
const ACTION_ROWS = "type GLOB 'action.*'";

/** The id of the hub's timeout event: deterministic, so two hubs sweeping the same action store it once. */
const timedOutEventId = (actionId: string) => `${actionId}~timed_out`;

/**
 * Actions are events (shared/domains/action.ts); their state is read from the log, so it is as
 * durable as the log and needs no table of its own. An action is the `action.requested` event and
 * the outcome events with its action_id under the same scope keys (its namespace).
 */
/** GET /v1/actions: which requests, newest first. */
export interface ActionListQuery {
  /** Requests with a seq below this (the previous page's next_cursor). */
  before?: number;
  limit: number;
  name?: string;
  state?: ActionState[];
  /** A token id. */
  requested_by?: string;
  target_type?: string;
}

/** How many requests one listing looks at at most, so a filter that matches little stays cheap. */
export const ACTION_LIST_SCAN = 2_000;

export class ActionLog {
  private readonly byActionId: Statement;
  private readonly pending: Statement;
  private readonly requestsBefore: Statement;

  constructor(db: DB) {
    this.requestsBefore = db.prepare(`SELECT * FROM events INDEXED BY events_action_requests WHERE type = 'action.requested' AND seq < ? ORDER BY seq DESC LIMIT ?`);
    this.byActionId = db.prepare(`SELECT * FROM events WHERE ${ACTION_ROWS} AND json_extract(data, '$.action_id') = ? ORDER BY seq`);
    this.pending = db.prepare(
      // INDEXED BY: without it SQLite scans the whole log for the outer rows; the partial index
      // holds action rows only.
      `SELECT r.* FROM events r INDEXED BY events_action_id
        WHERE r.${ACTION_ROWS} AND r.type = 'action.requested' AND r.received_at < ?
          AND NOT EXISTS (SELECT 1 FROM events o
                           WHERE o.${ACTION_ROWS} AND json_extract(o.data, '$.action_id') = json_extract(r.data, '$.action_id')
                             AND o.type != 'action.requested' AND o.namespace = r.namespace)
        ORDER BY r.seq LIMIT ?`,
    );
  }

  /** The action as `scope` sees it (the newest request with this id in the scope), or null. */
  status(actionId: string, scope: TokenScope, webhooks?: WebhookEndpoints): ActionStatus | null {
    const rows = (this.byActionId.all(actionId) as Row[]).filter((r) => inScope(scope, r));
    const req = rows.filter((r) => r.type === 'action.requested').at(-1);
    if (!req) return null;
    return this.describe(req, rows, webhooks);
  }

  /**
   * The history: requests in `scope`, newest first, each with its state, filtered. Walks at most
   * ACTION_LIST_SCAN requests per call; `next` is where the next page starts (null at the end).
   */
  list(scope: TokenScope, q: ActionListQuery, webhooks?: WebhookEndpoints): { actions: ActionStatus[]; next: number | null } {
    const out: ActionStatus[] = [];
    let before = q.before ?? Number.MAX_SAFE_INTEGER;
    let scanned = 0;
    for (;;) {
      const step = Math.min(200, ACTION_LIST_SCAN - scanned);
      const reqs = this.requestsBefore.all(before, step) as Row[];
      for (const req of reqs) {
        scanned++;
        before = req.seq;
        if (!inScope(scope, req)) continue;
        const data = JSON.parse(req.data) as { name?: unknown; requested_by?: unknown; target?: { type?: unknown } };
        if (q.name !== undefined && data.name !== q.name) continue;
        if (q.requested_by !== undefined && data.requested_by !== q.requested_by) continue;
        if (q.target_type !== undefined && data.target?.type !== q.target_type) continue;
        const st = this.describe(req, this.byActionId.all(String((data as { action_id?: unknown }).action_id ?? '')) as Row[], webhooks);
        if (q.state && !q.state.includes(st.state)) continue;
        out.push(st);
        if (out.length >= q.limit) return { actions: out, next: req.seq };
      }
      if (reqs.length < step) return { actions: out, next: null };
      if (scanned >= ACTION_LIST_SCAN) return { actions: out, next: before };
    }
  }

  /** A request and the outcomes among `rows` (its action id's rows) that belong to it. */
  private describe(req: Row, rows: Row[], webhooks?: WebhookEndpoints): ActionStatus {
    const actionId = String((JSON.parse(req.data) as { action_id?: unknown }).action_id);
    const data = JSON.parse(req.data) as Record<string, unknown>;
    const outcomes = rows
      .filter((r) => r.type !== 'action.requested' && r.namespace === req.namespace && r.seq > req.seq)
      .map((r) => ({ type: r.type, seq: r.seq, at: r.received_at, data: JSON.parse(r.data) as Record<string, unknown> }));
    const deliveredTo = webhooks ? this.deliveredTo(req, webhooks) : [];
    // A final outcome stands even if a backend later repeats "accepted"; otherwise the newest wins.
    const final = outcomes.find((o) => FINAL_ACTION_STATES.includes(o.type.slice('action.'.length) as ActionState));
    const last = final ?? outcomes.at(-1);
    const state: ActionState = last ? (last.type.slice('action.'.length) as ActionState) : deliveredTo.length ? 'delivered' : 'requested';
    const reason = outcomes.find((o) => o.type === 'action.rejected')?.data.reason;
    const error = outcomes.find((o) => o.type === 'action.failed')?.data.error;
    return {
      action_id: actionId,
      state,
      name: String(data.name),
      target: data.target as ActionStatus['target'],
      params: (data.params ?? {}) as Record<string, unknown>,
      requested_by: String(data.requested_by),
      ...(typeof data.requested_by_label === 'string' ? { requested_by_label: data.requested_by_label } : {}),
      store_id: req.store_id,
      user_id: req.user_id,
      strategy_id: req.strategy_id,
      requested_seq: req.seq,
      requested_at: req.received_at,
      delivered_to: deliveredTo,
      outcomes,
      ...(typeof reason === 'string' ? { reason } : {}),
      ...(typeof error === 'string' ? { error } : {}),
    };
  }

  /**
   * Endpoints whose cursor passed the request and that take it (types and scope) and did not
   * dead-letter it: the cursor moves only after a 2xx or a dead letter, so this is a delivery.
   */
  private deliveredTo(req: Row, webhooks: WebhookEndpoints): string[] {
    return webhooks
      .active()
      .filter((ep) => ep.cursor >= req.seq && typeMatches(ep.types, req.type) && inScope(ep.scope, req) && !webhooks.deadLetter(ep.id, req.seq))
      .map((ep) => ep.id);
  }

  /** Requests older than `cutoff` (ISO) without any outcome: the sweeper times them out. */
  overdue(cutoff: string, limit = 100): HubEvent[] {
    return (this.pending.all(cutoff, limit) as Row[]).map((r) => ({ ...r, data: JSON.parse(r.data) }) as unknown as HubEvent);
  }
}

/** The hub's own `action.timed_out` for a request, under the request's scope keys. */
export function timedOutEvent(req: Pick<HubEvent, 'data' | 'store_id' | 'user_id' | 'strategy_id'> & Pick<EventKeys, 'tenant_id' | 'topics'>, timeoutMs: number): ValidEvent {
  // The request's tenant and topics too: the outcome lives in its namespace and reaches its subscribers.
  const topics = topicsOf(req);
  const actionId = String(req.data.action_id);
  return {
    id: timedOutEventId(actionId),
    type: 'action.timed_out',
    data: { action_id: actionId, timeout_ms: timeoutMs },
    store_id: req.store_id,
    user_id: req.user_id,
    strategy_id: req.strategy_id,
    tenant_id: req.tenant_id ?? null,
    topics: topics ? [...topics] : null,
    priority: 'high',
    time: null,
  };
}
