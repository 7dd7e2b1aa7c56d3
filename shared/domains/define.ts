import type { z } from 'zod';
import type { HubEvent, Priority } from '../events.ts';
import type { ScopeKeyName } from '../state-keys.ts';

// A domain is one file: everything the hub, the console and the CLI need to know about a family of
// event types is declared once, with `defineDomain`, and the registry (shared/domains/index.ts)
// derives the lists, schemas, reducers, summaries and alert rules from it.

export type Data = Record<string, unknown>;

/** The keys a domain may require of its events: the scope keys, and the tenant (a hospital's schedule). */
export type RequiredKeyName = ScopeKeyName | 'tenant_id';

/** What a state rule or a summary may read of the event besides its data. */
export type DomainEvent = Pick<HubEvent, 'type' | 'store_id' | 'user_id' | 'strategy_id' | 'time' | 'topics'>;

/** A kind of current-state row a domain owns (one projection table; one list in snapshots). */
export interface KindSpec {
  /** The list's wire name in the `initial` snapshot and in GET /v1/state. */
  field: string;
  /** The most rows of the kind one snapshot carries (the newest, by seq). */
  cap: number;
  /** The GET /v1/state/{view} that pages through the kind's rows. */
  view: string;
  /**
   * Rows older than the retained log leave the state with it: all of them (`true`), or only those
   * whose data field `field` holds one of `in` (finished orders; open ones stay, they still matter).
   */
  prunedWithLog?: true | { field: string; in: readonly string[] };
}

/**
 * How one event type changes one row of `kind` (see StateChange in shared/state-changes.ts):
 * - `create` replaces the row with the event's fields, `patch` merges them over it, `delete` removes it.
 * - `id` names the data field holding the domain's id of the row (or computes it); the row's key
 *   adds the event's scope keys in front (shared/state-keys.ts).
 * - `fields` maps the data to what is written (the data itself when absent); `last_type` is added.
 * - `deleteIf`: a patch that removes the row instead when the data says so.
 * - `wholeRow`: the event carries every field of the row, so a window that did not hold the row
 *   shows a complete one (a `create` always does).
 */
export interface RowRule<K extends string> {
  op: 'create' | 'patch' | 'delete';
  kind: K;
  id: string | ((d: Data) => unknown);
  /** What a computed id is, in words, for the generated docs ("account, else connection_id"). */
  idText?: string;
  fields?: (d: Data, ev: DomainEvent) => Data;
  deleteIf?: (d: Data) => boolean;
  wholeRow?: boolean;
}

/** Every row of `kind` under the event's carried scope keys whose data `match` equals the event's goes. */
export interface EndSessionRule<K extends string> {
  op: 'end_session';
  kind: K;
  match: string;
}

/** `null`: the type keeps no state (it is history only). */
export type StateRule<K extends string> = RowRule<K> | EndSessionRule<K> | null;

/** What the window already knows, so a summary can name things the event only refers to by id. */
export interface SummaryContext {
  /** The data of the row of `kind` with this key, when the window holds it. */
  row?: (kind: string, key: string) => Data | undefined;
}

/**
 * The one-line text a person reads for an event: in the console's live view, its notices and toasts,
 * and in `relaydesk tail`. `d` is the data as the type's schema reads it (as sent when it does not match).
 */
export type Summary = (d: Data, ev: DomainEvent, ctx: SummaryContext) => string;

/**
 * An event the console toasts although it is below the user's alert threshold, while the user has
 * `view` open; toasts of one `group` share a slot. `when` narrows it by the data.
 */
export interface ViewToast {
  view: string;
  group: string;
  when?: (d: Data) => boolean;
}

export interface DomainSpec<
  P extends string,
  T extends Record<string, z.ZodType>,
  KS extends Record<string, KindSpec>,
  R extends readonly RequiredKeyName[] = readonly RequiredKeyName[],
> {
  /** The domain's name; every type it declares is `<name>.<...>`. */
  name: P;
  /** Every event type with the schema of its data. Loose schemas: fields they do not name are kept. */
  types: T;
  /** Scope keys every event of the domain must carry; refused at publish when one is missing. */
  requiredKeys: R;
  /** The current-state kinds the domain owns. */
  kinds: KS;
  /** For EVERY type: how it changes state, or null. A missing type fails the build. */
  state: { [Type in keyof T]: StateRule<NoInfer<keyof KS & string>> };
  /** For EVERY type: its one-line summary. A missing type fails the build. */
  summary: { [Type in keyof T]: Summary };
  /**
   * The priority of a type's events published without one, when not normal: an event at or above a
   * user's alert threshold is an alert (a notice, a toast, an unread inbox item) whatever its domain.
   */
  defaultPriority?: { [Type in keyof T]?: Priority };
  /** Types the console toasts below the alert threshold while their view is open. */
  viewToasts?: { [Type in keyof T]?: ViewToast };
  /** ANSI colour of the domain's types in `relaydesk tail`. */
  colour?: string;
}

export type Domain<
  P extends string = string,
  T extends Record<string, z.ZodType> = Record<string, z.ZodType>,
  KS extends Record<string, KindSpec> = Record<string, KindSpec>,
  R extends readonly RequiredKeyName[] = readonly RequiredKeyName[],
> = Readonly<DomainSpec<P, T, KS, R>>;

/**
 * Declare a domain. The mapped types make the compiler check that every type has a state rule and a
 * summary, and that every rule names a kind the domain owns; the registry checks the rest (names,
 * prefixes, clashes) when it is built.
 */
export function defineDomain<
  const P extends string,
  const T extends Record<string, z.ZodType>,
  const KS extends Record<string, KindSpec> = Record<never, KindSpec>,
  const R extends readonly RequiredKeyName[] = readonly [],
>(spec: DomainSpec<P, T, KS, R>): Domain<P, T, KS, R> {
  return spec;
}

/** `""` for absent values, so summaries never print "undefined". */
export const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
