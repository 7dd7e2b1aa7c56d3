import { describe, it, expect } from 'vitest';
import {
  selectorMatches, selectorProblem, topicProblem, topicsSchema, SelectorCache, TopicSelectorSet, compileSelector,
  TOPIC_MAX_LENGTH,
} from '../../shared/topic-selector.ts';

describe('topics', () => {
  it('accepts URIs and plain names up to 1,024 characters', () => {
    expect(topicProblem('https://example.net/wards/12')).toBeNull();
    expect(topicProblem('wards/12 east')).toBeNull();
    expect(topicProblem('x'.repeat(TOPIC_MAX_LENGTH))).toBeNull();
  });

  it('refuses empty, too long and control characters', () => {
    expect(topicProblem('')).toBe('must not be empty');
    expect(topicProblem('x'.repeat(TOPIC_MAX_LENGTH + 1))).toMatch(/at most 1024/);
    for (const c of ['\n', '\r', '\u0000', '\u007f', '\u0085']) expect(topicProblem(`a${c}b`)).toMatch(/control/);
  });

  it('an event carries 1 to 20 distinct topics, each named on error', () => {
    expect(topicsSchema.safeParse(['a']).success).toBe(true);
    expect(topicsSchema.safeParse([]).success).toBe(false);
    expect(topicsSchema.safeParse(Array.from({ length: 21 }, (_, i) => `t${i}`)).success).toBe(false);
    const dup = topicsSchema.safeParse(['a', 'b', 'a']);
    expect(dup.success ? [] : dup.error.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['2', 'repeats an earlier topic']]);
    const ctl = topicsSchema.safeParse(['ok', 'bad\n']);
    expect(ctl.success ? [] : ctl.error.issues.map((i) => i.path.join('.'))).toEqual(['1']);
  });
});

describe('topic selectors', () => {
  it('`*` matches every topic, an exact selector only itself', () => {
    expect(selectorMatches('*', 'anything/at all')).toBe(true);
    expect(selectorMatches('wards/12', 'wards/12')).toBe(true);
    expect(selectorMatches('wards/12', 'wards/123')).toBe(false);
    expect(selectorMatches('wards/12', 'wards/1')).toBe(false);
  });

  it('a simple variable matches one path segment, not across `/`, `?` or `#`', () => {
    const t = 'https://example.net/wards/{id}';
    expect(selectorMatches(t, 'https://example.net/wards/12')).toBe(true);
    expect(selectorMatches(t, 'https://example.net/wards/')).toBe(true); // an empty value
    expect(selectorMatches(t, 'https://example.net/wards/a%20b')).toBe(true);
    expect(selectorMatches(t, 'https://example.net/wards/1,2')).toBe(true); // a list value
    expect(selectorMatches(t, 'https://example.net/wards/12/beds')).toBe(false);
    expect(selectorMatches(t, 'https://example.net/wards/12?x=1')).toBe(false);
    expect(selectorMatches(t, 'https://example.net/wards/12#top')).toBe(false);
    expect(selectorMatches(t, 'https://example.net/ward/12')).toBe(false);
    expect(selectorMatches(t, 'http://example.net/wards/12')).toBe(false);
  });

  it('literals after a variable must match, wherever the variable ends', () => {
    const t = 'https://example.net/wards/{id}/beds/{bed}';
    expect(selectorMatches(t, 'https://example.net/wards/3/beds/7')).toBe(true);
    expect(selectorMatches(t, 'https://example.net/wards/3/beds')).toBe(false);
    expect(selectorMatches('{a}.json', 'report.v2.json')).toBe(true); // `.` is unreserved
    expect(selectorMatches('{a}-{b}', 'a-b-c')).toBe(true);
  });

  it('reserved expansion `{+path}` crosses `/`, and the literal after it still anchors', () => {
    expect(selectorMatches('https://example.net/{+path}', 'https://example.net/a/b/c?x=1')).toBe(true);
    expect(selectorMatches('https://example.net/{+path}/comments', 'https://example.net/a/b/comments')).toBe(true);
    expect(selectorMatches('https://example.net/{+path}/comments', 'https://example.net/a/b/likes')).toBe(false);
    expect(selectorMatches('https://example.net/{+path}', 'https://example.net/a b')).toBe(false); // space is never produced
  });

  it('operators: path segments, labels, fragments, query', () => {
    expect(selectorMatches('/wards{/id}', '/wards/12')).toBe(true);
    expect(selectorMatches('/wards{/id}', '/wards')).toBe(true); // undefined variable: no prefix
    expect(selectorMatches('/wards{/id}', '/wards/12/13')).toBe(false);
    expect(selectorMatches('/wards{/id*}', '/wards/12/13')).toBe(true);
    expect(selectorMatches('/wards{/id,bed}', '/wards/12/13')).toBe(true);
    expect(selectorMatches('host{.dom*}', 'host.example.com')).toBe(true);
    expect(selectorMatches('/page{#frag}', '/page#a/b')).toBe(true);
    expect(selectorMatches('/search{?q,lang}', '/search?q=cat&lang=en')).toBe(true);
    expect(selectorMatches('/search{?q}', '/search?q=cat')).toBe(true);
    expect(selectorMatches('/search{?q}', '/search?q=cat/x')).toBe(false);
    expect(selectorMatches('/search{?q}{&lang}', '/search?q=cat&lang=en')).toBe(true);
    expect(selectorMatches('/m{;x,y}', '/m;x=1;y=2')).toBe(true);
  });

  it('a prefix modifier bounds the value', () => {
    expect(selectorMatches('/c/{code:3}', '/c/abc')).toBe(true);
    expect(selectorMatches('/c/{code:3}', '/c/abcd')).toBe(false);
  });

  it('a template also matches itself as an exact string', () => {
    expect(selectorMatches('wards/{id}', 'wards/{id}')).toBe(true);
  });

  it('malformed templates are refused with the reason', () => {
    expect(selectorProblem('wards/{id')).toMatch(/never closed/);
    expect(selectorProblem('wards/id}')).toMatch(/without "\{"/);
    expect(selectorProblem('wards/{}')).toMatch(/empty expression/);
    expect(selectorProblem('wards/{a{b}}')).toMatch(/inside an expression/);
    expect(selectorProblem('wards/{=a}')).toMatch(/reserved/);
    expect(selectorProblem('wards/{a b}')).toMatch(/invalid variable/);
    expect(selectorProblem('wards/{a:0}')).toMatch(/invalid variable/);
    expect(selectorProblem('wards/{a:3*}')).toMatch(/invalid variable/);
    expect(selectorProblem('a\nb')).toMatch(/control/);
    expect(selectorProblem('')).toMatch(/empty/);
    expect(selectorProblem('wards/{id}/{+rest}{?q,lang*}{&x:12}')).toBeNull();
  });

  it('adjacent unbounded expressions stay linear: a failing 1,024-character topic is answered', () => {
    // With a backtracking regular expression this would take on the order of 1024^6 steps.
    const t = '{+a}{+b}{+c}{+d}{+e}{+f}z';
    expect(selectorMatches(t, 'a'.repeat(1023) + ' ')).toBe(false);
    expect(selectorMatches(t, 'a'.repeat(1023) + 'z')).toBe(true);
  });
});

describe('selector sets and the cache', () => {
  it('a set matches by `*`, exact lookups and templates grouped by their literal prefix', () => {
    const s = new TopicSelectorSet(['wards/1', 'https://example.net/wards/{id}', 'https://example.net/beds/{id}', '{x}/free']);
    expect(s.matches('wards/1')).toBe(true);
    expect(s.matches('https://example.net/wards/9')).toBe(true);
    expect(s.matches('https://example.net/beds/9')).toBe(true);
    expect(s.matches('any/free')).toBe(true);
    expect(s.matches('https://example.net/doors/9')).toBe(false);
    expect(s.matchesAny(['nope', 'wards/1'])).toBe(true);
    expect(s.matchesAny([])).toBe(false);
    expect(s.matchesAny(null)).toBe(false);
    expect(s.firstUnmatched(['wards/1', 'nope'])).toBe(1);
    expect(s.templatePrefixes().sort()).toEqual(['', 'https://example.net/beds/', 'https://example.net/wards/']);
    expect(new TopicSelectorSet(['*']).matches('x')).toBe(true);
  });

  it('templates answer the same when asked again, by many selectors, past the bound of remembered answers', () => {
    const ward = compileSelector('https://example.net/wards/{id}');
    const floor = compileSelector('https://example.net/{floor}/beds/{bed}');
    // Asked in turns, as a flush asks subscription after subscription, over more topics than are kept.
    for (let round = 0; round < 3; round++)
      for (let i = 0; i < 3_000; i++) {
        expect(ward.matches(`https://example.net/wards/${i}`)).toBe(true);
        expect(ward.matches(`https://example.net/wards/${i}/x`)).toBe(false);
        expect(floor.matches(`https://example.net/f${i}/beds/${i}`)).toBe(true);
        expect(floor.matches(`https://example.net/wards/${i}`)).toBe(false);
      }
    expect(selectorMatches('https://example.net/wards/{id}', 'https://example.net/wards/{id}')).toBe(true);
  });

  it('the cache is bounded and evicts the least recently used', () => {
    const c = new SelectorCache(2);
    const a = c.get('a/{x}');
    c.get('b/{x}');
    expect(c.get('a/{x}')).toBe(a); // a is now the most recent
    c.get('c/{x}'); // evicts b
    expect(c.size).toBe(2);
    expect(c.get('a/{x}')).toBe(a);
    const misses = c.misses;
    c.get('b/{x}');
    expect(c.misses).toBe(misses + 1);
  });

  it('compiled selectors are shared', () => {
    expect(compileSelector('q/{id}')).toBe(compileSelector('q/{id}'));
  });
});
