import type { DB } from './db.ts';

export interface StrategyState {
  strategy_id: string;
  active: boolean;
  reason: string | null;
  updated_at: string;
}

/** Strategies are active unless deactivated; the inactive set is tiny, so it lives in memory. */
export class Strategies {
  private inactive = new Map<string, StrategyState>();

  constructor(private readonly db: DB) {
    for (const r of db.prepare('SELECT * FROM strategies WHERE active = 0').all() as (Omit<StrategyState, 'active'> & { active: number })[])
      this.inactive.set(r.strategy_id, { ...r, active: false });
  }

  isActive(id: string | null): boolean {
    return id == null || !this.inactive.has(id);
  }

  reasonFor(id: string): string | null {
    return this.inactive.get(id)?.reason ?? null;
  }

  set(id: string, active: boolean, reason: string | null, at = new Date().toISOString()): StrategyState {
    const state: StrategyState = { strategy_id: id, active, reason, updated_at: at };
    this.db
      .prepare(
        `INSERT INTO strategies (strategy_id, active, reason, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(strategy_id) DO UPDATE SET active = excluded.active, reason = excluded.reason, updated_at = excluded.updated_at`,
      )
      .run(id, active ? 1 : 0, reason, state.updated_at);
    if (active) this.inactive.delete(id);
    else this.inactive.set(id, state);
    return state;
  }

  list(): StrategyState[] {
    return (this.db.prepare('SELECT * FROM strategies ORDER BY strategy_id').all() as (Omit<StrategyState, 'active'> & { active: number })[]).map(
      (r) => ({ ...r, active: r.active === 1 }),
    );
  }
}
