import { stateFields, stateKinds, stateViewOf, truncatedFields, type Snapshot, type StateField } from '../../shared/state.ts';
import { startsWholeRow, type Change } from './projections.ts';
import type { ReadState } from './row-filler.ts';

/** How often the hub's totals are re-read while a list in this window is cut. */
export const REFRESH_MS = 10_000;

/**
 * "Showing N of M" for lists the hub's snapshot cut at its cap. M is the hub's total at some seq S
 * plus the rows this window saw created or deleted after S, so it moves with the traffic between
 * reads. The window cannot see rows leave that it never held (a session end, a delete of a row cut
 * from the snapshot), so the hub's total is re-read every REFRESH_MS while a list stays cut.
 */
export class CutTotals {
  private base: Partial<Record<StateField, { total: number; seq: number }>> = {};
  private deltas: { seq: number; field: StateField; delta: number }[] = [];
  private cut = new Set<StateField>();
  private readAt = 0;
  private busy = false;
  private generation = 0;

  fromSnapshot(s: Snapshot, now: number): void {
    this.generation++;
    this.cut = new Set(truncatedFields(s.counts));
    this.base = {};
    for (const f of this.cut) this.base[f] = { total: s.counts[f].total, seq: s.seq };
    this.deltas = [];
    this.readAt = now;
  }

  total(field: StateField): number | null {
    const b = this.base[field];
    if (!b) return null;
    let n = b.total;
    for (const d of this.deltas) if (d.field === field && d.seq > b.seq) n += d.delta;
    return n;
  }

  /** After a batch of events was applied. */
  note(changes: readonly Change[]): void {
    if (!this.cut.size) return;
    for (const c of changes) {
      const field = stateFields[c.kind];
      if (!this.cut.has(field)) continue;
      // A patch to a row the window did not hold is a row the hub already counted.
      if (c.op === 'upsert' && !c.prev && startsWholeRow(c.ev.type)) this.deltas.push({ seq: c.ev.seq, field, delta: 1 });
      if (c.op === 'delete') this.deltas.push({ seq: c.ev.seq, field, delta: -1 });
    }
  }

  /** Re-read the hub's totals when due; true when they moved. */
  async refresh(read: ReadState, now: number): Promise<boolean> {
    if (!this.cut.size || this.busy || now - this.readAt < REFRESH_MS) return false;
    this.readAt = now;
    this.busy = true;
    const generation = this.generation;
    const before = [...this.cut].map((f) => this.total(f)).join();
    try {
      for (const view of new Set([...this.cut].map(stateViewOf))) {
        const page = await read(view, { limit: '1' });
        if (generation !== this.generation) return false;
        for (const kind of stateKinds) {
          const f = stateFields[kind];
          const c = page.counts[f];
          if (c && this.cut.has(f)) this.base[f] = { total: c.total, seq: page.seq };
        }
      }
    } catch {
      // The connection indicator says when the hub is unreachable; the last totals (with the deltas) stay.
    } finally {
      this.busy = false;
    }
    const oldest = Math.min(...[...this.cut].map((f) => this.base[f]?.seq ?? 0));
    this.deltas = this.deltas.filter((d) => d.seq > oldest);
    return before !== [...this.cut].map((f) => this.total(f)).join();
  }
}
