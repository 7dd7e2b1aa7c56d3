import { z } from 'zod';
import { scopeKey } from '../scope.ts';
import { topicsSchema } from '../topic-selector.ts';
import { defineDomain, str, type Data } from './define.ts';

// Actions travel the other way from every other domain: an operator asks, the hub records the ask
// as `action.requested` and delivers it (webhooks, streams), and the backend that owns the target
// answers with an outcome event carrying the same action_id under the same scope keys.

/** The id that makes an action idempotent; the same alphabet as publisher event ids (it is one). */
export const actionIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z0-9._:@~+=/-]+$/, 'may only contain letters, digits and . _ : @ ~ + = / -');

export const actionNameSchema = z
  .string()
  .max(100, 'must be at most 100 characters')
  .regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_-]+){0,5}$/, 'must be dotted lower-case words, like order.status or trading.order.cancel');

const targetId = z.union([z.string().min(1).max(200), z.number().int()]).transform(String);

/** What the action is about: usually an event or a row (an order, a mail, a swap) and its id. */
export const actionTarget = z
  .object({
    type: z.string().min(1, 'must not be empty').max(100),
    id: targetId,
    /** The event the operator acted on, when there is one. */
    seq: z.number().int().positive().optional(),
  })
  .strict();

const params = z.record(z.string(), z.unknown());

export const actionRequested = z.looseObject({
  action_id: actionIdSchema,
  name: actionNameSchema,
  target: actionTarget,
  params: params.default({}),
  /** The requesting token's id (and label when it has one), for the history. */
  requested_by: z.string().min(1).max(200),
  requested_by_label: z.string().max(200).optional(),
});

const outcome = z.looseObject({ action_id: actionIdSchema });

export const actionAccepted = outcome.extend({ message: z.string().max(2000).optional() });
export const actionRejected = outcome.extend({ reason: z.string().min(1, 'must say why').max(2000) });
export const actionCompleted = outcome.extend({ result: params.optional() });
export const actionFailed = outcome.extend({ error: z.string().min(1, 'must say what failed').max(2000) });
export const actionTimedOut = outcome.extend({ timeout_ms: z.number().int().nonnegative() });

/** "order.status on store.order 1002 {"status":"accepted"}": what was asked, of what. */
function askedText(d: Data): string {
  const target = (d.target ?? {}) as Data;
  const params = d.params && typeof d.params === 'object' && Object.keys(d.params).length ? ` ${JSON.stringify(d.params)}` : '';
  return `${str(d.name)} on ${str(target.type)} ${str(target.id)}${params}`;
}

export const action = defineDomain({
  name: 'action',
  types: {
    'action.requested': actionRequested,
    'action.accepted': actionAccepted,
    'action.rejected': actionRejected,
    'action.completed': actionCompleted,
    'action.failed': actionFailed,
    'action.timed_out': actionTimedOut,
  },
  // The keys are the target's: an action about a store order carries its store, and so on.
  requiredKeys: [],
  kinds: {},
  // An action's progress is read from the log (GET /v1/actions/:id), not kept as current state.
  state: {
    'action.requested': null,
    'action.accepted': null,
    'action.rejected': null,
    'action.completed': null,
    'action.failed': null,
    'action.timed_out': null,
  },
  summary: {
    'action.requested': (d) => `Asked ${askedText(d)}${d.requested_by_label || d.requested_by ? ` by ${str(d.requested_by_label ?? d.requested_by)}` : ''}`,
    'action.accepted': (d) => `Action ${str(d.action_id)} accepted${d.message ? `: ${str(d.message)}` : ''}`,
    'action.rejected': (d) => `Action ${str(d.action_id)} refused: ${str(d.reason)}`,
    'action.completed': (d) => `Action ${str(d.action_id)} done${d.result && typeof d.result === 'object' && Object.keys(d.result).length ? ` ${JSON.stringify(d.result)}` : ''}`,
    'action.failed': (d) => `Action ${str(d.action_id)} failed: ${str(d.error)}`,
    'action.timed_out': (d) => `Action ${str(d.action_id)} timed out: no answer in ${str(d.timeout_ms)} ms`,
  },
  colour: '34',
});
export const actionTypes = action.types;

/** Written only by the hub: the request through POST /v1/actions, the timeout by its sweeper. */
export const HUB_WRITTEN_ACTION_TYPES: readonly string[] = ['action.requested', 'action.timed_out'];

export const ACTION_OUTCOME_TYPES = ['action.accepted', 'action.rejected', 'action.completed', 'action.failed', 'action.timed_out'] as const;

/**
 * Actions a publisher attaches to its own event (the envelope's `actions`): buttons the console shows
 * on the event, each a request the publisher's backend answers like any other action. `id` becomes
 * the request's `name`, `params` its params; the target is the event itself.
 */
export const MAX_EVENT_ACTIONS = 5;
export const MAX_EVENT_ACTION_PARAMS_BYTES = 4096;
export const eventActionStyle = z.enum(['primary', 'danger', 'default']);
export type EventActionStyle = z.infer<typeof eventActionStyle>;

export const eventActionSchema = z
  .object({
    id: actionNameSchema,
    /** The button's text; short, because it sits on a card, a table row and a notification. */
    label: z.string().min(1, 'must not be empty').max(40, 'must be at most 40 characters (it is a button)'),
    style: eventActionStyle.optional(),
    /** When present the console asks this question before sending the request. */
    confirm: z.string().min(1, 'must not be empty (omit it for no confirmation)').max(300, 'must be at most 300 characters').optional(),
    params: params
      .refine((p) => JSON.stringify(p).length <= MAX_EVENT_ACTION_PARAMS_BYTES, `must be at most ${MAX_EVENT_ACTION_PARAMS_BYTES} bytes of JSON`)
      .optional(),
  })
  .strict();
export type EventAction = z.infer<typeof eventActionSchema>;

export const eventActionsSchema = z
  .array(eventActionSchema)
  .max(MAX_EVENT_ACTIONS, `at most ${MAX_EVENT_ACTIONS} actions per event`)
  .superRefine((list, ctx) => {
    // The id is what a click sends; two buttons with one id could not be told apart by the backend.
    const seen = new Set<string>();
    list.forEach((a, i) => {
      if (seen.has(a.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate action id "${a.id}"; each action of an event needs its own id` });
      seen.add(a.id);
    });
  });

/** POST /v1/actions. The scope keys are the target's (the event's keys), checked against the caller's scope. */
export const actionRequestSchema = z
  .object({
    /** Idempotency key: a retry with the same id is answered `duplicate: true` and done once. Generated when omitted. */
    action_id: actionIdSchema.optional(),
    name: actionNameSchema,
    target: actionTarget,
    params: params.default({}),
    store_id: scopeKey.optional(),
    user_id: scopeKey.optional(),
    strategy_id: scopeKey.optional(),
    /** The target's tenant and topics (a hospital's swap, a ward's topic): the request lives in the
     * tenant and reaches the topic's subscribers. */
    tenant_id: scopeKey.optional(),
    topics: topicsSchema.optional(),
  })
  .strict();
export type ActionRequest = z.input<typeof actionRequestSchema>;

export const actionAcceptedResponse = z.object({ action_id: z.string(), seq: z.number().int().positive(), duplicate: z.boolean() });
export type ActionAcceptedResponse = z.infer<typeof actionAcceptedResponse>;

export const actionStates = ['requested', 'delivered', 'accepted', 'rejected', 'completed', 'failed', 'timed_out'] as const;
export type ActionState = (typeof actionStates)[number];
/** States after which nothing more happens to the action. */
export const FINAL_ACTION_STATES: readonly ActionState[] = ['rejected', 'completed', 'failed', 'timed_out'];
/** Groups of states an operator filters by (the console's Actions view, `relaydesk actions --state`). */
export const ACTION_STATE_GROUPS: Readonly<Record<'open' | 'problems', readonly ActionState[]>> = {
  /** Still running: no final outcome yet. */
  open: ['requested', 'delivered', 'accepted'],
  /** Went wrong: refused, failed or unanswered. */
  problems: ['rejected', 'failed', 'timed_out'],
};

/** GET /v1/actions/:action_id. */
export const actionStatusSchema = z.object({
  action_id: z.string(),
  state: z.enum(actionStates),
  name: z.string(),
  target: z.object({ type: z.string(), id: z.string(), seq: z.number().int().positive().optional() }),
  params: z.record(z.string(), z.unknown()),
  requested_by: z.string(),
  requested_by_label: z.string().optional(),
  store_id: z.string().nullable(),
  user_id: z.string().nullable(),
  strategy_id: z.string().nullable(),
  requested_seq: z.number().int().positive(),
  requested_at: z.string(),
  /** Webhook endpoints that have delivered the request (a 2xx); streams are not counted. */
  delivered_to: z.array(z.string()),
  /** Every outcome event so far, oldest first. */
  outcomes: z.array(z.object({ type: z.string(), seq: z.number().int().positive(), at: z.string(), data: z.record(z.string(), z.unknown()) })),
  reason: z.string().optional(),
  error: z.string().optional(),
});
export type ActionStatus = z.infer<typeof actionStatusSchema>;
export const actionParams = z.object({ action_id: actionIdSchema });

/** GET /v1/actions: the action history, newest first, in the caller's scope. */
export const actionListQuerySchema = z
  .object({
    /** The previous page's next_cursor. */
    cursor: z
      .string()
      .regex(/^\d{1,15}$/, 'must be the next_cursor of the previous page')
      .transform(Number)
      .optional(),
    limit: z
      .string()
      .regex(/^\d+$/, 'must be an integer')
      .transform(Number)
      .pipe(z.number().int().min(1, 'must be at least 1').max(200, 'must be at most 200'))
      .optional(),
    name: actionNameSchema.optional(),
    /** One state or several, comma-separated: `state=rejected,failed,timed_out`. */
    state: z
      .string()
      .transform((v) => v.split(',').filter(Boolean))
      .pipe(z.array(z.enum(actionStates, { message: `must be one of ${actionStates.join(', ')}` })).min(1, 'must name a state'))
      .optional(),
    /** A token id: what one operator asked. */
    requested_by: z.string().min(1).max(200).optional(),
    target_type: z.string().min(1).max(100).optional(),
  })
  .strict();

export const actionListSchema = z.object({
  actions: z.array(actionStatusSchema),
  /** Pass as `cursor` for older actions; null when there are none. A page may be short when filters match little. */
  next_cursor: z.string().nullable(),
});
export type ActionList = z.infer<typeof actionListSchema>;
