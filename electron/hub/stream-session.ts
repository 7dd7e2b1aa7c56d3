import { sseFrame, CONTROL, type ConnectionEvent, type EventPosition, type ResetEvent } from '../../shared/wire.ts';
import type { HubEvent } from '../../shared/events.ts';
import type { EventLog } from './log.ts';
import type { Projections } from './projections.ts';
import type { SnapshotQueue } from './snapshot-queue.ts';
import type { Broker, ReplaySource } from './broker.ts';
import type { BusEngine } from './engine.ts';
import type { HubOptions } from './config.ts';
import { visibleTo, type StreamSpec, type Subscriber } from './subscriber.ts';

/** Events per replay page (a page is also bounded in bytes by the broker). */
const REPLAY_PAGE_EVENTS = 500;

/** What a `/v1/stream` session needs from the hub. */
export interface StreamDeps {
  hubId: string;
  log: EventLog;
  projections: Projections;
  snapshots: SnapshotQueue;
  broker: Broker;
  /** Engines whose log can trail the shared order (Redis) let a resume wait for it briefly. */
  engine: Pick<BusEngine, 'whenApplied' | 'whenEpoch'>;
  opts: Pick<HubOptions, 'retryMs' | 'heartbeatMs' | 'snapshotCaps' | 'snapshotMaxBytes'>;
}

export interface StreamRequest {
  /** `snapshot=1`: the scope's current state (`initial`) before the events. */
  snapshot: boolean;
  /** Last-Event-ID: resume after this position. */
  position?: EventPosition;
  /** Replay and snapshot work, charged to the token as it is done (like a history read's). */
  charge?: (rows: number, bytes: number) => void;
}

/**
 * The `/v1/stream` protocol for a subscriber the broker already tracks: `retry:` and `connection`,
 * then `reset` when the position cannot be served (another epoch, pruned, ahead of the log), the
 * `initial` snapshot when asked (or after a reset), the replay after the position, and live events.
 * Resolves when the subscriber is live, or went away first.
 */
export async function runStream(hub: StreamDeps, sub: Subscriber, req: StreamRequest): Promise<void> {
  const { spec } = sub;
  const { position } = req;
  const charge = req.charge ?? (() => undefined);
  const resumeFrom = position?.seq;
  const { log } = hub;
  if (position?.epoch !== undefined && !log.epochs.contains(position) && hub.engine.whenEpoch) await hub.engine.whenEpoch(position.epoch, 2000);
  if (resumeFrom !== undefined && resumeFrom > log.head && hub.engine.whenApplied) await hub.engine.whenApplied(resumeFrom, 2000);
  if (sub.closed) return;
  const head = log.head;
  // What the client is told is the head of its own scope; `head` (global) only positions the cursor.
  const scopeHead = log.headIn(spec.scope);
  sub.headSeq = scopeHead;
  const epochs = log.epochs;
  const connection: ConnectionEvent = {
    connection_id: sub.id,
    hub_id: hub.hubId,
    head_seq: scopeHead,
    oldest_seq: log.prunedThrough + 1,
    resume_from: resumeFrom ?? null,
    epoch: epochs.current,
    scope: spec.scope,
    filters: { ...spec.filters, type: spec.types },
    heartbeat_ms: hub.opts.heartbeatMs,
    server_time: new Date().toISOString(),
  };
  sub.write(`retry: ${hub.opts.retryMs}\n\n` + sseFrame(CONTROL.connection, JSON.stringify(connection)), 0);

  /** The snapshot's seq, or null when the client went away before it was built. */
  const sendSnapshot = async (): Promise<number | null> => {
    const built = await hub.snapshots.request(
      // A snapshot depends on the scope and the key filters only (type filters apply to events).
      JSON.stringify([spec.scope, spec.filters]),
      () => {
        // Read and stamp in one synchronous step so the snapshot is exactly the state at `head`. It is
        // stamped with the scope's head: every event of the scope up to `at` is at or below it, so a
        // resume from it misses nothing, and the global head stays private.
        const at = log.head;
        const stamp = log.headIn(spec.scope);
        const snap = hub.projections.snapshot(stamp, spec.scope, spec.filters, hub.opts.snapshotCaps, hub.opts.snapshotMaxBytes);
        return { at, stamp, frame: Buffer.from(sseFrame(CONTROL.initial, JSON.stringify(snap), { seq: stamp, epoch: log.epochs.current })) };
      },
      () => !sub.closed && !sub.sink.destroyed,
    );
    if (!built || sub.closed) return null;
    // Written whatever its size (a snapshot may be larger than the queue bound by design); the
    // broker waits for it to drain before replaying on top.
    sub.sink.write(built.frame);
    sub.headSeq = Math.max(sub.headSeq, built.stamp ?? 0);
    charge(0, built.frame.length);
    return built.at;
  };

  let cursor: number;
  // A position from another history (a replaced log, a Redis stream that started over) is told so
  // whatever its seq: the same number here may be a different event.
  const foreign = position !== undefined && !epochs.contains(position);
  const gone = resumeFrom !== undefined && resumeFrom < log.prunedThrough;
  // Compared with the scope's head, not the global one: otherwise a scoped client could find the
  // global head by trying ids until a reset came back. An id past its scope's head was never sent.
  const ahead = resumeFrom !== undefined && resumeFrom > scopeHead;
  if (foreign || gone || ahead) {
    const reset: ResetEvent = {
      reason: foreign ? 'epoch_changed' : gone ? 'retention' : 'ahead_of_log',
      requested: resumeFrom!,
      ...(position?.epoch !== undefined ? { requested_epoch: position.epoch } : {}),
      epoch: epochs.current,
      oldest_seq: log.prunedThrough + 1,
      head_seq: scopeHead,
      message: foreign
        ? `Last-Event-ID ${resumeFrom}@${position.epoch} is from another history than this hub's log (epoch ${epochs.current}); reload from the snapshot that follows`
        : gone
          ? `events after ${resumeFrom} are no longer retained (oldest is ${log.prunedThrough + 1}); reload from the snapshot that follows`
          : `Last-Event-ID ${resumeFrom} is ahead of this hub's log (head ${scopeHead}); reload from the snapshot that follows`,
    };
    sub.write(sseFrame(CONTROL.reset, JSON.stringify(reset)), 0);
    const at = await sendSnapshot();
    if (at === null) return;
    cursor = at;
  } else if (req.snapshot) {
    const at = await sendSnapshot();
    if (at === null) return;
    cursor = resumeFrom ?? at;
  } else {
    cursor = resumeFrom ?? head;
  }

  await hub.broker.catchUp(sub, cursor, logReplay(log, spec), (page) => {
    charge(page.scanned, 0);
    if (page.events.length) charge(0, jsonBytes(page.events));
  });
}

/** Replay for a `/v1/stream` subscriber: its scope's rows along the scope's index, re-checked per event. */
export function logReplay(log: EventLog, spec: StreamSpec): ReplaySource {
  const scoped = { scope: spec.scope, filters: spec.filters };
  const visible = (e: HubEvent) => visibleTo(spec, e);
  return {
    readAfter: (after, maxBytes) => {
      const page = log.readAfter(after, REPLAY_PAGE_EVENTS, visible, scoped, maxBytes);
      return { ...page, caughtUp: page.scannedTo >= log.head };
    },
  };
}

function jsonBytes(events: readonly { json: string }[]): number {
  let n = 0;
  for (const e of events) n += e.json.length;
  return n;
}
