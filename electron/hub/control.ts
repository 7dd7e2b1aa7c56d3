import { z } from 'zod';
import { scopeKey, tokenScopeSchema, type TokenScope } from '../../shared/scope.ts';
import { tokenRoles, type TokenInfo, type TokenRole } from '../../shared/api.ts';
import { BOOTSTRAP_ADMIN_ID, toInfo, type TokenRow, type TokenStore } from './tokens.ts';
import type { Strategies, StrategyState } from './strategies.ts';
import type { Broker } from './broker.ts';

/**
 * The admin changes every hub must agree on: who may connect, and which strategies may publish. With
 * one hub they apply here; with several (the Redis engine) they go through the bus, and every hub,
 * this one included, applies them in the bus's order. Either way `apply` is the one place they take
 * effect, and applying the same change twice (a replayed bus entry) changes nothing.
 */
export const controlChangeSchema = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('token.create'),
    // The row holds the secret's hash only: the secret itself never leaves the hub that minted it.
    row: z.object({
      id: z.string(),
      hash: z.string(),
      role: z.enum(tokenRoles),
      label: z.string().nullable(),
      // Checked as the API checks it: an entry must not widen a token beyond a scope the API accepts.
      scope: z.string().refine((s) => {
        try {
          return tokenScopeSchema.safeParse(JSON.parse(s)).success;
        } catch {
          return false;
        }
      }, 'must be a token scope in JSON'),
      rate_limit: z.number().nullable(),
      created_at: z.string(),
      // Set only when a hub restates a token it knows as revoked (bus/redis-control.ts): a hub that
      // pruned the row must get it back revoked, never live, not even until the revoke follows.
      revoked_at: z.string().nullable(),
      last_used_at: z.null(),
    }),
  }),
  z.object({ op: z.literal('token.revoke'), id: z.string(), at: z.string() }),
  z.object({ op: z.literal('token.prune'), label: z.string(), keep: z.number().int().nonnegative() }),
  z.object({ op: z.literal('strategy.set'), strategy_id: scopeKey, active: z.boolean(), reason: z.string().nullable(), at: z.string() }),
]);
export type ControlChange = z.infer<typeof controlChangeSchema>;

/** What applying a change did on this hub. */
export interface ControlOutcome {
  /** token.revoke: false when it was revoked already. */
  revoked?: boolean;
  /** token.prune: revoked tokens deleted on this hub. */
  deleted?: number;
  /** strategy.set: the state now. */
  state?: StrategyState;
  /** Streams this hub closed because of it (other hubs close theirs as they apply it). */
  disconnected: number;
}

/** An engine that spreads control changes to every hub: resolves with this hub's outcome once applied here. */
export interface ControlReplicator {
  replicate(change: ControlChange): Promise<ControlOutcome>;
}

export class ControlPlane {
  constructor(
    private readonly tokens: TokenStore,
    private readonly strategies: Strategies,
    private readonly broker: Broker,
    private readonly replicator: () => ControlReplicator | undefined,
  ) {}

  async createToken(role: TokenRole, scope: TokenScope, label?: string, rateLimit?: number): Promise<TokenInfo & { token: string }> {
    const { row, token } = this.tokens.mint(role, scope, label, rateLimit);
    await this.run({ op: 'token.create', row: row as TokenRow & { last_used_at: null } });
    return { ...toInfo(row), token };
  }

  async revokeToken(id: string): Promise<{ revoked: boolean; disconnected: number }> {
    const r = await this.run({ op: 'token.revoke', id, at: new Date().toISOString() });
    return { revoked: r.revoked ?? false, disconnected: r.disconnected };
  }

  async pruneTokens(label: string, keep: number): Promise<{ deleted: number }> {
    const r = await this.run({ op: 'token.prune', label, keep });
    return { deleted: r.deleted ?? 0 };
  }

  async setStrategy(id: string, active: boolean, reason: string | null): Promise<StrategyState & { disconnected: number }> {
    const r = await this.run({ op: 'strategy.set', strategy_id: id, active, reason, at: new Date().toISOString() });
    return { ...r.state!, disconnected: r.disconnected };
  }

  private run(change: ControlChange): Promise<ControlOutcome> {
    const bus = this.replicator();
    // Each hub has its own bootstrap admin (its RELAYDESK_ADMIN_TOKEN): revoking it stays on this hub.
    const local = change.op === 'token.revoke' && change.id === BOOTSTRAP_ADMIN_ID;
    return bus && !local ? bus.replicate(change) : Promise.resolve(this.apply(change));
  }

  /** Takes effect on this hub: its database, its memory, its live streams. */
  apply(change: ControlChange): ControlOutcome {
    switch (change.op) {
      case 'token.create':
        this.tokens.add(change.row);
        return { disconnected: 0 };
      case 'token.revoke': {
        const revoked = this.tokens.revoke(change.id, change.at);
        const disconnected = this.broker.disconnectWhere((s) => s.spec.tokenId === change.id, {
          reason: 'token_revoked',
          message: 'this token was revoked',
          retry_ms: null,
        });
        return { revoked, disconnected };
      }
      case 'token.prune':
        return { deleted: this.tokens.pruneRevoked(change.label, change.keep), disconnected: 0 };
      case 'strategy.set': {
        const { strategy_id: id, active, reason, at } = change;
        const state = this.strategies.set(id, active, reason, at);
        const disconnected = active
          ? 0
          : this.broker.disconnectWhere((s) => s.strategies?.includes(id) ?? false, {
              reason: 'strategy_deactivated',
              message: `strategy ${id} was deactivated${reason ? `: ${reason}` : ''}`,
              retry_ms: null,
            });
        return { state, disconnected };
      }
    }
  }
}
