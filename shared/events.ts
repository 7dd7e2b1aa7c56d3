import { z } from 'zod';
import { scopeKey, type EventKeys } from './scope.ts';
import { topicsSchema } from './topic-selector.ts';
import { eventActionSchema, eventActionsSchema, type EventAction } from './domains/action.ts';
import { builtinRegistry, type DomainRegistry, type KnownTypes } from './domains/index.ts';

/** Every known event type with the schema of its `data` (derived from shared/domains). */
export const knownTypes = builtinRegistry.types as KnownTypes;
export type KnownType = keyof KnownTypes & string;
export const KNOWN_TYPES = builtinRegistry.typeNames as KnownType[];
export type DataOf<T extends KnownType> = z.output<KnownTypes[T]>;

/** Types outside the known domains must carry this prefix; their data is any JSON object. */
export const CUSTOM_PREFIX = 'x.';

export const TYPE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z0-9_-]+){1,5}$/;

/**
 * Scope keys each domain requires (each domain declares its own). An order without a store, a
 * trading event without a strategy or a mail event without a user could only be delivered to
 * unscoped admins; we refuse it at publish instead of letting it silently vanish from every scoped
 * console.
 */
export const REQUIRED_KEYS: Readonly<Record<string, readonly (keyof EventKeys)[]>> = Object.fromEntries(builtinRegistry.domains.map((d) => [d.name, d.requiredKeys]));

export const priority = z.enum(['low', 'normal', 'high', 'urgent']);
export type Priority = z.infer<typeof priority>;
/** Priorities in rising order, as thresholds compare them: the one ranking hub, console and CLI use. */
export const PRIORITY_RANK = Object.fromEntries(priority.options.map((p, i) => [p, i])) as Readonly<Record<Priority, number>>;
/** Whether `p` reaches the threshold `min` (an alert at or above the user's alert priority). */
export const reaches = (p: Priority, min: Priority): boolean => PRIORITY_RANK[p] >= PRIORITY_RANK[min];

/**
 * The priority of an event published without one: its domain's default for the type when it sets
 * one (a failed job is worth an alert), normal otherwise.
 */
export const defaultPriorityOf = (type: string, registry: DomainRegistry = builtinRegistry): Priority => registry.defaultPriority(type) ?? 'normal';

/**
 * A publisher's priority. Schedulers and notification services commonly say `medium` for the level
 * between low and high; it is RelayDesk's `normal`, stored and delivered as `normal`.
 */
export const publishPriority = z.preprocess((v) => (v === 'medium' ? 'normal' : v), priority);

/** Publisher idempotency keys: printable ASCII without spaces, so they are safe in logs and URLs. */
export const eventIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z0-9._:@~+=/-]+$/, 'may only contain letters, digits and . _ : @ ~ + = / -');

/**
 * The id the hub gives an event published without one. `#` is outside the publisher id alphabet,
 * so a generated id can never collide with an id a publisher chose.
 */
export const generatedEventId = (seq: number) => `#${seq}`;

export const eventTypeSchema = z
  .string()
  .max(100, 'must be at most 100 characters')
  .regex(TYPE_PATTERN, 'must be dotted lower-case words, like store.order.created');

const MAX_DATA_DEPTH = 16;

/** Depth of a JSON value, iteratively so a hostile 100,000-level body cannot blow the stack. */
export function jsonDepth(value: unknown, limit = MAX_DATA_DEPTH + 1): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (d > max) max = d;
    if (max >= limit) return max;
    if (v && typeof v === 'object') for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

const jsonObject = z
  .record(z.string(), z.unknown())
  .refine((v) => jsonDepth(v) <= MAX_DATA_DEPTH, `must not be nested deeper than ${MAX_DATA_DEPTH} levels`);

/** What a backend POSTs: the envelope before its `data` is checked against the type's schema. */
export const publishEnvelope = z
  .object({
    id: eventIdSchema.optional(),
    type: eventTypeSchema,
    data: jsonObject,
    store_id: scopeKey.optional(),
    user_id: scopeKey.optional(),
    strategy_id: scopeKey.optional(),
    /** The tenant the event belongs to: a scope key like the others, and part of its namespace. */
    tenant_id: scopeKey.optional(),
    /** What the event is about (URIs or names): subscribers and tokens select events by them. */
    topics: topicsSchema.optional(),
    priority: publishPriority.optional(),
    time: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
    /** Buttons the console shows on this event; a click is an action request about it (domains/action.ts). */
    actions: eventActionsSchema
      .refine((v) => jsonDepth(v) <= MAX_DATA_DEPTH, `must not be nested deeper than ${MAX_DATA_DEPTH} levels`)
      .optional(),
  })
  .strict();
export type PublishEnvelope = z.input<typeof publishEnvelope>;

export const MAX_BATCH = 5000;

export interface FieldError {
  path: string;
  reason: string;
}

export interface ValidEvent {
  id?: string;
  type: string;
  data: Record<string, unknown>;
  store_id: string | null;
  user_id: string | null;
  strategy_id: string | null;
  /** Absent or null: the event has no tenant (events built by the hub may leave these out). */
  tenant_id?: string | null;
  topics?: string[] | null;
  priority: Priority;
  time: string | null;
  /** As sent: absent when the publisher attached none. */
  actions?: EventAction[];
}

function zodIssues(err: z.ZodError, prefix: string): FieldError[] {
  return err.issues.flatMap((i) =>
    // An unknown key is reported on the key itself, not on its parent object ("" for the envelope).
    (i.code === 'unrecognized_keys' ? i.keys.map((k) => [...i.path.map(String), k]) : [i.path.map(String)]).map((path) => ({
      // A body that is not an object at all (`42`, `"str"`) has no field to name but itself.
      path: [prefix, ...path].filter(Boolean).join('.') || 'body',
      reason: i.message,
    })),
  );
}

/** Validate one envelope: shape, type, typed data, and the scope keys its domain needs. */
export function validateEvent(input: unknown, prefix = '', registry: DomainRegistry = builtinRegistry): { ok: true; event: ValidEvent } | { ok: false; errors: FieldError[] } {
  const env = publishEnvelope.safeParse(input);
  if (!env.success) return { ok: false, errors: zodIssues(env.error, prefix) };
  const e = env.data;
  const at = (f: string) => (prefix ? `${prefix}.${f}` : f);
  const domain = e.type.split('.')[0]!;
  if (registry.isKnown(e.type)) {
    // Checked, not rewritten: the event keeps the data as sent (fields the schema does not name,
    // numeric ids, omitted defaults); normalizeData gives readers the schema's view of it.
    const parsed = registry.types[e.type]!.safeParse(e.data);
    if (!parsed.success) return { ok: false, errors: zodIssues(parsed.error, at('data')) };
  } else if (!e.type.startsWith(CUSTOM_PREFIX)) {
    const reason = registry.domain(domain)
      ? `unknown ${domain} event type; known: ${registry.typeNames.filter((t) => t.startsWith(domain + '.')).join(', ')}`
      : `unknown event type; use a known type or the custom prefix "${CUSTOM_PREFIX}" (e.g. x.${e.type})`;
    return { ok: false, errors: [{ path: at('type'), reason }] };
  }
  const missing = registry.requiredKeys(e.type).filter((k) => e[k] === undefined);
  if (missing.length)
    return { ok: false, errors: missing.map((k) => ({ path: at(k), reason: `required for ${domain}.* events` })) };
  return {
    ok: true,
    event: {
      id: e.id,
      type: e.type,
      data: e.data,
      store_id: e.store_id ?? null,
      user_id: e.user_id ?? null,
      strategy_id: e.strategy_id ?? null,
      tenant_id: e.tenant_id ?? null,
      topics: e.topics ?? null,
      priority: e.priority ?? defaultPriorityOf(e.type, registry),
      time: e.time ?? null,
      // The publisher's own objects, not zod's copies: those list keys in schema order, and the
      // actions are stored and delivered as sent.
      ...(e.actions !== undefined ? { actions: (input as { actions: EventAction[] }).actions } : {}),
    },
  };
}

/**
 * A known type's data as its schema reads it: ids as strings, defaults filled in, and every field
 * the schema does not name kept as it is. The stored event is not touched (a new object is built),
 * so projections and consoles see normalized values while the log keeps what was sent. Data of
 * other types is returned as it is; null when known-type data does not match its schema.
 */
export function normalizeData(type: string, data: Record<string, unknown>, registry: DomainRegistry = builtinRegistry): Record<string, unknown> | null {
  return registry.normalize(type, data);
}

/** JSON with object keys sorted at every level: equal for values that differ only in key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of Object.keys(obj).sort()) if (obj[k] !== undefined) parts.push(`${JSON.stringify(k)}:${canonicalJson(obj[k])}`);
  return `{${parts.join(',')}}`;
}

/**
 * What "the same event" means for an idempotency key: type, data, scope keys (tenant included),
 * topics, priority and attached actions. A retry must match all of them; the same id with any of
 * them different is a conflict, not a duplicate. Key order is not content (JSON objects are
 * unordered), every field is, including ones the type's schema does not name. Topics are compared in
 * the order sent (they are delivered so). An event without actions, tenant or topics keeps the key it
 * had before events could carry them, so fingerprints already stored (the Redis engine's) still
 * match their retries.
 */
export function eventContentKey(
  ev: Pick<ValidEvent, 'type' | 'data' | 'store_id' | 'user_id' | 'strategy_id' | 'priority'> & {
    actions?: unknown;
    tenant_id?: string | null;
    /** As sent, or a stored row's JSON text. */
    topics?: readonly string[] | string | null;
  },
): string {
  const parts: unknown[] = [ev.type, ev.data, ev.store_id ?? null, ev.user_id ?? null, ev.strategy_id ?? null, ev.priority];
  if (ev.actions !== undefined && ev.actions !== null) parts.push({ actions: ev.actions });
  if (ev.tenant_id != null) parts.push({ tenant_id: ev.tenant_id });
  const topics = typeof ev.topics === 'string' ? (JSON.parse(ev.topics) as string[]) : ev.topics;
  if (topics != null) parts.push({ topics });
  return canonicalJson(parts);
}

/** An event as the hub stores and delivers it. `seq` is the global order and the SSE id. */
export const hubEventSchema = z.object({
  seq: z.number().int().positive(),
  id: z.string(),
  type: z.string(),
  data: z.record(z.string(), z.unknown()),
  store_id: z.string().nullable(),
  user_id: z.string().nullable(),
  strategy_id: z.string().nullable(),
  /** Present only on events that carry them, so events without them are delivered as before. */
  tenant_id: z.string().optional(),
  topics: z.array(z.string()).optional(),
  priority: priority,
  /** When the publisher says it happened (defaults to received_at). */
  time: z.string(),
  /** When the hub committed it. */
  received_at: z.string(),
  /** Actions its publisher attached, as sent; absent when none were. */
  actions: z.array(eventActionSchema).optional(),
});
export type HubEvent = z.infer<typeof hubEventSchema>;

/** `trading.*` matches every trading type; anything else must match exactly. */
export function typeMatches(patterns: readonly string[] | undefined, type: string): boolean {
  if (!patterns || patterns.length === 0) return true;
  for (const p of patterns) {
    if (p === '*' || p === type) return true;
    if (p.endsWith('.*') && type.startsWith(p.slice(0, -1))) return true;
  }
  return false;
}

export const TYPE_FILTER_PATTERN = /^(\*|[a-z][a-z0-9_]*(\.[a-z0-9_-]+)*(\.\*)?)$/;
