import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type DB = Database.Database;

const MIGRATIONS: string[] = [
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

function migrate(db: DB): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
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
