import { STATE_KEYS_PER_REQUEST, stateFields, stateKinds, stateViewOf, type ProjectionRow, type StateKind, type StatePage, type StateView } from '../../shared/state.ts';
import { patchedUnknownRow, startsWholeRow, type Change, type Tables } from './projections.ts';

/** GET /v1/state/{view} with these query parameters (repeatable ones as arrays). */
export type ReadState = (view: StateView, query: Record<string, string | string[]>) => Promise<StatePage>;

/** Wait this long to gather keys; retry a failed read after this long, this many times. */
const GATHER_MS = 50;
const RETRY_MS = 2_000;
const ATTEMPTS = 3;
/** Keys per request are also bounded by the URL they make: the hub's request line must stay well under 16 KB. */
const MAX_QUERY_CHARS = 8_000;
/** Pages one key lookup follows: every row of a batch on a page of its own, and room for rows that move meanwhile. */
const MAX_PAGES = STATE_KEYS_PER_REQUEST * 2;

interface Wanted {
  kind: StateKind;
  key: string;
  attempts: number;
}

export interface RowFillerHost {
  tables(): Tables;
  /** Changes whenever the tables are replaced (a snapshot): answers asked for before then are void. */
  generation(): number;
  /** Whether the hub may hold rows of this kind that the window does not. */
  mayLackRows(kind: StateKind): boolean;
  changed(): void;
  warn(text: string): void;
}

/**
 * An update to a row the window does not hold (cut from its snapshot, or trimmed from a long-lived
 * window) leaves a row with only the updated fields. The hub holds it whole: fetch it by key and put
 * it in, merged with whatever the window applied since the hub read it.
 */
export class RowFiller {
  private wanted = new Map<string, Wanted>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running = false;

  constructor(
    private readonly host: RowFillerHost,
    private readonly read: ReadState,
  ) {}

  /** After a batch of events was applied. */
  note(changes: readonly Change[]): void {
    for (const c of changes) {
      const id = rowId(c.kind, c.key);
      if (c.op === 'delete' || (c.op === 'upsert' && startsWholeRow(c.ev.type))) this.wanted.delete(id);
      else if (patchedUnknownRow(c) && this.host.mayLackRows(c.kind)) this.wanted.set(id, { kind: c.kind, key: c.key, attempts: 0 });
    }
    if (this.wanted.size) this.schedule(GATHER_MS);
  }

  /** The tables were replaced by a snapshot: nothing is partial any more. */
  reset(): void {
    this.wanted.clear();
  }

  private schedule(ms: number): void {
    if (this.timer || this.running) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, ms);
  }

  private async run(): Promise<void> {
    this.running = true;
    const generation = this.host.generation();
    let failed = 0;
    let changed = false;
    try {
      for (const [view, batch] of batches([...this.wanted.values()])) {
        if (generation !== this.host.generation()) break;
        let walk: Walk | null = null;
        let final = false;
        try {
          walk = await this.walk(view, [...new Set(batch.map((w) => w.key))]);
        } catch (err) {
          // A 4xx will not change on retry (a key the hub refuses); a timeout or a 5xx may.
          const status = (err as { status?: number }).status;
          final = status !== undefined && status >= 400 && status < 500;
          console.warn(`relaydesk: could not fetch ${batch.length} row(s) from /v1/state/${view}: ${err instanceof Error ? err.message : String(err)}`);
        }
        if (generation !== this.host.generation()) break;
        const theirs = walk?.rows ?? new Map<string, ProjectionRow>();
        const tables = this.host.tables();
        for (const w of batch) {
          const id = rowId(w.kind, w.key);
          if (this.wanted.get(id) !== w) continue; // settled by an event meanwhile
          const mine = tables[w.kind].get(w.key);
          const hub = theirs.get(id);
          if (!mine) {
            this.wanted.delete(id); // deleted or trimmed here meanwhile
          } else if (walk && hub) {
            tables[w.kind].set(w.key, fill(hub, mine));
            this.wanted.delete(id);
            changed = true;
          } else if (walk?.complete) {
            // The hub has no such row in our scope now: it went (a session end removes rows this
            // window could not match, having no table for them). A fresh snapshot would not show it.
            if (mine.seq <= walk.seq) {
              tables[w.kind].delete(w.key);
              changed = true;
            }
            this.wanted.delete(id);
          } else if (final || ++w.attempts >= ATTEMPTS) {
            this.wanted.delete(id);
            failed++;
          }
        }
      }
    } finally {
      this.running = false;
    }
    if (generation !== this.host.generation()) {
      if (this.wanted.size) this.schedule(GATHER_MS);
      return;
    }
    if (failed) this.host.warn(`${failed} row${failed === 1 ? '' : 's'} could not be loaded whole from the hub; reload the window to see ${failed === 1 ? 'it' : 'them'} complete`);
    if (changed) this.host.changed();
    if (this.wanted.size) this.schedule(RETRY_MS);
  }

  /**
   * Every row the hub holds for these keys. The hub bounds a page in bytes as well as rows (a page
   * of large orders ends early with a next_cursor), so a key missing from the first page may be on
   * the next: follow the cursor to the end before taking a missing row for a removed one. The walk
   * is oldest first, so a row that changes meanwhile moves ahead of the cursor and is still met.
   */
  private async walk(view: StateView, keys: string[]): Promise<Walk> {
    const rows = new Map<string, ProjectionRow>();
    let cursor: string | null = null;
    let seq = 0;
    for (let i = 0; i < MAX_PAGES; i++) {
      const page: StatePage = await this.read(view, { key: keys, limit: String(STATE_KEYS_PER_REQUEST), order: 'asc', ...(cursor !== null ? { cursor } : {}) });
      // Later pages were read later: the newer copy of a row met twice wins.
      for (const kind of stateKinds) for (const r of page[stateFields[kind]] ?? []) rows.set(rowId(kind, r.key), r);
      seq = page.seq;
      cursor = page.next_cursor;
      if (cursor === null) return { rows, seq, complete: true };
    }
    // Rows kept changing under the walk: what it met is whole, what it missed is not known to be gone.
    return { rows, seq, complete: false };
  }
}

/** The rows a walk over GET /v1/state met, the hub's seq at its last page, and whether it reached the end. */
interface Walk {
  rows: Map<string, ProjectionRow>;
  seq: number;
  complete: boolean;
}

const rowId = (kind: StateKind, key: string) => `${kind}\u0000${key}`;

/**
 * The hub's row, with what this window applied after the hub read it on top. Every field of the
 * window's partial row comes from an event the window applied, so where the window is newer its
 * fields win; where the hub is at least as new, its row is the whole truth.
 */
function fill(hub: ProjectionRow, mine: ProjectionRow): ProjectionRow {
  if (hub.seq >= mine.seq) return hub;
  // Attached actions are the latest change's: the window's, with or without any.
  const { actions: _older, ...rest } = hub;
  return { ...rest, seq: mine.seq, updated_at: mine.updated_at, data: { ...hub.data, ...mine.data }, ...(mine.actions ? { actions: mine.actions } : {}) };
}

/** Group by view, then cut into requests bounded by key count and by URL length. */
function* batches(wanted: Wanted[]): Generator<[StateView, Wanted[]]> {
  const byView = new Map<StateView, Wanted[]>();
  for (const w of wanted) {
    const view = stateViewOf(stateFields[w.kind]);
    byView.set(view, [...(byView.get(view) ?? []), w]);
  }
  for (const [view, list] of byView) {
    let batch: Wanted[] = [];
    let keys = new Set<string>();
    let chars = 0;
    for (const w of list) {
      // The same key in two kinds of one view is asked for once; the answer carries both rows.
      const cost = keys.has(w.key) ? 0 : encodeURIComponent(w.key).length + 5;
      if (cost && keys.size && (keys.size >= STATE_KEYS_PER_REQUEST || chars + cost > MAX_QUERY_CHARS)) {
        yield [view, batch];
        batch = [];
        keys = new Set();
        chars = 0;
      }
      batch.push(w);
      keys.add(w.key);
      chars += cost;
    }
    if (batch.length) yield [view, batch];
  }
}
