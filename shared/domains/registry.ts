import type { z } from 'zod';
import type { HubEvent, Priority } from '../events.ts';
import type { StateChange } from '../state-changes.ts';
import { carriedKeys, stateRowKey, SCOPE_KEY_NAMES } from '../state-keys.ts';
import type { Data, RequiredKeyName, Domain, DomainEvent, KindSpec, RowRule, StateRule, SummaryContext, ViewToast } from './define.ts';

/** Anything `defineDomain` returned, whatever its literal types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDomain = Domain<string, any, any, any>;

const NAME = /^[a-z][a-z0-9_]*$/;
/** The custom prefix (shared/events.ts CUSTOM_PREFIX) belongs to publishers, never to a domain. */
const RESERVED_NAMES = new Set(['x']);

/** Longest fallback summary: the data's JSON, cut. */
const FALLBACK_CHARS = 160;

/**
 * Everything derived from a list of domains: the known types and their schemas, the scope keys each
 * needs, the state kinds with their wire fields, caps and views, what each type does to the state,
 * its summary and its toasts. The hub holds one (the built-in domains plus any it was started with);
 * the console and the CLI use the built-in one. Built once and never changed: a registry with more
 * domains is a new registry (`with`), so two hubs in one process never see each other's domains.
 */
export class DomainRegistry {
  readonly domains: readonly AnyDomain[];
  /** Every known type with the schema of its data. */
  readonly types: Readonly<Record<string, z.ZodType>>;
  readonly typeNames: readonly string[];
  /** State kinds in declaration order, with their wire field, cap and view. */
  readonly kinds: readonly string[];
  readonly kindSpecs: Readonly<Record<string, KindSpec>>;
  readonly fields: Readonly<Record<string, string>>;
  /** GET /v1/state/{view}: the kinds each view carries, in declaration order. */
  readonly views: Readonly<Record<string, readonly string[]>>;
  readonly caps: Readonly<Record<string, number>>;
  private readonly byName = new Map<string, AnyDomain>();
  private readonly rules = new Map<string, Exclude<StateRule<string>, null>>();

  constructor(domains: readonly AnyDomain[]) {
    this.domains = domains;
    const types: Record<string, z.ZodType> = {};
    const kindSpecs: Record<string, KindSpec> = {};
    const fieldOwner = new Map<string, string>();
    for (const d of domains) {
      const where = `domain "${d.name}"`;
      if (!NAME.test(d.name) || RESERVED_NAMES.has(d.name)) throw new Error(`${where}: the name must be a lower-case word other than ${[...RESERVED_NAMES].join(', ')}`);
      if (this.byName.has(d.name)) throw new Error(`${where} is registered twice`);
      this.byName.set(d.name, d);
      for (const k of d.requiredKeys) if (k !== 'tenant_id' && !SCOPE_KEY_NAMES.includes(k)) throw new Error(`${where}: unknown scope key ${k}`);
      for (const [kind, spec] of Object.entries(d.kinds as Record<string, KindSpec>)) {
        if (kind in kindSpecs) throw new Error(`${where}: state kind ${kind} is already owned by another domain`);
        const other = fieldOwner.get(spec.field);
        if (other) throw new Error(`${where}: state field ${spec.field} is already the field of ${other}`);
        if (!(Number.isInteger(spec.cap) && spec.cap > 0)) throw new Error(`${where}: state kind ${kind} needs a positive integer cap`);
        fieldOwner.set(spec.field, kind);
        kindSpecs[kind] = spec;
      }
      for (const [type, schema] of Object.entries(d.types as Record<string, z.ZodType>)) {
        if (!type.startsWith(`${d.name}.`)) throw new Error(`${where}: type ${type} must start with "${d.name}."`);
        types[type] = schema;
        // The compiler checks these for a domain written in TypeScript; a domain built at run time is checked here.
        if (!Object.hasOwn(d.state, type)) throw new Error(`${where}: type ${type} has no state rule (null if it keeps none)`);
        if (typeof d.summary[type] !== 'function') throw new Error(`${where}: type ${type} has no summary`);
        const rule = d.state[type] as StateRule<string>;
        if (rule) {
          if (!Object.hasOwn(d.kinds, rule.kind)) throw new Error(`${where}: the state rule of ${type} names kind ${rule.kind}, which the domain does not own`);
          this.rules.set(type, rule);
        }
      }
      for (const type of Object.keys(d.state)) if (!Object.hasOwn(d.types, type)) throw new Error(`${where}: state rule for undeclared type ${type}`);
    }
    this.types = types;
    this.typeNames = Object.keys(types);
    this.kindSpecs = kindSpecs;
    this.kinds = Object.keys(kindSpecs);
    this.fields = Object.fromEntries(this.kinds.map((k) => [k, kindSpecs[k]!.field]));
    this.caps = Object.fromEntries(this.kinds.map((k) => [k, kindSpecs[k]!.cap]));
    const views: Record<string, string[]> = {};
    for (const k of this.kinds) (views[kindSpecs[k]!.view] ??= []).push(k);
    this.views = views;
  }

  /** This registry's domains and `more`: a new registry, this one is not changed. */
  with(...more: AnyDomain[]): DomainRegistry {
    return more.length ? new DomainRegistry([...this.domains, ...more]) : this;
  }

  domain(name: string): AnyDomain | undefined {
    return this.byName.get(name);
  }

  /** The domain a type belongs to by its first word, known type or not. */
  domainOf(type: string): AnyDomain | undefined {
    return this.byName.get(type.split('.')[0]!);
  }

  isKnown(type: string): boolean {
    return Object.hasOwn(this.types, type);
  }

  /** Scope keys an event of this type must carry (its domain's). */
  requiredKeys(type: string): readonly RequiredKeyName[] {
    return this.domainOf(type)?.requiredKeys ?? [];
  }

  /** The view that pages through a wire field's rows. */
  viewOf(field: string): string | undefined {
    const kind = this.kinds.find((k) => this.fields[k] === field);
    return kind === undefined ? undefined : this.kindSpecs[kind]!.view;
  }

  /**
   * A known type's data as its schema reads it (ids as strings, defaults filled in, unnamed fields
   * kept); other types' data as it is; null when known-type data does not match its schema.
   */
  normalize(type: string, data: Data): Data | null {
    if (!this.isKnown(type)) return data;
    const r = this.types[type]!.safeParse(data);
    return r.success ? (r.data as Data) : null;
  }

  /**
   * The change `ev` makes to the current state, or null for types that keep none. `data` is the
   * event's data as its type's schema parsed it.
   */
  stateChangeOf(ev: DomainEvent, data: Data): StateChange<string> | null {
    const rule = this.rules.get(ev.type);
    if (!rule) return null;
    if (rule.op === 'end_session') return { op: 'end_session', kind: rule.kind, carried: carriedKeys(ev), field: rule.match, value: String(data[rule.match]) };
    const r: RowRule<string> = rule;
    const key = stateRowKey(ev, typeof r.id === 'function' ? r.id(data) : data[r.id]);
    if (r.op === 'delete' || r.deleteIf?.(data)) return { op: 'delete', kind: r.kind, key };
    return { op: r.op, kind: r.kind, key, fields: { ...(r.fields ? r.fields(data, ev) : data), last_type: ev.type } };
  }

  /**
   * Whether the type's event carries a whole row. Any other type patches a row; patching one a
   * window does not hold leaves a partial row until the hub's copy is fetched.
   */
  startsWholeRow(type: string): boolean {
    const rule = this.rules.get(type);
    return !!rule && rule.op !== 'end_session' && rule.op !== 'delete' && (rule.op === 'create' || rule.wholeRow === true);
  }

  /** One line a person can read for any event; compact JSON for types no domain knows. */
  summarize(ev: Pick<HubEvent, 'type' | 'data'> & Partial<DomainEvent>, ctx: SummaryContext = {}): string {
    const d = this.normalize(ev.type, ev.data) ?? ev.data;
    const summary = this.domainOf(ev.type)?.summary[ev.type];
    if (summary && this.isKnown(ev.type))
      return summary(d, { store_id: null, user_id: null, strategy_id: null, time: '', ...ev }, ctx);
    const json = JSON.stringify(ev.data);
    return json.length > FALLBACK_CHARS ? json.slice(0, FALLBACK_CHARS - 1) + '…' : json;
  }

  /** The priority a type's events get when published without one, if its domain sets one. */
  defaultPriority(type: string): Priority | undefined {
    return this.isKnown(type) ? (this.domainOf(type)?.defaultPriority as Record<string, Priority | undefined> | undefined)?.[type] : undefined;
  }

  /** The toast a type raises below the alert threshold while its view is open, if any. */
  viewToast(type: string, d: Data, view: string): ViewToast | null {
    const t = (this.domainOf(type)?.viewToasts as Record<string, ViewToast | undefined> | undefined)?.[type];
    if (!t || !this.isKnown(type) || t.view !== view || (t.when && !t.when(d))) return null;
    return t;
  }

  /** ANSI colour of a type's domain in `relaydesk tail`. */
  colour(type: string): string | undefined {
    return this.domainOf(type)?.colour;
  }
}
