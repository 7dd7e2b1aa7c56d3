import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { openDatabase, type DB } from '../../../electron/hub/db.ts';
import { EventLog, type LoggedEvent } from '../../../electron/hub/log.ts';
import { Projections } from '../../../electron/hub/projections.ts';
import { Strategies } from '../../../electron/hub/strategies.ts';
import { Broker, type BrokerLimits } from '../../../electron/hub/broker.ts';
import { LocalEngine, type CommitContext } from '../../../electron/hub/engine.ts';
import { HubError } from '../../../electron/hub/errors.ts';
import { validateEvent, type ValidEvent } from '../../../shared/events.ts';

/**
 * The hub's delivery core without HTTP: a real SQLite file in a temp folder, the real log,
 * projections, broker and local engine, wired the way the hub wires them.
 */
export interface Core {
  dir: string;
  dbFile: string;
  db: DB;
  log: EventLog;
  projections: Projections;
  strategies: Strategies;
  broker: Broker;
  engine: LocalEngine;
  /** Every event handed to the broker after a commit, in order. */
  committed: LoggedEvent[];
  close(): void;
}

export const LIMITS: BrokerLimits = { maxQueueEvents: 5_000, maxQueueBytes: 4 * 1024 * 1024, stallTimeoutMs: 30_000, heartbeatMs: 600_000 };

export function openCore(limits: Partial<BrokerLimits> = {}): Core {
  const dir = mkdtempSync(join(tmpdir(), 'relaydesk-unit-'));
  const dbFile = join(dir, 'hub.db');
  const db = openDatabase(dbFile);
  const log = new EventLog(db);
  const projections = new Projections(db);
  const strategies = new Strategies(db);
  const broker = new Broker({ ...LIMITS, ...limits });
  const committed: LoggedEvent[] = [];
  const ctx: CommitContext = {
    db,
    log,
    projections,
    admit: (events) => {
      const off = events.find((e) => !strategies.isActive(e.strategy_id));
      return off ? new HubError(409, 'strategy_inactive', `strategy ${off.strategy_id} is inactive`) : null;
    },
    committed: (events) => {
      committed.push(...events);
      broker.publish(events);
    },
  };
  const engine = new LocalEngine(ctx);
  return {
    dir,
    dbFile,
    db,
    log,
    projections,
    strategies,
    broker,
    engine,
    committed,
    close() {
      broker.close({ reason: 'shutdown', message: 'test over', retry_ms: null });
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A validated event, as the publish route hands it to the engine. */
export function ev(input: Record<string, unknown>): ValidEvent {
  const r = validateEvent(input);
  if (!r.ok) throw new Error(`invalid test event: ${JSON.stringify(r.errors)}`);
  return r.event;
}

export const tick = (i: number, extra: Record<string, unknown> = {}) => ev({ type: 'x.test.tick', store_id: 's1', data: { i, ...extra } });

export const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/**
 * A peer at the other end of a subscriber's sink: a real Node Writable with a small buffer. It takes
 * chunks at once (`fast`), one per event-loop turn (`trickle`), or not at all until `read()` is
 * called (`stalled`). `received` is everything it took, in order.
 */
export class PeerSink extends Writable {
  received = '';
  drains = 0;
  private held: (() => void)[] = [];

  constructor(
    public mode: 'fast' | 'trickle' | 'stalled' = 'fast',
    highWaterMark = 16 * 1024,
  ) {
    super({ highWaterMark });
    this.on('drain', () => this.drains++);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const take = () => {
      this.received += chunk.toString('utf8');
      cb();
    };
    if (this.mode === 'fast') take();
    else if (this.mode === 'trickle') setImmediate(take);
    else this.held.push(take);
  }

  /** Start reading again (what a stalled client does when it wakes up). */
  read(mode: 'fast' | 'trickle' = 'fast'): void {
    this.mode = mode;
    for (const take of this.held.splice(0)) take();
  }

  /** The SSE frames taken so far. */
  frames(): { id?: string; event?: string; data?: string; comment?: string }[] {
    return parseSse(this.received);
  }

  /** The events taken so far (data of frames with an id). */
  events(): { seq: number; type: string; data: Record<string, unknown> }[] {
    return this.frames()
      .filter((f) => f.id !== undefined)
      .map((f) => JSON.parse(f.data!));
  }
}

export function parseSse(text: string): { id?: string; event?: string; data?: string; comment?: string }[] {
  const out: { id?: string; event?: string; data?: string; comment?: string }[] = [];
  for (const block of text.split('\n\n')) {
    if (!block) continue;
    const f: { id?: string; event?: string; data?: string; comment?: string } = {};
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) f.comment = line.slice(1).trim();
      else if (line.startsWith('id: ')) f.id = line.slice(4);
      else if (line.startsWith('event: ')) f.event = line.slice(7);
      else if (line.startsWith('data: ')) f.data = line.slice(6);
    }
    out.push(f);
  }
  return out;
}

export async function until<T>(check: () => T, what: string, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
