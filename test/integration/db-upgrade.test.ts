import { describe, it, expect, afterAll } from 'vitest';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BEFORE_SCOPE_NAMESPACES, BEFORE_TENANTS_AND_TOPICS, migrate } from '../../electron/hub/db.ts';
import { scopeNamespace, stateRowKey } from '../../shared/state-keys.ts';
import { startTestHub, api, publish, createToken, type TestHub } from '../helpers/hub.ts';
import { statePageSchema } from '../../shared/state.ts';

/**
 * A log written before rows and ids were namespaced, opened by today's hub: every state row is
 * re-keyed into its scope namespace, every event keeps its bytes and gets its namespace, and the
 * hub goes on from there (retries of old events are still duplicates, updates reach old rows).
 */
const EVENTS = 200_000;
const dir = mkdtempSync(join(tmpdir(), 'relaydesk-upgrade-'));
const file = join(dir, 'hub.db');
let t: TestHub | undefined;
afterAll(async () => {
  await t?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface OldRow {
  kind: string;
  key: string;
  store_id: string | null;
  user_id: string | null;
  strategy_id: string | null;
  seq: number;
  created_at: string;
  updated_at: string;
  data: string;
}

// Recent, so the hub's retention (7 days by default) keeps every event once it opens the log.
const at = new Date().toISOString();
const account = { account_id: 1, name: 'Main', exchange: 'BYBIT' };
/** Old keys, exactly as the hub wrote them before: store orders `store/id`, trading `user/strategy/id`, mail `user/id`. */
function oldRows(): OldRow[] {
  const row = (kind: string, key: string, keys: [string | null, string | null, string | null], seq: number, data: object): OldRow => ({
    kind,
    key,
    store_id: keys[0],
    user_id: keys[1],
    strategy_id: keys[2],
    seq,
    created_at: at,
    updated_at: at,
    data: JSON.stringify(data),
  });
  const rows = [
    row('store_order', '12/1002', ['12', '8', null], 11, { order_id: '1002', table_id: 'T4', items: [{ name: 'Ramen', quantity: 2 }], total: 19, status: 'pending', last_type: 'store.order.created' }),
    // Order ids may hold `/`: this row's old key is the new key of the next one, which a one-pass
    // rewrite would trip over (the key is unique).
    row('store_order', '12/7//1003', ['12', null, null], 12, { order_id: '7//1003', items: [{ name: 'Tea', quantity: 1 }], total: 2, status: 'pending', last_type: 'store.order.created' }),
    row('store_order', '12/1003', ['12', '7', null], 13, { order_id: '1003', items: [{ name: 'Soba', quantity: 1 }], total: 8, status: 'ready', last_type: 'store.order.updated' }),
    row('trading_order', 'u1/s1/t-1', [null, 'u1', 's1'], 14, { order_id: 't-1', symbol: 'BTC/USDT', status: 'NEW', account, last_type: 'trading.order.created' }),
    row('trading_order', 'u1/s1/t/2', [null, 'u1', 's1'], 15, { order_id: 't/2', symbol: 'BTC/USDT', status: 'NEW', account, last_type: 'trading.order.created' }),
    row('position', 'u1/s2/p-1', [null, 'u1', 's2'], 16, { position_id: 'p-1', symbol: 'ETH/USDT', quantity: 2, account, last_type: 'trading.position.updated' }),
    row('mail', 'u1/e-1', ['12', 'u1', null], 17, { email_id: 'e-1', from: 'a@example.com', subject: 'hi', last_type: 'mail.email.new' }),
    row('mail_sync', 'u1/desk@example.com', [null, 'u1', null], 18, { account: 'desk@example.com', state: 'completed', last_type: 'mail.sync.completed' }),
    row('mail_sync', 'u1/default', [null, 'u1', null], 19, { state: 'started', last_type: 'mail.sync.started' }),
  ];
  // And a realistic bulk: many open orders across stores and users.
  for (let i = 0; i < 20_000; i++) {
    const store = String(i % 40);
    rows.push(row('store_order', `${store}/o-${i}`, [store, i % 3 ? `u${i % 7}` : null, null], 100 + i, { order_id: `o-${i}`, table_id: `T${i % 30}`, items: [{ name: 'Rice', quantity: 1 }], total: 3, status: 'pending', last_type: 'store.order.created' }));
  }
  return rows;
}

/** Where each old row must land: its columns' namespace, then the domain id after the old key's scope parts. */
function expectedKey(r: OldRow): string {
  const parts = r.kind === 'trading_order' || r.kind === 'position' ? 2 : 1;
  return stateRowKey(r, r.key.split('/').slice(parts).join('/'));
}

const eventCols = 'seq, id, type, store_id, user_id, strategy_id, priority, time, received_at, data';
const digest = (db: Database.Database) => {
  const h = createHash('sha256');
  for (const r of db.prepare(`SELECT ${eventCols} FROM events ORDER BY seq`).iterate()) h.update(JSON.stringify(r));
  return h.digest('hex');
};

describe('a log from before namespaced rows and ids', () => {
  it(`is upgraded in place: ${EVENTS.toLocaleString('en')} events keep their bytes and get a namespace, every state row is re-keyed, the hub carries on`, async () => {
    const started = performance.now();
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    old.pragma('synchronous = OFF'); // only the setup: nothing here is acknowledged to anyone
    // The first schema, filled, then brought to the version before namespaces: the way a log that
    // lived through those hub versions looks (and building indexes after a bulk load is quicker).
    migrate(old, 1);
    const insert = old.prepare(`INSERT INTO events (${eventCols}) VALUES (?, ?, ?, ?, ?, ?, 'normal', ?, ?, ?)`);
    const keysOf = (i: number): [string | null, string | null, string | null] => {
      switch (i % 4) {
        case 0: return [String(i % 40), i % 3 ? `u${i % 7}` : null, null];
        case 1: return [null, `u${i % 7}`, `s${i % 5}`];
        case 2: return [null, `u${i % 7}`, null];
        default: return [null, null, null];
      }
    };
    old.transaction(() => {
      for (let i = 1; i <= EVENTS; i++) insert.run(i, `ev-${i}`, 'x.old.event', ...keysOf(i), at, at, JSON.stringify({ i, note: 'written before the upgrade' }));
    })();
    const rows = oldRows();
    const putRow = old.prepare('INSERT INTO projections VALUES (@kind, @key, @store_id, @user_id, @strategy_id, @seq, @created_at, @updated_at, @data)');
    old.transaction(() => rows.forEach((r) => putRow.run(r)))();
    migrate(old, BEFORE_SCOPE_NAMESPACES);
    const before = digest(old);
    old.close();

    // The two migrations, timed on their own (the hub runs them, and any later ones, at open).
    const db = new Database(file);
    const t0 = performance.now();
    console.log(`upgrade: old log written in ${(t0 - started).toFixed(0)} ms`);
    migrate(db, BEFORE_SCOPE_NAMESPACES + 1);
    const t1 = performance.now();
    migrate(db, BEFORE_SCOPE_NAMESPACES + 2);
    const t2 = performance.now();
    console.log(`upgrade: re-keyed ${rows.length} state rows in ${(t1 - t0).toFixed(0)} ms; namespaced ${EVENTS} event ids in ${(t2 - t1).toFixed(0)} ms`);

    expect(digest(db)).toBe(before);
    expect(db.prepare('SELECT COUNT(*) AS n FROM events').get()).toEqual({ n: EVENTS });
    const wrong = (db.prepare('SELECT seq, namespace, store_id, user_id, strategy_id FROM events').all() as ({ seq: number; namespace: string } & Parameters<typeof scopeNamespace>[0])[]).filter(
      (r) => r.namespace !== scopeNamespace(r),
    );
    expect(wrong).toEqual([]);
    const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'").all() as { name: string }[]).map((r) => r.name);
    expect(indexes).toContain('events_namespace_id');
    expect(indexes).not.toContain('events_id');

    const now = db.prepare('SELECT * FROM projections').all() as OldRow[];
    const want = rows.map((r) => ({ ...r, key: expectedKey(r) }));
    const byKey = (a: OldRow, b: OldRow) => (a.kind + a.key < b.kind + b.key ? -1 : 1);
    expect(now.length).toBe(rows.length);
    // Compared as text: a deep equality over 20,000 rows costs seconds for nothing.
    expect(JSON.stringify(now.sort(byKey)) === JSON.stringify(want.sort(byKey))).toBe(true);
    expect(now.filter((r) => r.kind === 'store_order' && r.store_id === '12' && !r.key.includes('o-')).map((r) => r.key).sort()).toEqual(['12///7//1003', '12/7//1003', '12/8//1002']);
    db.close();

    // Today's hub opens it and goes on from there.
    t = await startTestHub({ dbFile: file });
    // Retries of old events are duplicates in their namespace (ev-3 has no scope keys, ev-8 store 8 and user u1).
    const retry = await publish(t.url, [
      { id: 'ev-3', type: 'x.old.event', data: { i: 3, note: 'written before the upgrade' } },
      { id: 'ev-8', type: 'x.old.event', store_id: '8', user_id: 'u1', data: { i: 8, note: 'written before the upgrade' } },
    ]);
    expect(retry.body.results).toEqual([
      { seq: 3, id: 'ev-3', duplicate: true },
      { seq: 8, id: 'ev-8', duplicate: true },
    ]);
    const elsewhere = await publish(t.url, { id: 'ev-8', type: 'x.old.event', store_id: '6', data: { i: 8 } });
    expect(elsewhere.body.results[0]).toEqual({ id: 'ev-8', duplicate: false, seq: EVENTS + 1 });
    // An update under the old row's keys reaches the re-keyed row (the hub computes the same key).
    expect((await publish(t.url, { type: 'store.order.updated', store_id: 12, user_id: 8, data: { order_id: 1002, status: 'ready' } })).status).toBe(201);
    expect((await publish(t.url, { type: 'trading.position.closed', user_id: 'u1', strategy_id: 's2', data: { position_id: 'p-1', symbol: 'ETH/USDT', quantity: 0, entry_price: 1, account } })).status).toBe(201);
    const reader = await createToken(t.url, 'subscriber', { user_id: '8' });
    const page = statePageSchema.parse((await api(t.url, '/v1/state/orders?key=12/8//1002', { token: reader })).body);
    expect(page.store_orders).toEqual([expect.objectContaining({ key: '12/8//1002', data: expect.objectContaining({ items: [{ name: 'Ramen', quantity: 2 }], total: 19, status: 'ready' }) })]);
    expect(statePageSchema.parse((await api(t.url, '/v1/state/positions')).body).positions).toEqual([]);
  }, 180_000);
});

describe('a log from before tenants and topics', () => {
  it('keeps every id in its namespace, and new events carry tenants and topics beside the old ones', async () => {
    const file2 = join(dir, 'before-topics.db');
    const old = new Database(file2);
    migrate(old, BEFORE_TENANTS_AND_TOPICS);
    const insert = old.prepare(
      `INSERT INTO events (seq, id, type, store_id, user_id, strategy_id, priority, time, time_ms, received_at, data) VALUES (?, ?, 'x.old.event', ?, ?, NULL, 'normal', ?, 0, ?, ?)`,
    );
    old.transaction(() => {
      for (let i = 1; i <= 1000; i++) insert.run(i, `old-${i}`, i % 2 ? String(i % 10) : null, i % 3 ? `u${i % 4}` : null, at, at, JSON.stringify({ i }));
    })();
    const namespaces = old.prepare('SELECT seq, namespace FROM events ORDER BY seq').all();
    old.close();

    const db = new Database(file2);
    migrate(db);
    expect(db.prepare('SELECT seq, namespace FROM events ORDER BY seq').all()).toEqual(namespaces);
    expect(db.prepare('SELECT COUNT(*) AS n FROM events WHERE tenant_id IS NOT NULL OR topics IS NOT NULL').get()).toEqual({ n: 0 });
    const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all() as { name: string }[]).map((r) => r.name);
    expect(indexes).toEqual(expect.arrayContaining(['events_namespace_id', 'events_tenant_seq', 'event_topics_seq', 'projections_tenant_seq']));
    db.close();

    const h = await startTestHub({ dbFile: file2 });
    try {
      // Old events' retries are still duplicates; the same id under a tenant is a new event.
      const r = await publish(h.url, [
        { id: 'old-1', type: 'x.old.event', store_id: '1', user_id: 'u1', data: { i: 1 } },
        { id: 'old-1', type: 'x.old.event', store_id: '1', user_id: 'u1', tenant_id: 'acme', topics: ['t/1'], data: { i: 1 } },
      ]);
      expect(r.body.results).toEqual([
        { seq: 1, id: 'old-1', duplicate: true },
        { seq: 1001, id: 'old-1', duplicate: false },
      ]);
      const sub = await createToken(h.url, 'subscriber', { tenant_id: 'acme' });
      const seen = await api(h.url, '/v1/events?limit=1000', { token: sub });
      expect(seen.body.events.map((e: { seq: number; topics: string[] }) => [e.seq, e.topics])).toEqual([[1001, ['t/1']]]);
      const byTopic = await api(h.url, '/v1/events?topic=t/{n}');
      expect(byTopic.body.events.map((e: { seq: number }) => e.seq)).toEqual([1001]);
    } finally {
      await h.stop();
    }
  }, 60_000);
});
