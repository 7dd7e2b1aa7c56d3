import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { EPOCH_PATTERN, type EventPosition } from '../../shared/wire.ts';
import { getMeta, setMeta, type DB } from './db.ts';

/**
 * Every log has an epoch: a random id made with the log. A position handed to clients is
 * `<seq>@<epoch>`, so a client resuming against another history than the one it read (a replaced
 * database file, or a Redis stream that lost its data and started over) is detected by the epoch, not
 * only when its seq happens to be ahead of the head.
 *
 * A log can span several epochs (the Redis engine starts a new one when the shared stream was lost):
 * the chain lists them oldest first, each with its `base`, the last seq of the history before it. A
 * position (seq, e) belongs to this log when e is in the chain and, unless e is the current epoch,
 * seq <= the base of the epoch after e (events of e past that base are a history this log left).
 */
export interface EpochLink {
  id: string;
  base: number;
}

export const epochChainSchema = z.array(z.object({ id: z.string().regex(EPOCH_PATTERN), base: z.number().int().nonnegative() })).min(1);

const CHAIN_KEY = 'epoch_chain';
/** 'local' until the Redis engine has tied the log to a shared stream's epochs ('redis'). */
const SOURCE_KEY = 'epoch_source';

export const newEpochId = () => randomBytes(6).toString('base64url');

export class LogEpochs {
  private links: EpochLink[];
  private src: 'local' | 'redis';

  constructor(private readonly db: DB) {
    const stored = getMeta(db, CHAIN_KEY);
    const parsed = stored ? epochChainSchema.safeParse(JSON.parse(stored)) : undefined;
    if (parsed?.success) this.links = parsed.data;
    else {
      // A new log, or one from before epochs: its events (epoch NULL) belong to this first epoch.
      this.links = [{ id: newEpochId(), base: 0 }];
      setMeta(db, CHAIN_KEY, JSON.stringify(this.links));
    }
    this.src = getMeta(db, SOURCE_KEY) === 'redis' ? 'redis' : 'local';
  }

  get current(): string {
    return this.links[this.links.length - 1]!.id;
  }

  /** The first epoch: rows stored without an epoch belong to it. */
  get origin(): string {
    return this.links[0]!.id;
  }

  get chain(): readonly EpochLink[] {
    return this.links;
  }

  get source(): 'local' | 'redis' {
    return this.src;
  }

  /** Is (seq, epoch) a position of this log's history? (seq against the head is the caller's check.) */
  contains(pos: EventPosition): boolean {
    if (pos.epoch === undefined) return true;
    return chainContains(this.links, pos.seq, pos.epoch);
  }

  /** Replace the chain (the Redis engine following the shared stream's epochs). */
  adopt(chain: EpochLink[], source: 'local' | 'redis' = 'redis'): void {
    const parsed = epochChainSchema.parse(chain);
    this.db.transaction(() => {
      setMeta(this.db, CHAIN_KEY, JSON.stringify(parsed));
      setMeta(this.db, SOURCE_KEY, source);
    })();
    this.links = parsed;
    this.src = source;
  }
}

export function chainContains(chain: readonly EpochLink[], seq: number, epoch: string): boolean {
  const i = chain.findIndex((l) => l.id === epoch);
  if (i < 0) return false;
  return i === chain.length - 1 || seq <= chain[i + 1]!.base;
}
