/**
 * Reconnect schedule: 1 s, 2 s, 5 s, then 15 s for every later attempt, each jittered by +-10 % so a
 * hub restart is not met by every console reconnecting in the same millisecond.
 */
export const BACKOFF_STEPS_MS = [1_000, 2_000, 5_000, 15_000] as const;
export const JITTER = 0.1;

/** Delay before reconnect attempt `attempt` (1-based). `rand` is injectable for tests. */
export function backoffDelay(attempt: number, rand: () => number = Math.random): number {
  const i = Math.min(Math.max(attempt, 1), BACKOFF_STEPS_MS.length) - 1;
  const base = BACKOFF_STEPS_MS[i]!;
  return Math.round(base * (1 + (rand() * 2 - 1) * JITTER));
}

/** Automatic attempts before we stop and wait for the user's Retry (about 80 s of trying). */
export const MAX_AUTO_ATTEMPTS = 8;
/** From this attempt on, the Retry button is offered next to the countdown. */
export const SHOW_RETRY_FROM = 3;
