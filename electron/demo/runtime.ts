import type { Publisher, PublishAck } from '../client/index.ts';

/** Seeded PRNG (mulberry32) so a demo run, and a test, can be reproduced. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface DemoLog {
  info(msg: string): void;
  warn(msg: string): void;
}

/**
 * What every simulator gets: the publisher, randomness, and timers scaled by the rate multiplier
 * that are all cancelled by stop().
 */
export class Runtime {
  private timers = new Set<NodeJS.Timeout>();
  stopped = false;
  published = 0;
  failed = 0;

  constructor(
    readonly client: Publisher,
    readonly rate: number,
    readonly random: () => number,
    readonly log: DemoLog,
  ) {}

  /** Run fn after `ms` (divided by the rate), unless stopped. */
  after(ms: number, fn: () => void): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, Math.max(1, ms / this.rate));
    this.timers.add(t);
  }

  /** Repeat fn with a random gap in [min, max] ms (scaled by the rate). */
  every(minMs: number, maxMs: number, fn: () => void, firstMs = this.between(minMs, maxMs)): void {
    this.after(firstMs, () => {
      fn();
      this.every(minMs, maxMs, fn);
    });
  }

  between(min: number, max: number): number {
    return min + this.random() * (max - min);
  }
  int(min: number, max: number): number {
    return Math.floor(this.between(min, max + 1));
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)]!;
  }

  /** Track a publish; a refusal is logged (the demo must never crash the hub process). */
  track(p: Promise<PublishAck>): void {
    p.then(
      () => this.published++,
      (err: Error) => {
        this.failed++;
        if (!this.stopped) this.log.warn(`demo: event refused: ${err.message}`);
      },
    );
  }

  /** Publish with BufferFullError and closed-publisher errors reported instead of thrown. */
  safely(fn: () => Promise<PublishAck>): void {
    if (this.stopped) return;
    try {
      this.track(fn());
    } catch (err) {
      this.failed++;
      this.log.warn(`demo: ${(err as Error).message}`);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
