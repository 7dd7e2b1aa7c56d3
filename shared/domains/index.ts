import { store } from './store.ts';
import { trading } from './trading.ts';
import { mail } from './mail.ts';
import { action } from './action.ts';
import { job } from './job.ts';
import { schedule } from './schedule.ts';
import { mercure } from './mercure.ts';
import { DomainRegistry } from './registry.ts';

// The registry of the built-in domains. Adding a domain: write shared/domains/<name>.ts with
// `defineDomain` and list it here; the known types, required scope keys, state kinds, snapshot and
// state-page schemas, reducers, summaries and toasts all follow (docs/architecture.md, "Domains").

/** The built-in domains, in the order their kinds appear in snapshots and views. */
export const BUILTIN_DOMAINS = [store, trading, mail, action, job, schedule, mercure] as const;

/** The registry every part uses unless it was given another (a hub started with more domains). */
export const builtinRegistry = new DomainRegistry(BUILTIN_DOMAINS);

type Builtin = (typeof BUILTIN_DOMAINS)[number];
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** Every built-in type with the schema of its data, as one object type. */
export type KnownTypes = UnionToIntersection<Builtin['types']>;
/** Every built-in state kind with its spec (wire field, cap, view), as one object type. */
export type BuiltinKinds = UnionToIntersection<Builtin['kinds']>;
/** The scope keys a type's built-in domain requires (never for other types), e.g. for the publisher client's types. */
export type RequiredKeyOf<T extends string> = T extends `${infer P}.${string}` ? Extract<Builtin, { name: P }>['requiredKeys'][number] : never;

export { DomainRegistry, type AnyDomain } from './registry.ts';
export { defineDomain, type Domain, type DomainSpec, type KindSpec, type StateRule, type Summary, type SummaryContext, type ViewToast } from './define.ts';
