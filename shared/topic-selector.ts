import { z } from 'zod';

/**
 * Topics and topic selectors.
 *
 * A topic is a string an event is about: a URI (`https://example.net/wards/12`) or a plain name
 * (`wards/12`). A selector picks topics, and is one of:
 *   - `*`            every topic;
 *   - an exact topic, compared as a string;
 *   - an RFC 6570 URI template (`https://example.net/wards/{id}`), which matches every topic that
 *     some expansion of the template could produce (the Mercure protocol's rule).
 * A selector is a template when it contains `{`; a template is also compared as an exact string
 * first, so a topic that is literally `…/{id}` is matched by the same selector.
 *
 * Why a compiler of our own rather than a URI template library: the libraries (uri-template-matcher,
 * uri-templates' `fromUri`, uri-template-lite's `match`) extract variable values by building a
 * backtracking regular expression or by greedy scanning, and a subscriber chooses the template. A
 * backtracking expression for `{+a}{+b}{+c}` against a 1,024-character topic that fails at its last
 * character takes time that grows with the topic length to the power of the number of
 * expressions, and greedy scanning misses matches (`{+path}/comments`). We only need yes or no, so a
 * template is compiled into literals and variable expressions, and matching walks the topic once
 * per part, keeping the set of positions each prefix of the template can end at: time is bounded by
 * (topic length × number of parts), whatever the template. Each variable expression matches its
 * operator's prefix followed by any run of the characters its expansion can produce (unreserved and
 * `%`, plus reserved ones for `+` and `#`, plus the separators and `=` of lists and named values);
 * that is what Mercure's per-variable regular expressions accept too, without checking that a named
 * expansion (`{?page}`) spells its variable's name. A `:n` prefix modifier limits the run to n
 * characters (a %-encoded octet counts as three).
 */

export const TOPIC_MAX_LENGTH = 1024;
export const MAX_TOPICS_PER_EVENT = 20;
export const MAX_TOPIC_SELECTORS = 100;

// C0, DEL and C1 controls: they would break logs, headers and line-based tools.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Why a string is not a valid topic, or null. */
export function topicProblem(s: string): string | null {
  if (s.length === 0) return 'must not be empty';
  if (s.length > TOPIC_MAX_LENGTH) return `must be at most ${TOPIC_MAX_LENGTH} characters`;
  if (CONTROL.test(s)) return 'must not contain control characters';
  return null;
}

export const topicSchema = z.string().superRefine((s, ctx) => {
  const p = topicProblem(s);
  if (p) ctx.addIssue({ code: 'custom', message: p });
});

/** An event's topics: 1 to 20 distinct topics. */
export const topicsSchema = z
  .array(topicSchema)
  .min(1, 'must name at least one topic')
  .max(MAX_TOPICS_PER_EVENT, `must name at most ${MAX_TOPICS_PER_EVENT} topics`)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((t, i) => {
      if (seen.has(t)) ctx.addIssue({ code: 'custom', path: [i], message: 'repeats an earlier topic' });
      seen.add(t);
    });
  });

export class TopicSelectorError extends Error {}

type Part = { kind: 'literal'; text: string } | { kind: 'expr'; prefix: string; allowed: (c: number) => boolean; max: number };

const OPERATORS: Record<string, { prefix: string; sep: string; reserved: boolean; named: boolean }> = {
  '': { prefix: '', sep: ',', reserved: false, named: false },
  '+': { prefix: '', sep: ',', reserved: true, named: false },
  '#': { prefix: '#', sep: ',', reserved: true, named: false },
  '.': { prefix: '.', sep: '.', reserved: false, named: false },
  '/': { prefix: '/', sep: '/', reserved: false, named: false },
  ';': { prefix: ';', sep: ';', reserved: false, named: true },
  '?': { prefix: '?', sep: '&', reserved: false, named: true },
  '&': { prefix: '&', sep: '&', reserved: false, named: true },
};
const RESERVED_OPERATORS = '=,!@|';
const VARSPEC = /^((?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})+(?:\.(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})+)*)(?::([1-9][0-9]{0,3})|(\*))?$/;

const charSet = (chars: string) => {
  const s = new Set<number>();
  for (const c of chars) s.add(c.charCodeAt(0));
  return s;
};
const RESERVED = charSet(":/?#[]@!$&'()*+,;=");
const isUnreserved = (c: number) =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
  c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e || c === 0x25 /* % of a %-encoded octet */ ||
  // Topics may be IRIs: a value's non-ASCII characters are matched as they are, not %-encoded.
  c >= 0xa0;

function compileExpression(body: string, template: string): Part {
  const opChar = '+#./;?&'.includes(body[0]!) ? body[0]! : '';
  if (RESERVED_OPERATORS.includes(body[0]!)) throw new TopicSelectorError(`operator "${body[0]}" is reserved in ${JSON.stringify(template)}`);
  const op = OPERATORS[opChar]!;
  const specs = body.slice(opChar.length).split(',');
  let max = Infinity;
  let explode = false;
  for (const spec of specs) {
    const m = VARSPEC.exec(spec);
    if (!m) throw new TopicSelectorError(`invalid variable ${JSON.stringify(spec)} in ${JSON.stringify(template)}`);
    if (m[3]) explode = true;
    // A prefix modifier bounds the run only when it is the expression's one variable.
    if (m[2] && specs.length === 1) max = Number(m[2]);
  }
  const extra = charSet(',' + (specs.length > 1 || explode ? op.sep : '') + (op.named || explode ? '=' : ''));
  const allowed = op.reserved ? (c: number) => isUnreserved(c) || RESERVED.has(c) : (c: number) => isUnreserved(c) || extra.has(c);
  return { kind: 'expr', prefix: op.prefix, allowed, max };
}

function compileTemplate(template: string): Part[] {
  const parts: Part[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    const close = template.indexOf('}', i);
    if (close !== -1 && (open === -1 || close < open)) throw new TopicSelectorError(`"}" without "{" at ${close} in ${JSON.stringify(template)}`);
    if (open === -1) {
      parts.push({ kind: 'literal', text: template.slice(i) });
      break;
    }
    if (open > i) parts.push({ kind: 'literal', text: template.slice(i, open) });
    if (close === -1) throw new TopicSelectorError(`"{" at ${open} is never closed in ${JSON.stringify(template)}`);
    const body = template.slice(open + 1, close);
    if (body.includes('{')) throw new TopicSelectorError(`"{" inside an expression at ${open} in ${JSON.stringify(template)}`);
    if (body.length === 0) throw new TopicSelectorError(`empty expression at ${open} in ${JSON.stringify(template)}`);
    parts.push(compileExpression(body, template));
    i = close + 1;
  }
  return parts;
}

/**
 * Whether `topic` is an expansion of the compiled template. `reach[p]` says some prefix of the
 * template matches `topic[0, p)`; each part turns the reachable set into the next one in one pass
 * over the topic (an expression's ends form one run per start, marked with a difference array).
 */
// Scratch arrays reused by every match (matching is synchronous and never re-entered), grown to
// the longest topic seen: a match allocates nothing.
let reachA = new Uint8Array(TOPIC_MAX_LENGTH + 2);
let reachB = new Uint8Array(TOPIC_MAX_LENGTH + 2);
let diff = new Int32Array(TOPIC_MAX_LENGTH + 3);
let run = new Int32Array(TOPIC_MAX_LENGTH + 2);

function matchParts(parts: Part[], topic: string): boolean {
  const n = topic.length;
  if (n + 3 > diff.length) {
    reachA = new Uint8Array(n + 2);
    reachB = new Uint8Array(n + 2);
    diff = new Int32Array(n + 3);
    run = new Int32Array(n + 2);
  }
  let reach = reachA;
  let next = reachB;
  reach.fill(0, 0, n + 1);
  reach[0] = 1;
  // The lowest reachable position: nothing before it needs looking at.
  let lo = 0;
  for (const part of parts) {
    next.fill(0, lo, n + 1);
    let first = -1;
    if (part.kind === 'literal') {
      const len = part.text.length;
      for (let p = lo; p + len <= n; p++)
        if (reach[p] && topic.startsWith(part.text, p)) {
          next[p + len] = 1;
          if (first < 0) first = p + len;
        }
    } else {
      diff.fill(0, lo, n + 2);
      // How far the expression's characters extend from each position (computed right to left).
      run[n] = n;
      for (let p = n - 1; p >= lo; p--) run[p] = part.allowed(topic.charCodeAt(p)) ? run[p + 1]! : p;
      const plen = part.prefix.length;
      for (let p = lo; p <= n; p++) {
        if (!reach[p]) continue;
        next[p] = 1; // every variable undefined: the expression expands to nothing
        if (first < 0) first = p;
        if (plen && !topic.startsWith(part.prefix, p)) continue;
        const start = p + plen;
        if (start > n) continue;
        const end = Math.min(run[start]!, start + part.max);
        diff[start]! += 1;
        diff[end + 1]! -= 1;
      }
      let open = 0;
      for (let p = lo; p <= n; p++) {
        open += diff[p]!;
        if (open > 0) next[p] = 1;
      }
    }
    if (first < 0) return false;
    lo = first;
    [reach, next] = [next, reach];
  }
  return reach[n] === 1;
}

export interface TopicSelector {
  readonly source: string;
  readonly kind: 'any' | 'exact' | 'template';
  /** The template's text before its first expression (the selector itself when exact). */
  readonly literalPrefix: string;
  matches(topic: string): boolean;
}

/**
 * Recent template answers, by template and topic. A broker flush asks every subscription in turn
 * about the same few events' topics, and subscriptions with lists of their own still share
 * templates, so most questions were just answered. One bounded map for the process (it starts over
 * when full): at most TEMPLATE_MEMO_MAX keys of a template and a topic, a few MB at their longest.
 */
const templateAnswers = new Map<string, boolean>();
const TEMPLATE_MEMO_MAX = 4_096;

function build(source: string): TopicSelector {
  if (source === '*') return { source, kind: 'any', literalPrefix: '', matches: () => true };
  if (!source.includes('{') && !source.includes('}')) return { source, kind: 'exact', literalPrefix: source, matches: (t) => t === source };
  const parts = compileTemplate(source);
  const first = parts[0];
  const literalPrefix = first?.kind === 'literal' ? first.text : '';
  return {
    source,
    kind: 'template',
    literalPrefix,
    matches: (t) => {
      if (t === source) return true;
      if (!t.startsWith(literalPrefix)) return false;
      // A newline is in neither a selector nor a topic: the key is unambiguous.
      const key = `${source}\n${t}`;
      const known = templateAnswers.get(key);
      if (known !== undefined) return known;
      const answer = matchParts(parts, t);
      if (templateAnswers.size >= TEMPLATE_MEMO_MAX) templateAnswers.clear();
      templateAnswers.set(key, answer);
      return answer;
    },
  };
}

/** Why a string is not a valid selector, or null. */
export function selectorProblem(s: string): string | null {
  const p = topicProblem(s);
  if (p) return p;
  try {
    compileSelector(s);
    return null;
  } catch (err) {
    if (err instanceof TopicSelectorError) return err.message;
    throw err;
  }
}

export const topicSelectorSchema = z.string().superRefine((s, ctx) => {
  const p = selectorProblem(s);
  if (p) ctx.addIssue({ code: 'custom', message: p });
});

/** A bounded least-recently-used cache of compiled selectors (a Map keeps insertion order). */
export class SelectorCache {
  private readonly map = new Map<string, TopicSelector>();
  hits = 0;
  misses = 0;
  constructor(readonly capacity: number) {}

  get(source: string): TopicSelector {
    const found = this.map.get(source);
    if (found) {
      this.hits++;
      this.map.delete(source);
      this.map.set(source, found);
      return found;
    }
    this.misses++;
    const compiled = build(source);
    this.map.set(source, compiled);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
    return compiled;
  }

  get size(): number {
    return this.map.size;
  }
}

/** The process-wide cache: every subscription, token and history query compiles through it. */
export const selectorCache = new SelectorCache(16_384);

/** A compiled selector (cached); throws TopicSelectorError for a malformed template. */
export function compileSelector(source: string): TopicSelector {
  return selectorCache.get(source);
}

export function selectorMatches(selector: string, topic: string): boolean {
  return compileSelector(selector).matches(topic);
}

/**
 * A set of selectors, matched as one: `*` short-cuts, exact selectors are one hash lookup, and
 * templates are grouped by their literal prefix so a topic is only tried against the templates
 * whose prefix it starts with (one lookup per distinct prefix length).
 */
export class TopicSelectorSet {
  readonly any: boolean;
  readonly exact = new Set<string>();
  private readonly byPrefix = new Map<string, TopicSelector[]>();
  private readonly prefixLengths: number[];
  readonly sources: readonly string[];

  constructor(selectors: readonly string[]) {
    this.sources = [...selectors];
    let any = false;
    const lengths = new Set<number>();
    for (const s of selectors) {
      const c = compileSelector(s);
      if (c.kind === 'any') any = true;
      else if (c.kind === 'exact') this.exact.add(s);
      else {
        this.exact.add(s);
        const list = this.byPrefix.get(c.literalPrefix);
        if (list) list.push(c);
        else this.byPrefix.set(c.literalPrefix, [c]);
        lengths.add(c.literalPrefix.length);
      }
    }
    this.any = any;
    this.prefixLengths = [...lengths].sort((a, b) => a - b);
  }

  /** The template selectors' literal prefixes (for an SQL range pre-filter). */
  templatePrefixes(): string[] {
    return [...this.byPrefix.keys()];
  }

  matches(topic: string): boolean {
    if (this.any || this.exact.has(topic)) return true;
    for (const len of this.prefixLengths) {
      if (len > topic.length) break;
      const list = this.byPrefix.get(topic.slice(0, len));
      if (list) for (const t of list) if (t.matches(topic)) return true;
    }
    return false;
  }

  /** Whether any of an event's topics is selected (an event without topics is not). */
  matchesAny(topics: readonly string[] | null | undefined): boolean {
    if (!topics) return false;
    for (const t of topics) if (this.matches(t)) return true;
    return false;
  }

  /** Whether every one of the topics is selected (what a publisher may publish). */
  firstUnmatched(topics: readonly string[]): number {
    for (let i = 0; i < topics.length; i++) if (!this.matches(topics[i]!)) return i;
    return -1;
  }
}

/** Compiled sets for repeated selector lists (scopes and filters are shared by many connections). */
const setCache = new Map<string, TopicSelectorSet>();
const SET_CACHE_MAX = 4096;
const byList = new WeakMap<readonly string[], TopicSelectorSet>();
export function selectorSet(selectors: readonly string[]): TopicSelectorSet {
  // A subscription checks every event against the same list object: found by identity, no key built.
  const same = byList.get(selectors);
  if (same) return same;
  const key = JSON.stringify(selectors);
  const found = setCache.get(key);
  if (found) {
    setCache.delete(key);
    setCache.set(key, found);
    byList.set(selectors, found);
    return found;
  }
  const made = new TopicSelectorSet(selectors);
  setCache.set(key, made);
  byList.set(selectors, made);
  if (setCache.size > SET_CACHE_MAX) setCache.delete(setCache.keys().next().value!);
  return made;
}
