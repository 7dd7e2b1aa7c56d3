import type { EngineFactory } from '../hub.ts';

/** Placeholder until the Redis Streams engine lands (issue 6); `--redis` fails loudly, never silently. */
export function redisEngineFactory(url: string): EngineFactory {
  throw new Error(`--redis ${url}: the Redis engine is not available in this build`);
}
