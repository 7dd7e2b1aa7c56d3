import { z } from 'zod';
import { topicSelectorSchema, selectorSet, compileSelector, MAX_TOPIC_SELECTORS, type TopicSelectorSet } from './topic-selector.ts';

/**
 * Scope keys are strings on the wire. Backends in the seeds use integer ids (store 12, strategy 3);
 * we accept both and normalise to strings so `3` and `"3"` can never be two different scopes.
 */
export const scopeKey = z
  .union([z.string(), z.number().int().nonnegative()])
  .transform((v) => String(v))
  .pipe(
    z
      .string()
      .min(1, 'must not be empty')
      .max(64, 'must be at most 64 characters')
      .regex(/^[A-Za-z0-9._:@-]+$/, 'may only contain letters, digits and . _ : @ -'),
  );

export const tokenScopeSchema = z
  .object({
    user_id: scopeKey.optional(),
    strategy_ids: z.array(scopeKey).min(1).max(1000).optional(),
    store_ids: z.array(scopeKey).min(1).max(1000).optional(),
    tenant_id: scopeKey.optional(),
    /** What the token may publish: every topic of an event must match one of these selectors. */
    publish_topics: z.array(topicSelectorSchema).min(1).max(MAX_TOPIC_SELECTORS).optional(),
    /** What the token may see: an event is visible when one of its topics matches one of these. */
    subscribe_topics: z.array(topicSelectorSchema).min(1).max(MAX_TOPIC_SELECTORS).optional(),
  })
  .strict();
export type TokenScope = z.infer<typeof tokenScopeSchema>;

/** The scope keys an event carries. */
export interface EventKeys {
  store_id?: string | null;
  user_id?: string | null;
  strategy_id?: string | null;
  tenant_id?: string | null;
  /** The event's topics; a stored row holds them as JSON text, which is read here too. */
  topics?: readonly string[] | string | null;
}

/** An event's topics, from an event or a stored row; null when it has none (or they are unreadable). */
export function topicsOf(ev: Pick<EventKeys, 'topics'>): readonly string[] | null {
  const t = ev.topics;
  if (t == null) return null;
  if (typeof t !== 'string') return t;
  try {
    const parsed: unknown = JSON.parse(t);
    return Array.isArray(parsed) && parsed.every((x) => typeof x === 'string') ? parsed : null;
  } catch {
    return null;
  }
}

/** The two topic constraints a scope may hold, separately for publishing and for seeing. */
export const TOPIC_SCOPE_FIELDS = ['publish_topics', 'subscribe_topics'] as const;
export type TopicScopeField = (typeof TOPIC_SCOPE_FIELDS)[number];

/**
 * The one list of scope keys: the token scope field, the event key it constrains, and the values it
 * allows. Visibility, widening checks and descriptions are all driven by it, so a key added here is
 * enforced everywhere at once.
 */
export const SCOPE_KEYS = [
  { field: 'user_id', event: 'user_id', label: 'user', values: (s: TokenScope) => (s.user_id !== undefined ? [s.user_id] : undefined) },
  { field: 'strategy_ids', event: 'strategy_id', label: 'strategies', values: (s: TokenScope) => s.strategy_ids },
  { field: 'store_ids', event: 'store_id', label: 'stores', values: (s: TokenScope) => s.store_ids },
  { field: 'tenant_id', event: 'tenant_id', label: 'tenant', values: (s: TokenScope) => (s.tenant_id !== undefined ? [s.tenant_id] : undefined) },
] as const satisfies readonly { field: keyof TokenScope; event: keyof EventKeys; label: string; values: (s: TokenScope) => readonly string[] | undefined }[];
export type ScopeField = (typeof SCOPE_KEYS)[number]['field'] | TopicScopeField;

/**
 * Which scope key is outside the scope, for a 403 that names the field: a key the scope constrains
 * and the event lacks or holds another value of, or `topics` when the scope selects topics and none
 * of the event's topics is selected (an event without topics is outside every such scope).
 */
export function scopeViolation(scope: TokenScope, ev: EventKeys): Exclude<keyof EventKeys, 'topics'> | 'topics' | null {
  for (const k of SCOPE_KEYS) {
    const allowed = k.values(scope);
    const v = ev[k.event];
    if (allowed && (v == null || !allowed.includes(v))) return k.event;
  }
  if (scope.subscribe_topics && !selectorSet(scope.subscribe_topics).matchesAny(topicsOf(ev))) return 'topics';
  return null;
}

/**
 * Why a token may not publish an event, or null: a scope key as for visibility, or a topic its
 * publish selectors do not match (`topics.<i>`; `topics` when the event has none). Every topic must
 * match: a publisher cannot reach a topic's subscribers by adding it next to one of its own.
 */
export function publishViolation(scope: TokenScope, ev: EventKeys): { path: string; reason: string } | null {
  for (const k of SCOPE_KEYS) {
    const allowed = k.values(scope);
    const v = ev[k.event];
    if (allowed && (v == null || !allowed.includes(v))) return { path: k.event, reason: `outside this token's scope (${v ?? 'missing'})` };
  }
  if (scope.publish_topics) {
    const topics = topicsOf(ev);
    if (!topics?.length) return { path: 'topics', reason: `required: this token publishes only to topics matching ${scope.publish_topics.join(' ')}` };
    const i = selectorSet(scope.publish_topics).firstUnmatched(topics);
    if (i >= 0) return { path: `topics.${i}`, reason: `not matched by this token's publish_topics (${topics[i]})` };
  }
  return null;
}

/**
 * Fail closed: when a scope constrains a key, an event that lacks the key is outside the scope.
 * This one function decides visibility for streams, replay, history, snapshots and publishing.
 */
export function inScope(scope: TokenScope, ev: EventKeys): boolean {
  return scopeViolation(scope, ev) === null;
}

/** A scope that constrains nothing: it sees the whole hub. */
export function isUnscoped(scope: TokenScope): boolean {
  return SCOPE_KEYS.every((k) => k.values(scope) === undefined) && TOPIC_SCOPE_FIELDS.every((f) => scope[f] === undefined);
}

/**
 * Whether every topic `selector` matches is matched by `outer` too. Deciding that one URI template
 * covers another in general is not worth its risk, so this is conservative: `*` covers everything,
 * a selector covers itself, and a selector for one exact topic is covered when `outer` matches that
 * topic. Anything else counts as wider (a scoped admin cannot grant it).
 */
function selectorWithin(selector: string, outer: TopicSelectorSet): boolean {
  if (outer.any || outer.sources.includes(selector)) return true;
  return compileSelector(selector).kind === 'exact' && outer.matches(selector);
}

/**
 * The keys on which `inner` would see more than `outer`: a key `outer` constrains that `inner`
 * leaves open or allows other values for. Empty means `inner` is within `outer`.
 */
export function scopeExcess(inner: TokenScope, outer: TokenScope): ScopeField[] {
  const excess: ScopeField[] = [];
  for (const k of SCOPE_KEYS) {
    const allowed = k.values(outer);
    if (!allowed) continue;
    const asked = k.values(inner);
    if (!asked || asked.some((v) => !allowed.includes(v))) excess.push(k.field);
  }
  for (const f of TOPIC_SCOPE_FIELDS) {
    const allowed = outer[f];
    if (!allowed) continue;
    const set = selectorSet(allowed);
    const asked = inner[f];
    if (!asked || asked.some((sel) => !selectorWithin(sel, set))) excess.push(f);
  }
  return excess;
}

/** Everything `inner` can see, `outer` can see too (a scoped admin manages only such tokens). */
export function scopeWithin(inner: TokenScope, outer: TokenScope): boolean {
  return scopeExcess(inner, outer).length === 0;
}

export function describeScope(scope: TokenScope): string {
  const parts: string[] = [];
  for (const k of SCOPE_KEYS) {
    const v = k.values(scope);
    if (v) parts.push(`${k.label}=${v.join(',')}`);
  }
  for (const f of TOPIC_SCOPE_FIELDS) if (scope[f]) parts.push(`${f}=${scope[f].join(' ')}`);
  return parts.length ? parts.join(' ') : 'all';
}
