import { z } from 'zod';
import { pageCutSchema } from './api.ts';
import { builtinRegistry, type BuiltinKinds, type DomainRegistry } from './domains/index.ts';
import { eventActionSchema } from './domains/action.ts';

/**
 * The buttons a publisher attached to the event that last changed a row (the envelope's `actions`),
 * with what a click needs: the request's target is that event (type, id, seq), under the row's scope
 * keys (the event's: a row's key includes them) and the event's topics. Present only while the
 * latest event that created or patched the row carried actions; a later change without them clears
 * it, because the buttons were about the state that event described (a "Retry" on a failure means
 * nothing once the job runs again). Built by shared/state-changes.ts#attachedActionsOf on both sides.
 */
export const attachedActionsSchema = z.object({
  /** The event the buttons were attached to: the action request's target. */
  seq: z.number().int().positive(),
  id: z.string(),
  type: z.string(),
  /** The event's topics, when it had any: the request carries them as a click on the event would. */
  topics: z.array(z.string()).optional(),
  /** As the publisher sent them. */
  items: z.array(eventActionSchema).min(1),
});
export type AttachedActions = z.infer<typeof attachedActionsSchema>;

/** Rows of the projections the hub keeps in the same transaction as the log. */
export const projectionRowSchema = z.object({
  key: z.string(),
  seq: z.number().int(),
  store_id: z.string().nullable(),
  user_id: z.string().nullable(),
  strategy_id: z.string().nullable(),
  /** Present only on rows written by events of a tenant. */
  tenant_id: z.string().optional(),
  updated_at: z.string(),
  created_at: z.string(),
  data: z.record(z.string(), z.unknown()),
  /** The attached actions of the event that last changed the row; absent when it carried none. */
  actions: attachedActionsSchema.optional(),
});
export type ProjectionRow = z.infer<typeof projectionRowSchema>;

// Kinds, wire fields, views and caps are declared by the domains (shared/domains/<domain>.ts `kinds`)
// and derived here from the registry of the built-in ones.

export type StateKind = keyof BuiltinKinds & string;
export const stateKinds = builtinRegistry.kinds as readonly StateKind[];

/** The wire name of each kind's rows, the same in the `initial` snapshot and in GET /v1/state. */
export const stateFields = builtinRegistry.fields as { readonly [K in StateKind]: BuiltinKinds[K]['field'] };
export type StateField = (typeof stateFields)[StateKind];

/** GET /v1/state/{view}: the kinds each view carries. */
export type StateView = BuiltinKinds[StateKind]['view'];
export const stateViews = builtinRegistry.views as Readonly<Record<StateView, readonly StateKind[]>>;

/** The GET /v1/state view that pages through a field's rows. */
export function stateViewOf(field: StateField): StateView {
  return builtinRegistry.viewOf(field) as StateView;
}

/**
 * The most rows of each kind one snapshot carries (the newest, by seq). A snapshot is one SSE frame
 * built in one synchronous step while publishes wait, so it must stay bounded; when a scope holds
 * more, the snapshot's `counts` say so and GET /v1/state pages through all of them. Each domain sets
 * its kinds' caps (mail's is lower: its rows are the largest). A hub may lower these
 * (HubOptions.snapshotCaps).
 */
export const SNAPSHOT_CAPS = builtinRegistry.caps as Readonly<Record<StateKind, number>>;

/**
 * The most row JSON of each kind one snapshot carries, on top of SNAPSHOT_CAPS: 5,000 orders of 1 MB
 * would be a 5 GB frame (past what one string can hold). The newest rows up to this size are sent and
 * `counts` says the list was cut by bytes. A hub may change it (HubOptions.snapshotMaxBytes).
 */
export const SNAPSHOT_KIND_MAX_BYTES = 8 * 1024 * 1024;

/** The largest `limit` GET /v1/state accepts: one page can be as large as a snapshot's biggest list. */
export const STATE_PAGE_MAX = 5_000;
/**
 * The most row JSON one GET /v1/state page carries, whatever `limit` says: the page ends early
 * (truncated: 'bytes', with a next_cursor) and the next page goes on from there.
 */
export const STATE_PAGE_MAX_BYTES = 4 * 1024 * 1024;
export const STATE_PAGE_DEFAULT = 1_000;
/**
 * GET /v1/state?key=…: at most this many keys per request, each at most STATE_KEY_MAX characters.
 * The longest row key (shared/state-keys.ts) is 515 characters: three 64-character scope keys, four
 * separators and a 320-character mail account.
 */
export const STATE_KEYS_PER_REQUEST = 100;
export const STATE_KEY_MAX = 1024;

/**
 * How many rows of a kind exist in the caller's scope (and filters), and how many this response
 * carries. `returned < total` means the list is not everything: a snapshot was cut at its cap, or
 * (on GET /v1/state) more pages follow.
 */
export const stateCountSchema = z.object({
  total: z.number().int().nonnegative(),
  returned: z.number().int().nonnegative(),
  /** In a snapshot: present when the list was cut at its byte bound (SNAPSHOT_KIND_MAX_BYTES) rather than its row cap. */
  truncated: z.literal('bytes').optional(),
});
export type StateCount = z.infer<typeof stateCountSchema>;

/** One schema per wire field. */
const perField = <F extends string, T extends z.ZodType>(fields: readonly F[], s: T) =>
  z.object(Object.fromEntries(fields.map((f) => [f, s]))) as unknown as z.ZodObject<{ [K in F]: T }, z.core.$strip>;
const rowList = z.array(projectionRowSchema);

/** The `initial` snapshot with one list (and one count) per field. */
function snapshotSchemaFor<F extends string>(fields: readonly F[]) {
  return z.object({
    seq: z.number().int().nonnegative(),
    counts: perField(fields, stateCountSchema),
    /** 'bytes' when a list was cut at its byte bound, else 'rows' when one was cut at its row cap, else null. */
    truncated: pageCutSchema,
    ...perField(fields, rowList).shape,
  });
}

/** A GET /v1/state/{view} page: only the view's fields are present, in `counts` and as lists. */
function statePageSchemaFor<F extends string>(fields: readonly F[]) {
  return z.object({
    seq: z.number().int().nonnegative(),
    counts: perField(fields, stateCountSchema).partial(),
    ...perField(fields, rowList).partial().shape,
    /** Pass as `cursor` (with the same `order`) for the next page; null when this was the last. */
    next_cursor: z.string().nullable(),
    /** The hub's per-request scan budget ended this page early; `next_cursor` continues it. */
    partial: z.literal(true).optional(),
    /** The page ended at its `limit` ('rows') or at STATE_PAGE_MAX_BYTES ('bytes'); null otherwise. */
    truncated: pageCutSchema,
  });
}

const builtinFields = stateKinds.map((k) => stateFields[k]);
export const snapshotSchema = snapshotSchemaFor(builtinFields);
export type Snapshot = z.infer<typeof snapshotSchema>;
export const statePageSchema = statePageSchemaFor(builtinFields);
export type StatePage = z.infer<typeof statePageSchema>;

/**
 * The snapshot and state-page schemas of a hub started with more domains than the built-in ones:
 * the built-in fields as typed above, the others' lists and counts by their wire names.
 */
export const snapshotSchemaOf = (registry: DomainRegistry) =>
  snapshotSchemaFor(registry.kinds.map((k) => registry.fields[k]!)) as unknown as z.ZodType<Snapshot & { counts: Record<string, StateCount> } & Record<string, unknown>>;
export const statePageSchemaOf = (registry: DomainRegistry) =>
  statePageSchemaFor(registry.kinds.map((k) => registry.fields[k]!)) as unknown as z.ZodType<StatePage & { counts: Partial<Record<string, StateCount>> } & Record<string, unknown>>;

/** The fields whose lists hold fewer rows than exist in the scope, e.g. for a "showing N of M" note. */
export function truncatedFields(counts: Partial<Record<StateField, StateCount>>): StateField[] {
  return (Object.entries(counts) as [StateField, StateCount | undefined][]).filter(([, c]) => c && c.returned < c.total).map(([f]) => f);
}
