/**
 * Topic selector matching (shared/topic-selector.ts), in process: what a subscription, a history
 * query or a publish check pays to decide whether an event's topics are selected.
 *
 *   node bin/run-ts.js bench/topic-selectors.ts        (BENCH_QUICK=1 for a short run)
 *
 * Scenarios, each with 10,000 distinct selectors (half exact topics, half URI templates with
 * distinct literal prefixes), against a stream of event topics of which about half match:
 *   one-set     one subscription holding all 10,000 selectors (TopicSelectorSet): cost per topic;
 *   per-group   10,000 subscriptions of one selector each, every topic checked by every one (the
 *               broker's fan-out with 10,000 distinct groups): cost per event and per check;
 *   compile     compiling 10,000 templates cold, then the same from the LRU cache;
 *   churn       25,000 distinct templates through the 16,384-entry cache (misses evict);
 *   hostile     a template of six adjacent reserved expansions against a 1,024-character topic
 *               that fails at its last character (a backtracking regex would not finish).
 * Baseline in the same run: a Set lookup of the topic among 10,000 exact strings.
 */
import { SelectorCache, TopicSelectorSet, compileSelector, selectorCache } from '../shared/topic-selector.ts';
import { inScope, type TokenScope } from '../shared/scope.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const N = 10_000;
const TOPICS = QUICK ? 20_000 : 200_000;

/**
 * CPU time of the process (user + system), not wall time: the machine these run on is shared, and
 * the time this process waited for a core is not a cost of matching. Wall time is printed at the end.
 */
let wallMs = 0;
function time<T>(fn: () => T): { ms: number; value: T } {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const value = fn();
  const c = process.cpuUsage(c0);
  wallMs += Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms: (c.user + c.system) / 1000, value };
}

const exact = Array.from({ length: N / 2 }, (_, i) => `https://example.net/wards/${i}/beds/${i % 17}`);
const templates = Array.from({ length: N / 2 }, (_, i) => `https://example.net/t${i}/wards/{ward}{/bed}{?q}`);
const selectors = [...exact, ...templates];

/** Event topics: a quarter exact hits, a quarter template hits, half misses (near misses of both). */
function topicAt(i: number): string {
  const k = i % N;
  switch (i % 4) {
    case 0: return exact[k % exact.length]!;
    case 1: return `https://example.net/t${k % templates.length}/wards/${i}/${i % 9}`;
    case 2: return `https://example.net/wards/${k}/beds/x${i}`;
    default: return `https://example.net/t${k % templates.length}/wards/${i}/a/b`;
  }
}
const topics = Array.from({ length: TOPICS }, (_, i) => topicAt(i));

const rows: [string, string][] = [];
const out = (name: string, value: string) => {
  rows.push([name, value]);
  console.log(`${name.padEnd(58)} ${value}`);
};

// compile: cold, then cached
{
  const cold = new SelectorCache(16_384);
  const c1 = time(() => templates.forEach((t) => cold.get(t)));
  const c2 = time(() => templates.forEach((t) => cold.get(t)));
  out(`compile ${templates.length} templates, cold`, `${c1.ms.toFixed(1)} ms (${((c1.ms * 1000) / templates.length).toFixed(2)} µs each)`);
  out(`same, from the LRU cache`, `${c2.ms.toFixed(2)} ms (${((c2.ms * 1e6) / templates.length).toFixed(0)} ns each)`);
}

// baseline: a Set of exact strings
{
  const set = new Set(exact);
  let hits = 0;
  const r = time(() => {
    for (const t of topics) if (set.has(t)) hits++;
  });
  out(`baseline: Set.has among ${exact.length} exact topics`, `${((r.ms * 1e6) / topics.length).toFixed(0)} ns/topic (${hits} hits)`);
}

// one-set
{
  const built = time(() => new TopicSelectorSet(selectors));
  const set = built.value;
  let hits = 0;
  const r = time(() => {
    for (const t of topics) if (set.matches(t)) hits++;
  });
  out(`one set of ${N} selectors: build`, `${built.ms.toFixed(1)} ms`);
  out(`one set of ${N} selectors: match`, `${((r.ms * 1e6) / topics.length).toFixed(0)} ns/topic, ${Math.round(topics.length / (r.ms / 1000)).toLocaleString('en')} topics/s (${hits} hits)`);
}

// per-group: N subscriptions of one selector each
{
  const groups = selectors.map((s) => new TopicSelectorSet([s]));
  const events = QUICK ? 200 : 2_000;
  let hits = 0;
  const r = time(() => {
    for (let i = 0; i < events; i++) {
      const t = topics[i]!;
      for (const g of groups) if (g.matches(t)) hits++;
    }
  });
  const checks = events * groups.length;
  out(`${N} subscriptions × ${events} events`, `${(r.ms / events).toFixed(2)} ms/event, ${((r.ms * 1e6) / checks).toFixed(0)} ns/check (${hits} deliveries)`);
}

// per-group through inScope: what the broker runs for a subscription whose token selects topics
{
  const scopes: TokenScope[] = selectors.map((s) => ({ subscribe_topics: [s] }));
  const events = QUICK ? 200 : 2_000;
  let hits = 0;
  const r = time(() => {
    for (let i = 0; i < events; i++) {
      const ev = { store_id: null, user_id: null, strategy_id: null, topics: [topics[i]!] };
      for (const sc of scopes) if (inScope(sc, ev)) hits++;
    }
  });
  out(`same through inScope (token subscribe_topics)`, `${(r.ms / events).toFixed(2)} ms/event, ${((r.ms * 1e6) / (events * scopes.length)).toFixed(0)} ns/check (${hits} deliveries)`);
}

// churn: more distinct templates than the cache holds
{
  const many = Array.from({ length: 25_000 }, (_, i) => `https://example.net/c${i}/{id}`);
  const before = { hits: selectorCache.hits, misses: selectorCache.misses };
  const r = time(() => {
    for (let round = 0; round < 2; round++) for (const s of many) compileSelector(s).matches(`https://example.net/c1/x`);
  });
  out(`churn: 2 × 25,000 distinct templates, cache 16,384`, `${r.ms.toFixed(0)} ms, ${selectorCache.misses - before.misses} misses, ${selectorCache.hits - before.hits} hits, size ${selectorCache.size}`);
}

// hostile
{
  const t = compileSelector('{+a}{+b}{+c}{+d}{+e}{+f}z');
  const topic = 'a'.repeat(1023) + ' ';
  const reps = QUICK ? 20 : 200;
  let matched = 0;
  const r = time(() => {
    for (let i = 0; i < reps; i++) if (t.matches(topic)) matched++;
  });
  out(`hostile: 6 adjacent {+x} vs 1,024-char failing topic`, `${((r.ms * 1000) / reps).toFixed(0)} µs/match (${matched} matched)`);
}

out('wall time of the timed sections (CPU time above)', `${wallMs.toFixed(0)} ms`);
console.log(JSON.stringify({ bench: 'topic-selectors', quick: QUICK, node: process.version, rows }, null, 0));
