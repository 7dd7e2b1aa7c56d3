/**
 * Snapshot builds for `snapshot=1` streams. A build reads and serialises a scope's whole current
 * state in one synchronous step (it must, to be exact at one seq), so it holds the event loop for as
 * long as the state is big. Built as each stream asked, a burst of opens (a console fleet
 * reconnecting after a hub restart) would queue up that many builds back to back, publishes waiting
 * behind all of them, and build for clients that had given up long before.
 *
 * Here builds wait in a queue and run one per event-loop turn, so publishes and other requests get
 * their turn between any two. Identical requests waiting at once (same scope and filters) share
 * one build: it is exact at its seq for every one of them. A request whose client has gone before its
 * turn is dropped, and a build nobody is waiting for any more is not made.
 */

export interface SnapshotBuild {
  /** The log head the snapshot is exact at; the stream replays from here. */
  at: number;
  /** The seq the frame is stamped with when not `at`: the scope's head, so the global head stays private. */
  stamp?: number;
  /** The framed `initial` event, encoded once for every connection it is written to. */
  frame: Buffer;
}

/** Per request: its own build, another request's build, or none (its client had gone). */
export type SnapshotOutcome = 'built' | 'shared' | 'skipped';

interface Waiter {
  isOpen: () => boolean;
  resolve: (b: SnapshotBuild | null) => void;
  reject: (err: unknown) => void;
}

interface Job {
  build: () => SnapshotBuild;
  waiters: Waiter[];
}

export class SnapshotQueue {
  /** Waiting builds by key; a Map iterates in insertion order, so this is also the FIFO. */
  private jobs = new Map<string, Job>();
  private scheduled = false;
  private closed = false;
  readonly counts: Record<SnapshotOutcome, number> = { built: 0, shared: 0, skipped: 0 };

  constructor(private readonly onOutcome?: (outcome: SnapshotOutcome, n: number) => void) {}

  get pending(): number {
    return this.jobs.size;
  }

  /**
   * Queue a build under `key` (requests with equal keys must build equal snapshots), or join the one
   * already waiting. Resolves with the build, or null if `isOpen` said the client had gone by its turn.
   */
  request(key: string, build: () => SnapshotBuild, isOpen: () => boolean): Promise<SnapshotBuild | null> {
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { isOpen, resolve, reject };
      const job = this.jobs.get(key);
      if (job) job.waiters.push(waiter);
      else this.jobs.set(key, { build, waiters: [waiter] });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || !this.jobs.size) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.runOne();
      this.schedule();
    });
  }

  private runOne(): void {
    const next = this.jobs.entries().next();
    if (next.done) return;
    const [key, job] = next.value;
    this.jobs.delete(key);
    const open: Waiter[] = [];
    for (const w of job.waiters) {
      if (w.isOpen()) open.push(w);
      else w.resolve(null);
    }
    this.count('skipped', job.waiters.length - open.length);
    if (!open.length) return;
    let result: SnapshotBuild;
    try {
      result = job.build();
    } catch (err) {
      for (const w of open) w.reject(err);
      return;
    }
    this.count('built', 1);
    this.count('shared', open.length - 1);
    for (const w of open) w.resolve(result);
  }

  private count(outcome: SnapshotOutcome, n: number): void {
    if (n <= 0) return;
    this.counts[outcome] += n;
    this.onOutcome?.(outcome, n);
  }

  /** Shutdown: nothing more is built; whoever still waits gets null. */
  close(): void {
    this.closed = true;
    for (const job of this.jobs.values()) for (const w of job.waiters) w.resolve(null);
    this.jobs.clear();
  }
}
