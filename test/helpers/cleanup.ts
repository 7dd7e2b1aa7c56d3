import { afterEach } from 'vitest';
import { startTestHub, type TestHub } from './hub.ts';

/**
 * What a test opens (hubs, receivers, streams) is closed after it, newest first, whether it passed
 * or not. Call once at the top of a test file; `later` registers a close, `hubWith` starts a hub that
 * is stopped that way.
 */
export function cleanupAfterEach(): {
  later: (close: () => unknown) => void;
  hubWith: (...args: Parameters<typeof startTestHub>) => Promise<TestHub>;
} {
  const closes: (() => unknown)[] = [];
  afterEach(async () => {
    while (closes.length) await closes.pop()!();
  });
  const later = (close: () => unknown) => {
    closes.push(close);
  };
  return {
    later,
    hubWith: async (...args) => {
      const h = await startTestHub(...args);
      later(() => h.stop());
      return h;
    },
  };
}
