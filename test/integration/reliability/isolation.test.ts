import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestHub, api, publish, createToken, until, type TestHub, allEvents } from '../../helpers/hub.ts';
import { openRawSse, prng, type RawSse } from '../../helpers/reliability.ts';
import { sample } from '../../helpers/events.ts';
import { inScope, publishViolation, type TokenScope } from '../../../shared/scope.ts';
import { typeMatches, type HubEvent } from '../../../shared/events.ts';
import type { PublishEnvelope } from '../../../shared/events.ts';

/**
 * Isolation: many tokens with random scopes, thousands of events with random scope keys. No stream
 * (live, replayed, reconnected), history page, snapshot or state view ever shows anything outside
 * the token's scope; shared `inScope` is the oracle. Streams also get everything they should.
 */
const SEED = Number(process.env.ISOLATION_SEED ?? 4242);
const EVENTS = Number(process.env.ISOLATION_EVENTS ?? 3000);
const USERS = ['u1', 'u2', 'u3'];
const STRATS = ['1', '2', '3'];
const STORES = ['s1', 's2', 's3'];
const TENANTS = ['t1', 't2'];
/** The topics events carry: URIs at several depths and a plain name. */
const TOPICS = ['https://ex.net/wards/1', 'https://ex.net/wards/2', 'https://ex.net/wards/1/beds/3', 'https://ex.net/beds/7', 'alarms', 'https://ex.net/wards/2?shift=night'];
/**
 * Selectors with what each must match over TOPICS, written out as a plain regex: an oracle that does
 * not share the hub's template matcher (inScope does, so topic checks below also use this).
 */
const SELECTORS: { sel: string; re: RegExp }[] = [
  { sel: 'https://ex.net/wards/{id}', re: /^https:\/\/ex\.net\/wards\/[^/?#]*$/ },
  { sel: 'https://ex.net/wards/1', re: /^https:\/\/ex\.net\/wards\/1$/ },
  { sel: 'alarms', re: /^alarms$/ },
  { sel: 'https://ex.net/{+rest}', re: /^https:\/\/ex\.net\/.*$/ },
  { sel: 'https://ex.net/wards/{id}{?shift}', re: /^https:\/\/ex\.net\/wards\/[^/?#]*(\?shift=[^/&#]*)?$/ },
  { sel: '{name}', re: /^[A-Za-z0-9._~%-]*$/ },
  { sel: '*', re: /^/ },
];
const selectorRe = (sel: string) => SELECTORS.find((x) => x.sel === sel)!.re;
/** Whether one of the event's topics matches one of the selectors, by the oracle above. */
const topicSelected = (selectors: string[], topics: readonly string[] | undefined) =>
  !!topics?.some((t) => selectors.some((sel) => selectorRe(sel).test(t)));

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ rateLimitPerSecond: 0 });
});
afterAll(async () => {
  await t?.stop();
});

interface Filters {
  store_id?: string[];
  user_id?: string[];
  strategy_id?: string[];
  tenant_id?: string[];
  topic?: string[];
  type?: string[];
}
interface Stream {
  token: string;
  scope: TokenScope;
  filters: Filters;
  raw: RawSse;
  got: HubEvent[];
  reconnects: number;
}

type Keys = Pick<HubEvent, 'store_id' | 'user_id' | 'strategy_id' | 'type' | 'tenant_id' | 'topics'>;
/** inScope, with the topic part checked by the regex oracle too (both must agree). */
const inScopeChecked = (scope: TokenScope, e: Keys) => {
  const byHub = inScope(scope, e);
  if (scope.subscribe_topics && byHub !== (inScope({ ...scope, subscribe_topics: undefined }, e) && topicSelected(scope.subscribe_topics, e.topics)))
    throw new Error(`inScope disagrees with the topic oracle for ${JSON.stringify(scope)} on ${JSON.stringify(e)}`);
  return byHub;
};
const visible = (scope: TokenScope, f: Filters, e: Keys) =>
  inScopeChecked(scope, e) &&
  (!f.tenant_id || (e.tenant_id != null && f.tenant_id.includes(e.tenant_id))) &&
  (!f.topic || topicSelected(f.topic, e.topics)) &&
  (!f.store_id || (e.store_id != null && f.store_id.includes(e.store_id))) &&
  (!f.user_id || (e.user_id != null && f.user_id.includes(e.user_id))) &&
  (!f.strategy_id || (e.strategy_id != null && f.strategy_id.includes(e.strategy_id))) &&
  typeMatches(f.type, e.type);

function query(f: Filters, extra: Record<string, string> = {}): string {
  const u = new URLSearchParams({ events: 'message', ...extra });
  for (const [k, vs] of Object.entries(f)) for (const v of vs as string[]) u.append(k, v);
  return u.toString();
}

describe('isolation between scopes', () => {
  it(`never shows an event outside a token's scope (seed ${SEED}, ${EVENTS} events)`, async () => {
    const r = prng(SEED);
    const subset = (xs: string[]) => {
      const s = xs.filter(() => r.chance(0.5));
      return s.length ? s : [r.pick(xs)];
    };

    // Tokens: every combination style of user, strategies and stores, plus a few unscoped.
    const scopes: TokenScope[] = [];
    for (let i = 0; i < 18; i++) {
      const s: TokenScope = {};
      if (r.chance(0.5)) s.user_id = r.pick(USERS);
      if (r.chance(0.5)) s.strategy_ids = subset(STRATS);
      if (r.chance(0.4)) s.store_ids = subset(STORES);
      if (r.chance(0.4)) s.tenant_id = r.pick(TENANTS);
      if (r.chance(0.35)) s.subscribe_topics = subset(SELECTORS.map((x) => x.sel));
      scopes.push(s);
    }
    scopes.push({}, { user_id: 'u1', strategy_ids: ['1'], store_ids: ['s1'] }, { tenant_id: 't1' }, { subscribe_topics: ['https://ex.net/wards/{id}'] }, { tenant_id: 't2', subscribe_topics: ['alarms', '{name}'] });
    const tokens = await Promise.all(scopes.map((s, i) => createToken(t.url, 'subscriber', s, `iso-${i}`)));

    // A filter narrower than the scope must be honoured; one wider than it must be refused.
    const streams: Stream[] = [];
    for (let i = 0; i < scopes.length; i++) {
      const scope = scopes[i]!;
      const variants: Filters[] = [{}];
      const f: Filters = {};
      if (r.chance(0.5)) f.strategy_id = subset(scope.strategy_ids ?? STRATS);
      if (r.chance(0.3)) f.store_id = subset(scope.store_ids ?? STORES);
      if (r.chance(0.3)) f.user_id = [scope.user_id ?? r.pick(USERS)];
      if (r.chance(0.3)) f.type = [r.pick(['trading.*', 'store.*', 'mail.*', 'x.*', 'trading.order.*'])];
      if (r.chance(0.3)) f.tenant_id = [scope.tenant_id ?? r.pick(TENANTS)];
      // Exact topics a topic-scoped token may only ask for inside its selectors (else 403, below).
      if (r.chance(0.4)) f.topic = subset(SELECTORS.map((x) => x.sel).filter((sel) => !scope.subscribe_topics || sel.includes('{') || sel === '*' || scope.subscribe_topics.some((own) => selectorRe(own).test(sel))));
      variants.push(f);
      for (const filters of variants) {
        const raw = openRawSse(t.url, `/v1/stream?${query(filters, { snapshot: '1' })}`, { token: tokens[i] });
        streams.push({ token: tokens[i]!, scope, filters, raw, got: [], reconnects: 0 });
      }
      if (scope.strategy_ids && scope.strategy_ids.length < STRATS.length) {
        const outside = STRATS.find((s) => !scope.strategy_ids!.includes(s))!;
        const refused = await api(t.url, `/v1/events?strategy_id=${outside}`, { token: tokens[i] });
        expect(refused.status).toBe(403);
        expect(refused.body.error.fields[0].path).toBe('strategy_id');
        const refusedStream = openRawSse(t.url, `/v1/stream?strategy_id=${outside}`, { token: tokens[i] });
        await refusedStream.ready;
        expect(refusedStream.status).toBe(403);
        refusedStream.destroy();
      }
      if (scope.tenant_id) {
        const other = TENANTS.find((x) => x !== scope.tenant_id)!;
        const refused = await api(t.url, `/v1/events?tenant_id=${other}`, { token: tokens[i] });
        expect(refused.status).toBe(403);
        expect(refused.body.error.fields[0].path).toBe('tenant_id');
      }
      if (scope.subscribe_topics && !scope.subscribe_topics.some((own) => selectorRe(own).test('https://ex.net/beds/7'))) {
        const refused = await api(t.url, `/v1/events?topic=${encodeURIComponent('https://ex.net/beds/7')}`, { token: tokens[i] });
        expect(refused.status).toBe(403);
        expect(refused.body.error.fields[0].path).toBe('topic');
      }
    }
    await Promise.all(streams.map((s) => s.raw.ready));
    for (const s of streams) expect(s.raw.status).toBe(200);

    // Events: every domain, random keys, and ids that collide across scopes (same order, mail and
    // position ids under different users, strategies and stores) to stress the state tables.
    const optional = (p: number, xs: string[]) => (r.chance(p) ? r.pick(xs) : undefined);
    const mk = (): PublishEnvelope => {
      const kind = r.int(7);
      const u = r.pick(USERS);
      const st = r.pick(STRATS);
      // Every event may also carry a tenant and 1-3 topics.
      const keys = (e: PublishEnvelope) =>
        Object.fromEntries(
          Object.entries({ ...e, tenant_id: optional(0.5, TENANTS), topics: r.chance(0.5) ? subset(TOPICS).slice(0, 3) : undefined }).filter(([, v]) => v !== undefined),
        ) as PublishEnvelope;
      switch (kind) {
        case 0:
          return keys({ ...sample.storeOrder(r.pick(STORES)), user_id: optional(0.5, USERS), data: { order_id: `o${r.int(15)}`, items: [{ name: 'A', quantity: 1 }], total: r.int(100) } });
        case 1:
          return keys({ type: 'store.order.updated', store_id: r.pick(STORES), user_id: optional(0.5, USERS), strategy_id: optional(0.2, STRATS), data: { order_id: `o${r.int(15)}`, status: 'ready' } });
        case 2: {
          const e = sample.tradingOrder(u, st, { store_id: optional(0.3, STORES) });
          return keys({ ...e, type: r.pick(['trading.order.created', 'trading.order.updated']), data: { ...e.data, order_id: `t${r.int(15)}` } });
        }
        case 3: {
          const e = sample.position(u, st, { store_id: optional(0.3, STORES) });
          return keys({ ...e, data: { ...e.data, position_id: `p${r.int(10)}` } });
        }
        case 4: {
          const e = sample.mail(u, { strategy_id: optional(0.3, STRATS), store_id: optional(0.3, STORES) });
          return keys({ ...e, data: { ...e.data, email_id: `m${r.int(15)}` } });
        }
        default:
          return keys({ type: r.pick(['x.iso.a', 'x.iso.b']), user_id: optional(0.6, USERS), strategy_id: optional(0.6, STRATS), store_id: optional(0.6, STORES), data: { n: r.int(1e6) } });
      }
    };

    const published = new Map<number, HubEvent>();
    const publishSome = async (n: number) => {
      for (let done = 0; done < n; ) {
        const size = Math.min(n - done, 1 + r.int(60));
        const batch = Array.from({ length: size }, mk);
        const res = await publish(t.url, size === 1 ? batch[0] : batch);
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        res.body.results.forEach((x: { seq: number }, j: number) => {
          const e = batch[j]!;
          published.set(x.seq, {
            seq: x.seq,
            type: e.type,
            store_id: e.store_id != null ? String(e.store_id) : null,
            user_id: e.user_id != null ? String(e.user_id) : null,
            strategy_id: e.strategy_id != null ? String(e.strategy_id) : null,
            ...(e.tenant_id != null ? { tenant_id: String(e.tenant_id) } : {}),
            ...(e.topics ? { topics: e.topics } : {}),
          } as HubEvent);
        });
        done += size;
      }
    };

    const harvest = (s: Stream) => {
      const p = s.raw.parse();
      expect(p.violations).toEqual([]);
      for (const e of s.raw.events()) if (!s.got.some((g) => g.seq === e.seq)) s.got.push(e as HubEvent);
    };
    const checkSnapshots = (s: Stream) => {
      for (const f of s.raw.parse().frames.filter((x) => x.event === 'initial')) {
        const snap = f.data as Record<string, { seq: number; store_id: string | null; user_id: string | null; strategy_id: string | null }[]>;
        for (const [k, rows] of Object.entries(snap)) {
          if (!Array.isArray(rows)) continue;
          for (const row of rows) {
            expect(inScope(s.scope, row), `snapshot ${k} row outside scope ${JSON.stringify(s.scope)}: ${JSON.stringify(row)}`).toBe(true);
            const src = published.get(row.seq);
            if (src) expect(inScopeChecked(s.scope, src), `snapshot ${k} row carries event ${row.seq} outside scope ${JSON.stringify(s.scope)}`).toBe(true);
          }
        }
      }
    };

    await publishSome(EVENTS / 2);
    // Half the streams drop mid-way and come back with Last-Event-ID (a new connection, like EventSource).
    for (const s of streams.filter(() => r.chance(0.5))) {
      await until(() => s.raw.events().length > 0 || s.raw.parse().frames.length > 1, 'stream to see something');
      harvest(s);
      checkSnapshots(s);
      const last = Math.max(0, ...s.got.map((e) => e.seq));
      s.raw.destroy();
      s.raw = openRawSse(t.url, `/v1/stream?${query(s.filters)}`, { token: s.token, headers: last ? { 'last-event-id': String(last) } : {} });
      s.reconnects++;
    }
    await Promise.all(streams.map((s) => s.raw.ready));
    await publishSome(EVENTS / 2);
    const head = Math.max(...published.keys());

    let delivered = 0;
    for (const s of streams) {
      const expected = [...published.values()].filter((e) => visible(s.scope, s.filters, e)).map((e) => e.seq);
      await until(() => {
        harvest(s);
        return s.got.length >= expected.length;
      }, `stream ${JSON.stringify(s.scope)} ${JSON.stringify(s.filters)} to get ${expected.length} events`, 20_000);
      harvest(s);
      checkSnapshots(s);
      for (const e of s.got) expect(visible(s.scope, s.filters, e), `event ${e.seq} ${JSON.stringify(e)} leaked to ${JSON.stringify(s.scope)} ${JSON.stringify(s.filters)}`).toBe(true);
      expect(s.got.map((e) => e.seq).sort((a, b) => a - b)).toEqual(expected);
      delivered += s.got.length;
      s.raw.destroy();
    }

    // Full replay from 0 and history pages: still only in-scope events, and all of them.
    for (let i = 0; i < scopes.length; i++) {
      const scope = scopes[i]!;
      const expected = [...published.values()].filter((e) => inScopeChecked(scope, e)).map((e) => e.seq);
      const replay = openRawSse(t.url, `/v1/stream?${query({})}`, { token: tokens[i], headers: { 'last-event-id': '0' } });
      await until(() => replay.events().length >= expected.length, `full replay for ${JSON.stringify(scope)}`, 20_000);
      const got = replay.events();
      for (const e of got) expect(inScope(scope, e)).toBe(true);
      expect(got.map((e) => e.seq)).toEqual(expected);
      replay.destroy();

      const hist = await allEvents(t.url, tokens[i]);
      for (const e of hist) expect(inScope(scope, e)).toBe(true);
      expect(hist.map((e) => e.seq)).toEqual(expected);

      for (const view of ['orders', 'positions', 'mail']) {
        const st = await api(t.url, `/v1/state/${view}`, { token: tokens[i] });
        expect(st.status).toBe(200);
        for (const [k, rows] of Object.entries(st.body as Record<string, unknown>)) {
          if (!Array.isArray(rows)) continue;
          for (const row of rows as { seq: number; store_id: string | null; user_id: string | null; strategy_id: string | null }[]) {
            expect(inScope(scope, row), `state ${k} row outside ${JSON.stringify(scope)}`).toBe(true);
            expect(inScopeChecked(scope, published.get(row.seq)!), `state ${k} row shows event ${row.seq} ${JSON.stringify(published.get(row.seq))} to ${JSON.stringify(scope)}`).toBe(true);
          }
        }
      }
    }
    console.log(JSON.stringify({ isolation: { seed: SEED, tokens: scopes.length, streams: streams.length, reconnected: streams.filter((s) => s.reconnects).length, tenant_scoped: scopes.filter((x) => x.tenant_id).length, topic_scoped: scopes.filter((x) => x.subscribe_topics).length, topic_filtered: streams.filter((x) => x.filters.topic).length, events: published.size, head, deliveries_checked: delivered } }));
  }, 180_000);

  it('never lets a scoped publisher write outside its scope, alone or hidden in a batch', async () => {
    const r = prng(SEED + 1);
    const subset = (xs: string[]) => {
      const s = xs.filter(() => r.chance(0.5));
      return s.length ? s : [r.pick(xs)];
    };
    const before = t.hub.log.count();
    let accepted = 0;
    let refused = 0;
    for (let k = 0; k < 12; k++) {
      const scope: TokenScope = {};
      if (r.chance(0.6)) scope.user_id = r.pick(USERS);
      if (r.chance(0.6)) scope.strategy_ids = [r.pick(STRATS)];
      if (r.chance(0.4)) scope.store_ids = [r.pick(STORES)];
      if (r.chance(0.4)) scope.tenant_id = r.pick(TENANTS);
      if (r.chance(0.4)) scope.publish_topics = [r.pick(SELECTORS.filter((x) => x.sel !== '*')).sel];
      if (!Object.keys(scope).length) scope.user_id = r.pick(USERS);
      const token = await createToken(t.url, 'publisher', scope, `pub-${k}`);
      for (let i = 0; i < 40; i++) {
        const mk = () => {
          const e: Record<string, unknown> = { type: 'x.pubscope.e', data: { k, i } };
          if (r.chance(0.6)) {
            // Mostly in scope, so accepted and refused requests both occur often.
            if (scope.user_id) e.user_id = scope.user_id;
            if (scope.strategy_ids) e.strategy_id = scope.strategy_ids[0];
            if (scope.store_ids) e.store_id = scope.store_ids[0];
            if (scope.tenant_id) e.tenant_id = scope.tenant_id;
            if (scope.publish_topics) e.topics = [...new Set(subset(TOPICS.filter((x) => selectorRe(scope.publish_topics![0]!).test(x)).concat(r.chance(0.2) ? TOPICS : [])))];
            if (r.chance(0.15)) e[r.pick(['user_id', 'strategy_id', 'store_id', 'tenant_id'])] = r.pick([...USERS, ...STRATS, ...STORES, ...TENANTS]);
            return e as { user_id?: string; strategy_id?: string; store_id?: string; tenant_id?: string; topics?: string[] };
          }
          if (r.chance(0.7)) e.user_id = r.pick(USERS);
          if (r.chance(0.7)) e.strategy_id = r.pick(STRATS);
          if (r.chance(0.5)) e.store_id = r.pick(STORES);
          if (r.chance(0.5)) e.tenant_id = r.pick(TENANTS);
          if (r.chance(0.5)) e.topics = subset(TOPICS);
          return e as { user_id?: string; strategy_id?: string; store_id?: string; tenant_id?: string; topics?: string[] };
        };
        const batch = Array.from({ length: 1 + r.int(5) }, mk);
        // The oracle: keys by inScope's rules, topics by the regexes (every topic must match).
        const topicsOk = (e: { topics?: string[] }) => !scope.publish_topics || (!!e.topics?.length && e.topics.every((x) => selectorRe(scope.publish_topics![0]!).test(x)));
        const ok = batch.every((e) => inScope({ ...scope, publish_topics: undefined }, e) && topicsOk(e));
        expect(batch.every((e) => publishViolation(scope, e) === null)).toBe(ok);
        const res = await publish(t.url, batch.length === 1 ? batch[0] : batch, token);
        if (ok) {
          expect(res.status, JSON.stringify(res.body)).toBe(201);
          accepted += batch.length;
        } else {
          expect(res.status).toBe(403);
          expect(res.body.error.fields[0].path).toMatch(/^(\d+\.)?(user_id|strategy_id|store_id|tenant_id|topics(\.\d+)?)$/);
          refused++;
        }
      }
    }
    expect(t.hub.log.count()).toBe(before + accepted);
    console.log(JSON.stringify({ publisher_scope: { accepted_events: accepted, refused_requests: refused } }));
    expect(refused).toBeGreaterThan(50);
  });
});
