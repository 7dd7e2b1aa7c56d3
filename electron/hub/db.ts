import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { HubError } from './errors.ts';

export type DB = Database.Database;

/**
 * Current-state rows are keyed `store/user/strategy/<domain id>` (shared/state-keys.ts#stateRowKey)
 * so a writer only reaches rows under its own scope keys. Older rows were keyed `store/<id>`
 * (store orders), `user/strategy/<id>` (trading orders, positions) or `user/<id>` (mail, mail
 * sync): the domain id is what follows that many separators, and the scope keys are the row's
 * columns. Keys are rewritten in two passes through a `!` prefix no key starts with (scope keys
 * cannot hold it), because an old key can equal another row's new one and the key is unique.
 */
const REKEY_STATE_ROWS = `
  UPDATE projections SET key = '!' || coalesce(store_id, '') || '/' || coalesce(user_id, '') || '/' || coalesce(strategy_id, '') || '/' ||
    CASE WHEN kind IN ('trading_order', 'position')
      THEN substr(substr(key, instr(key, '/') + 1), instr(substr(key, instr(key, '/') + 1), '/') + 1)
      ELSE substr(key, instr(key, '/') + 1) END;
  UPDATE projections SET key = substr(key, 2);`;

/**
 * Idempotency ids are unique per scope namespace (shared/state-keys.ts#scopeNamespace), not
 * globally: a publisher can neither probe nor squat an id used under scope keys it cannot write.
 * The namespace is computed from the event's own scope columns, so it cannot disagree with them,
 * and as a VIRTUAL column it costs no rewrite of the log, only the index.
 */
const NAMESPACED_EVENT_IDS = `
  ALTER TABLE events ADD COLUMN namespace TEXT NOT NULL
    GENERATED ALWAYS AS (coalesce(store_id, '') || '/' || coalesce(user_id, '') || '/' || coalesce(strategy_id, '')) VIRTUAL;
  DROP INDEX events_id;
  CREATE UNIQUE INDEX events_namespace_id ON events(namespace, id);`;

/**
 * Tenants and topics. `tenant_id` is a scope key like the others (indexed with seq, and part of the
 * namespace, as the tenant prefix `<tenant>|` of shared/state-keys.ts#scopeNamespace: without a
 * tenant the namespace is unchanged, so every existing id keeps its namespace). `topics` keeps the
 * event's topics as sent (a JSON array); event_topics holds one row per topic so that a topic
 * selector's exact topics and template prefixes are index ranges, not a scan of the log.
 */
const TENANTS_AND_TOPICS = `
  ALTER TABLE events ADD COLUMN tenant_id TEXT;
  ALTER TABLE events ADD COLUMN topics TEXT;
  CREATE INDEX events_tenant_seq ON events(tenant_id, seq);
  DROP INDEX events_namespace_id;
  ALTER TABLE events DROP COLUMN namespace;
  ALTER TABLE events ADD COLUMN namespace TEXT NOT NULL
    GENERATED ALWAYS AS (CASE WHEN tenant_id IS NULL THEN '' ELSE tenant_id || '|' END ||
      coalesce(store_id, '') || '/' || coalesce(user_id, '') || '/' || coalesce(strategy_id, '')) VIRTUAL;
  CREATE UNIQUE INDEX events_namespace_id ON events(namespace, id);
  CREATE TABLE event_topics (
    topic TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (topic, seq)
  ) WITHOUT ROWID;
  CREATE INDEX event_topics_seq ON event_topics(seq);
  ALTER TABLE projections ADD COLUMN tenant_id TEXT;
  CREATE INDEX projections_tenant_seq ON projections(kind, tenant_id, seq);`;

/** Append only: a landed migration is never edited or renumbered (user_version counts them). */
export const MIGRATIONS: string[] = [
  `CREATE TABLE events (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL,
     type TEXT NOT NULL,
     store_id TEXT,
     user_id TEXT,
     strategy_id TEXT,
     priority TEXT NOT NULL,
     time TEXT NOT NULL,
     received_at TEXT NOT NULL,
     data TEXT NOT NULL
   );
   CREATE UNIQUE INDEX events_id ON events(id);
   CREATE INDEX events_received_at ON events(received_at);
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE projections (
     kind TEXT NOT NULL,
     key TEXT NOT NULL,
     store_id TEXT,
     user_id TEXT,
     strategy_id TEXT,
     seq INTEGER NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     data TEXT NOT NULL,
     PRIMARY KEY (kind, key)
   ) WITHOUT ROWID;
   CREATE INDEX projections_seq ON projections(kind, seq);
   CREATE TABLE tokens (
     id TEXT PRIMARY KEY,
     hash TEXT NOT NULL UNIQUE,
     role TEXT NOT NULL,
     label TEXT,
     scope TEXT NOT NULL,
     rate_limit INTEGER,
     created_at TEXT NOT NULL,
     revoked_at TEXT,
     last_used_at TEXT
   );
   CREATE TABLE login_codes (
     hash TEXT PRIMARY KEY,
     token_id TEXT NOT NULL,
     expires_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE sessions (
     hash TEXT PRIMARY KEY,
     token_id TEXT NOT NULL,
     created_at TEXT NOT NULL,
     expires_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE strategies (
     strategy_id TEXT PRIMARY KEY,
     active INTEGER NOT NULL,
     reason TEXT,
     updated_at TEXT NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`,
  // Scoped reads (history, replay, state, snapshots) walk one scope key in seq order. Without these a
  // subscriber of a store with few events scanned the whole log on every request, holding the event
  // loop for as long as the log was big.
  `CREATE INDEX events_store_seq ON events(store_id, seq);
   CREATE INDEX events_user_seq ON events(user_id, seq);
   CREATE INDEX events_strategy_seq ON events(strategy_id, seq);
   CREATE INDEX projections_store_seq ON projections(kind, store_id, seq);
   CREATE INDEX projections_user_seq ON projections(kind, user_id, seq);
   CREATE INDEX projections_strategy_seq ON projections(kind, strategy_id, seq);
   -- A trader's totals (user and strategies): without it SQLite counts through every row of the kind.
   CREATE INDEX projections_user_strategy ON projections(kind, user_id, strategy_id);`,
  // History's since/until compare instants: `time` keeps the publisher's offset, so as text
  // 01:30+09:00 sorts after 16:45Z. time_ms is the same instant in ms since the epoch.
  `ALTER TABLE events ADD COLUMN time_ms INTEGER;
   UPDATE events SET time_ms = COALESCE(CAST(ROUND((julianday(time) - 2440587.5) * 86400000.0) AS INTEGER),
                                        CAST(ROUND((julianday(received_at) - 2440587.5) * 86400000.0) AS INTEGER));`,
  // Webhook endpoints follow the log with a cursor each: the log is the outbox, so an event the hub
  // acknowledged is delivered after any restart without a second write on the publish path.
  `CREATE TABLE webhook_endpoints (
     id TEXT PRIMARY KEY,
     url TEXT NOT NULL,
     secret TEXT NOT NULL,
     types TEXT NOT NULL,
     scope TEXT NOT NULL,
     description TEXT,
     created_by TEXT,
     created_at TEXT NOT NULL,
     removed_at TEXT,
     cursor INTEGER NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_at INTEGER NOT NULL DEFAULT 0,
     delivered INTEGER NOT NULL DEFAULT 0,
     failed_attempts INTEGER NOT NULL DEFAULT 0,
     last_success_at TEXT,
     last_error TEXT,
     last_status INTEGER
   );
   CREATE TABLE webhook_dead (
     endpoint_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     webhook_id TEXT NOT NULL,
     type TEXT NOT NULL,
     attempts INTEGER NOT NULL,
     last_error TEXT,
     last_status INTEGER,
     dead_at TEXT NOT NULL,
     PRIMARY KEY (endpoint_id, seq)
   ) WITHOUT ROWID;`,
  REKEY_STATE_ROWS,
  NAMESPACED_EVENT_IDS,
  // The epoch an event was numbered in (epoch.ts); NULL is the log's first epoch, so rows from
  // before epochs and the local engine's rows cost nothing.
  `ALTER TABLE events ADD COLUMN epoch TEXT;`,
  // The notification inbox: read and dismissed marks per token and event, so every window of a token
  // shares them. The priority index lets the inbox walk notable events newest first without the log.
  `CREATE TABLE inbox_marks (
     token_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     read_at TEXT,
     dismissed_at TEXT,
     PRIMARY KEY (token_id, seq)
   ) WITHOUT ROWID;
   CREATE INDEX events_priority_seq ON events(priority, seq);`,
  // Actions are events found by their action_id (electron/hub/actions.ts): a partial index holds
  // action rows only, so looking one up or sweeping for timeouts never reads the rest of the log.
  `CREATE INDEX events_action_id ON events(json_extract(data, '$.action_id')) WHERE type GLOB 'action.*';`,
  // Actions a publisher attaches to an event (buttons in the console), kept as sent; NULL for none,
  // so events without them cost nothing.
  `ALTER TABLE events ADD COLUMN actions TEXT;`,
  TENANTS_AND_TOPICS,
  // The action history (GET /v1/actions) walks requests newest first: a partial index of request
  // rows by seq, so a page costs the page, not the log.
  `CREATE INDEX events_action_requests ON events(seq) WHERE type = 'action.requested';`,
  // Mercure updates are found by their own id, a subscriber's Last-Event-ID (electron/hub/mercure/):
  // a partial index holds update rows only, and its seq gives the newest use of an id at once.
  `CREATE INDEX events_mercure_id ON events(json_extract(data, '$.id'), seq) WHERE type = 'mercure.update';`,
  // The actions attached to the event that last changed a state row (shared/state.ts
  // attachedActionsSchema), as JSON, so state cards can show its buttons; NULL for none. Rows written
  // before this keep NULL until their next change: their events' buttons stay on the events.
  `ALTER TABLE projections ADD COLUMN actions TEXT;`,
  // Every scoped read names its keys (`store_id IN (...)`, never `IS NULL`), so rows without a key
  // are never looked up through that key's index. Partial indexes skip them: most events carry one or
  // two of the four keys, and each index left out is a B-tree write (and WAL page) less per publish.
  `DROP INDEX events_store_seq;
  CREATE INDEX events_store_seq ON events(store_id, seq) WHERE store_id IS NOT NULL;
  DROP INDEX events_user_seq;
  CREATE INDEX events_user_seq ON events(user_id, seq) WHERE user_id IS NOT NULL;
  DROP INDEX events_strategy_seq;
  CREATE INDEX events_strategy_seq ON events(strategy_id, seq) WHERE strategy_id IS NOT NULL;
  DROP INDEX events_tenant_seq;
  CREATE INDEX events_tenant_seq ON events(tenant_id, seq) WHERE tenant_id IS NOT NULL;`,
];

/**
 * WAL lets history and replay reads run while publishes commit; synchronous=FULL makes a commit
 * durable before we acknowledge it (group commit amortises the fsync across concurrent publishes).
 */
export function openDatabase(file: string): DB {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  db.pragma('wal_autocheckpoint = 4000');
  migrate(db);
  return db;
}

/** The meta key where the hub holding a log's claim says who it is (pid, URL). */
export const HOLDER_KEY = 'holder';
export const DATABASE_IN_USE = 'database_in_use';

export interface DbClaim {
  release(): void;
}

/**
 * One writer per log: every hub keeps its head sequence in memory, so two hubs on one file would
 * hand out the same sequence numbers. The claim is a SQLite write lock (RESERVED) on a sidecar file
 * `<db>-lock`, held for the hub's whole life:
 * - the operating system drops it when the process ends, however it ends (SIGKILL, power loss), so
 *   there is no stale lock to detect and no pid that could have been reused meanwhile;
 * - SQLite tracks locks per file across the connections of one process, so a second Hub in the same
 *   process is refused too;
 * - the log itself is not locked: read-only tools and tests keep reading it through WAL.
 * Nothing but SQLite may open the sidecar in a hub process: closing any descriptor of a file drops
 * the process's POSIX locks on it. It is never deleted either: a hub that opened the old file could
 * then hold a lock on an inode nobody else sees.
 */
export function claimDatabase(file: string): DbClaim {
  if (file === ':memory:') return { release() {} };
  mkdirSync(dirname(file), { recursive: true });
  const lock = new Database(`${file}-lock`, { timeout: 0 });
  try {
    // No -journal file next to the sidecar: nothing is ever written to it, the lock is the point.
    lock.pragma('journal_mode = MEMORY');
    lock.exec('BEGIN IMMEDIATE');
  } catch (err) {
    lock.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') throw databaseInUse(file);
    throw err;
  }
  return {
    release() {
      // Closing rolls back the empty transaction, which is what releases the lock.
      if (lock.open) lock.close();
    },
  };
}

function databaseInUse(file: string): HubError {
  const h = readHolder(file);
  const who = h.pid ? ` (pid ${h.pid}${h.url ? `, ${h.url}` : ''})` : '';
  return new HubError(409, DATABASE_IN_USE, `database ${file} is in use by another RelayDesk hub${who}; stop it or pass --db for a separate log`);
}

/**
 * Best effort: who holds the claim, from the log's meta table (WAL lets us read while it writes).
 * The row outlives its hub, so a dead pid means the row is stale (the holder has not written its
 * own yet) and is left out rather than named.
 */
function readHolder(file: string): { pid?: number; url?: string } {
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 1000 });
    try {
      const h = JSON.parse(getMeta(db, HOLDER_KEY) ?? '{}') as { pid?: unknown; url?: unknown };
      if (typeof h.pid !== 'number' || !processAlive(h.pid)) return {};
      return { pid: h.pid, url: typeof h.url === 'string' && h.url ? h.url : undefined };
    } finally {
      db.close();
    }
  } catch {
    return {};
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The schema version of logs written before rows and ids were namespaced (for upgrade tests). */
export const BEFORE_SCOPE_NAMESPACES = MIGRATIONS.indexOf(REKEY_STATE_ROWS);

/** The schema version of logs written before events carried tenants and topics (for upgrade tests). */
export const BEFORE_TENANTS_AND_TOPICS = MIGRATIONS.indexOf(TENANTS_AND_TOPICS);

/** Bring a database up to `upTo` migrations (all of them by default), one transaction each. */
export function migrate(db: DB, upTo = MIGRATIONS.length): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < upTo; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

export function getMeta(db: DB, key: string): string | undefined {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
  return row?.value;
}

export function setMeta(db: DB, key: string, value: string): void {
  db.prepare('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
}
