import { createHash, randomBytes } from 'node:crypto';
import type { TokenScope } from '../../shared/scope.ts';
import type { TokenInfo, TokenRole } from '../../shared/api.ts';
import type { DB } from './db.ts';

export interface Principal {
  tokenId: string;
  role: TokenRole;
  scope: TokenScope;
  rateLimit: number | null;
  via: 'bearer' | 'query' | 'session';
}

export interface TokenRow {
  id: string;
  hash: string;
  role: TokenRole;
  label: string | null;
  scope: string;
  rate_limit: number | null;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

/** Secrets are random, so a fast hash is enough: it only has to make a leaked database useless. */
const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');
const newSecret = (prefix: string) => `${prefix}_${randomBytes(32).toString('base64url')}`;

export const BOOTSTRAP_ADMIN_ID = 'tok_admin';
const SESSION_TTL_MS = 30 * 24 * 3600_000;
const LOGIN_CODE_TTL_MS = 24 * 3600_000;

export function toInfo(r: TokenRow): TokenInfo {
  return {
    id: r.id,
    role: r.role,
    label: r.label,
    scope: JSON.parse(r.scope),
    created_at: r.created_at,
    revoked_at: r.revoked_at,
    last_used_at: r.last_used_at,
  };
}

/** API tokens, one-time console login codes and browser sessions. Only hashes are stored. */
export class TokenStore {
  /** hash -> row and its parsed scope, so authenticating a request never touches the disk or parses. */
  private byHash = new Map<string, { row: TokenRow; scope: TokenScope }>();
  private lastUsedDirty = new Map<string, string>();

  constructor(private readonly db: DB) {
    this.reload();
  }

  private reload(): void {
    this.byHash.clear();
    for (const r of this.db.prepare('SELECT * FROM tokens WHERE revoked_at IS NULL').all() as TokenRow[]) this.byHash.set(r.hash, { row: r, scope: JSON.parse(r.scope) });
  }

  /** Install the admin token from RELAYDESK_ADMIN_TOKEN, or mint one; returns the secret when minted. */
  bootstrapAdmin(secret: string | undefined): string {
    const token = secret ?? newSecret('rdk');
    const now = new Date().toISOString();
    this.db
      .prepare(
        `INSERT INTO tokens (id, hash, role, label, scope, created_at) VALUES (?, ?, 'admin', 'bootstrap admin', '{}', ?)
         ON CONFLICT(id) DO UPDATE SET hash = excluded.hash, revoked_at = NULL`,
      )
      .run(BOOTSTRAP_ADMIN_ID, hashSecret(token), now);
    this.reload();
    return token;
  }

  /**
   * A new token's secret and the row that stores its hash; nothing is written yet (the control plane
   * adds the row here, or on every hub through the bus).
   */
  mint(role: TokenRole, scope: TokenScope, label?: string, rateLimit?: number): { row: TokenRow; token: string } {
    const token = newSecret('rdk');
    const row: TokenRow = {
      id: `tok_${randomBytes(8).toString('hex')}`,
      hash: hashSecret(token),
      role,
      label: label ?? null,
      scope: JSON.stringify(scope),
      rate_limit: rateLimit ?? null,
      created_at: new Date().toISOString(),
      revoked_at: null,
      last_used_at: null,
    };
    return { row, token };
  }

  /**
   * Adds a minted token; adding the same one again (a replayed bus entry) changes nothing. A row
   * that comes revoked (restated by a hub after Redis lost data) is stored revoked.
   */
  add(row: TokenRow): void {
    this.db
      .prepare(
        `INSERT INTO tokens (id, hash, role, label, scope, rate_limit, created_at, revoked_at) VALUES (@id, @hash, @role, @label, @scope, @rate_limit, @created_at, @revoked_at)
         ON CONFLICT DO NOTHING`,
      )
      .run({ id: row.id, hash: row.hash, role: row.role, label: row.label, scope: row.scope, rate_limit: row.rate_limit, created_at: row.created_at, revoked_at: row.revoked_at ?? null });
    // Memory follows what is stored (a token revoked before this replay stays out).
    const stored = this.db.prepare('SELECT * FROM tokens WHERE id = ?').get(row.id) as TokenRow | undefined;
    if (stored && !stored.revoked_at) this.byHash.set(stored.hash, { row: stored, scope: JSON.parse(stored.scope) as TokenScope });
  }

  list(): TokenInfo[] {
    this.flushLastUsed();
    return (this.db.prepare('SELECT * FROM tokens ORDER BY created_at').all() as TokenRow[]).map(toInfo);
  }

  get(id: string): TokenInfo | undefined {
    const r = this.db.prepare('SELECT * FROM tokens WHERE id = ?').get(id) as TokenRow | undefined;
    return r && toInfo(r);
  }

  revoke(id: string, at = new Date().toISOString()): boolean {
    const changed = this.db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id).changes;
    // Unconditionally: a revoke replayed after a first attempt failed halfway must still finish.
    this.db.prepare('DELETE FROM sessions WHERE token_id = ?').run(id);
    this.db.prepare('DELETE FROM login_codes WHERE token_id = ?').run(id);
    for (const [hash, t] of this.byHash) if (t.row.id === id) this.byHash.delete(hash);
    return changed > 0;
  }

  /**
   * Deletes revoked tokens labelled `label` but the `keep` most recently revoked. A revoked token is
   * only a record by then (its sessions and login codes went with the revoke); live ones stay.
   */
  pruneRevoked(label: string, keep: number): number {
    return this.db
      .prepare(
        `DELETE FROM tokens WHERE id IN (
           SELECT id FROM tokens WHERE label = ? AND revoked_at IS NOT NULL AND id != ?
           ORDER BY revoked_at DESC, rowid DESC LIMIT -1 OFFSET ?)`,
      )
      .run(label, BOOTSTRAP_ADMIN_ID, keep).changes;
  }

  authenticate(secret: string, via: Principal['via']): Principal | null {
    const hit = this.byHash.get(hashSecret(secret));
    if (!hit) return null;
    const { row, scope } = hit;
    this.lastUsedDirty.set(row.id, new Date().toISOString());
    return { tokenId: row.id, role: row.role, scope, rateLimit: row.rate_limit, via };
  }

  /** last_used_at is written lazily so authenticating stays a map lookup on the hot path. */
  flushLastUsed(): void {
    if (!this.lastUsedDirty.size) return;
    const stmt = this.db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?');
    this.db.transaction(() => {
      for (const [id, at] of this.lastUsedDirty) stmt.run(at, id);
    })();
    this.lastUsedDirty.clear();
  }

  createLoginCode(tokenId: string): string {
    const code = newSecret('rdc');
    this.db.prepare('DELETE FROM login_codes WHERE expires_at < ?').run(Date.now());
    this.db.prepare('INSERT INTO login_codes (hash, token_id, expires_at) VALUES (?, ?, ?)').run(hashSecret(code), tokenId, Date.now() + LOGIN_CODE_TTL_MS);
    return code;
  }

  /** Exchange a one-time code for a session secret (the cookie). The code is gone afterwards. */
  redeemLoginCode(code: string): string | null {
    const hash = hashSecret(code);
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT token_id, expires_at FROM login_codes WHERE hash = ?').get(hash) as
        | { token_id: string; expires_at: number }
        | undefined;
      if (!row) return null;
      this.db.prepare('DELETE FROM login_codes WHERE hash = ?').run(hash);
      if (row.expires_at < Date.now()) return null;
      const session = newSecret('rds');
      this.db
        .prepare('INSERT INTO sessions (hash, token_id, created_at, expires_at) VALUES (?, ?, ?, ?)')
        .run(hashSecret(session), row.token_id, new Date().toISOString(), Date.now() + SESSION_TTL_MS);
      return session;
    })();
  }

  authenticateSession(session: string): Principal | null {
    const row = this.db
      .prepare('SELECT t.* FROM sessions s JOIN tokens t ON t.id = s.token_id WHERE s.hash = ? AND s.expires_at > ? AND t.revoked_at IS NULL')
      .get(hashSecret(session), Date.now()) as TokenRow | undefined;
    if (!row) return null;
    return { tokenId: row.id, role: row.role, scope: JSON.parse(row.scope), rateLimit: row.rate_limit, via: 'session' };
  }

  endSession(session: string): void {
    this.db.prepare('DELETE FROM sessions WHERE hash = ?').run(hashSecret(session));
  }
}
