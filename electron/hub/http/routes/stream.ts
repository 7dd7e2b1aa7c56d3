import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { TokenScope } from '../../../../shared/scope.ts';
import { sseFrame, parseEventId, CONTROL, streamEventModes, type ConnectionEvent, type EventPosition, type ResetEvent } from '../../../../shared/wire.ts';
import { HubError, forbidden } from '../../errors.ts';
import { authenticate, requireRole, readCost } from '../auth.ts';
import { parseWith, scopeList, typeList, boolParam } from '../query.ts';
import { Subscriber, visibleTo, type StreamSpec } from '../../broker.ts';
import type { KeyFilters } from '../../scope-sql.ts';
import type { RouteContext } from '../app.ts';
import type { Hub } from '../../hub.ts';

const streamQuery = z
  .object({
    access_token: z.string().optional(),
    store_id: scopeList.optional(),
    user_id: scopeList.optional(),
    strategy_id: scopeList.optional(),
    type: typeList.optional(),
    snapshot: boolParam.optional(),
    lastEventId: z
      .string()
      .regex(/^\d{1,15}(@[A-Za-z0-9_-]{1,32})?$/, 'must be an event id sent by this hub (<seq> or <seq>@<epoch>)')
      .transform((v) => parseEventId(v)!)
      .optional(),
    events: z.enum(streamEventModes).optional(),
  })
  .strict();

const REPLAY_PAGE = 500;

/**
 * Filters may only narrow a token's scope. Asking for a strategy, user or store outside it is a
 * 403 that names the field, never a silently empty stream.
 */
export function checkFilters(scope: TokenScope, f: KeyFilters): void {
  const outside = (field: string, asked: string[] | undefined, allowed: string[] | undefined) => {
    const bad = allowed && asked?.filter((v) => !allowed.includes(v));
    if (bad?.length) throw forbidden(`${field} ${bad.join(',')} is outside this token's scope`, [{ path: field, reason: `not in scope: ${bad.join(',')}` }]);
  };
  outside('strategy_id', f.strategy_id, scope.strategy_ids);
  outside('store_id', f.store_id, scope.store_ids);
  outside('user_id', f.user_id, scope.user_id !== undefined ? [scope.user_id] : undefined);
}

/** The position to resume after: `<seq>@<epoch>` as sent by the hub, or a plain seq (older clients). */
function lastEventIdFrom(req: FastifyRequest, fromQuery: EventPosition | undefined): EventPosition | undefined {
  const header = req.headers['last-event-id'];
  if (header === undefined || header === '') return fromQuery;
  const v = Array.isArray(header) ? header[0]! : header;
  const pos = parseEventId(v);
  if (!pos)
    throw new HubError(400, 'invalid_request', 'Last-Event-ID must be an event id sent by this hub', [
      { path: 'headers.last-event-id', reason: 'must be <seq> or <seq>@<epoch> (a non-negative integer, then an epoch of letters, digits, _ or -)' },
    ]);
  return pos;
}

export function streamRoutes(app: FastifyInstance, { hub, limiter }: RouteContext): void {
  app.get('/v1/stream', async (req, reply) => {
    const p = authenticate(req, hub.tokens, true);
    requireRole(p, ['subscriber', 'operator', 'admin'], 'subscribe');
    limiter.take(p);
    const q = parseWith(streamQuery, req.query, 'query');
    const filters: KeyFilters = { store_id: q.store_id, user_id: q.user_id, strategy_id: q.strategy_id };
    checkFilters(p.scope, filters);
    // An explicitly asked inactive strategy is refused; a token bound to strategies is refused only
    // when all of them are inactive (its other strategies still have a live stream to offer).
    const asked = q.strategy_id?.length ? q.strategy_id : p.scope.strategy_ids;
    const inactive = (asked ?? []).filter((s: string) => !hub.strategies.isActive(s));
    if (inactive.length && (q.strategy_id?.length || inactive.length === asked!.length))
      throw new HubError(409, 'strategy_inactive', `strategy ${inactive.join(',')} is deactivated (${hub.strategies.reasonFor(inactive[0]!) ?? 'no reason given'})`, [
        { path: 'strategy_id', reason: 'strategy is inactive' },
      ]);
    const resumeFrom = lastEventIdFrom(req, q.lastEventId);
    const spec: StreamSpec = { tokenId: p.tokenId, scope: p.scope, filters, types: q.type, mode: q.events ?? 'named' };

    // HEAD (Fastify answers it with this handler): the same checks and headers, but no body and no
    // subscriber, so a probe costs nothing and holds nothing open.
    if (req.method === 'HEAD') {
      return reply
        .code(200)
        .headers({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' })
        .send();
    }

    reply.hijack();
    const res = reply.raw;
    // No chunked framing: the event stream is delimited by the connection (see Subscriber.sink).
    res.useChunkedEncodingByDefault = false;
    res.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    res.socket?.setKeepAlive(true, 30_000);
    const sub = new Subscriber(spec, res);
    hub.broker.register(sub);
    hub.metrics.connections.set(hub.broker.size);
    res.on('close', () => hub.metrics.connections.set(hub.broker.size));
    // Replay and snapshot work is charged to the token as it is done, like a history read's.
    const charge = (rows: number, bytes: number) => limiter.charge(p, readCost(rows, bytes));
    void runStream(hub, sub, q.snapshot ?? false, resumeFrom, charge).catch((err) => {
      req.log.warn({ err, connection: sub.id }, 'stream failed');
      res.destroy();
    });
  });
}

async function runStream(hub: Hub, sub: Subscriber, snapshot: boolean, position: EventPosition | undefined, charge: (rows: number, bytes: number) => void): Promise<void> {
  const { spec } = sub;
  const resumeFrom = position?.seq;
  if (position?.epoch !== undefined && !hub.log.epochs.contains(position) && hub.engine.whenEpoch) await hub.engine.whenEpoch(position.epoch, 2000);
  if (resumeFrom !== undefined && resumeFrom > hub.log.head && hub.engine.whenApplied) await hub.engine.whenApplied(resumeFrom, 2000);
  if (sub.closed) return;
  const head = hub.log.head;
  // What the client is told is the head of its own scope; `head` (global) only positions the cursor.
  const scopeHead = hub.log.headIn(spec.scope);
  sub.headSeq = scopeHead;
  const epochs = hub.log.epochs;
  const connection: ConnectionEvent = {
    connection_id: sub.id,
    hub_id: hub.hubId,
    head_seq: scopeHead,
    oldest_seq: hub.log.prunedThrough + 1,
    resume_from: resumeFrom ?? null,
    epoch: epochs.current,
    scope: spec.scope,
    filters: { ...spec.filters, type: spec.types },
    heartbeat_ms: hub.opts.heartbeatMs,
    server_time: new Date().toISOString(),
  };
  sub.sink.write(`retry: ${hub.opts.retryMs}\n\n` + sseFrame(CONTROL.connection, JSON.stringify(connection)));

  let cursor: number;
  /** The snapshot's seq, or null when the client went away before it was built. */
  const sendSnapshot = async (): Promise<number | null> => {
    const built = await hub.snapshots.request(
      // A snapshot depends on the scope and the key filters only (type filters apply to events).
      JSON.stringify([spec.scope, spec.filters]),
      () => {
        // Read and stamp in one synchronous step so the snapshot is exactly the state at `head`. It is
        // stamped with the scope's head: every event of the scope up to `at` is at or below it, so a
        // resume from it misses nothing, and the global head stays private.
        const at = hub.log.head;
        const stamp = hub.log.headIn(spec.scope);
        const snap = hub.projections.snapshot(stamp, spec.scope, spec.filters, hub.opts.snapshotCaps, hub.opts.snapshotMaxBytes);
        return { at, stamp, frame: Buffer.from(sseFrame(CONTROL.initial, JSON.stringify(snap), { seq: stamp, epoch: hub.log.epochs.current })) };
      },
      () => !sub.closed && !sub.sink.destroyed,
    );
    if (!built || sub.closed) return null;
    sub.sink.write(built.frame);
    sub.headSeq = Math.max(sub.headSeq, built.stamp ?? 0);
    charge(0, built.frame.length);
    return built.at;
  };

  // A position from another history (a replaced log, a Redis stream that started over) is told so
  // whatever its seq: the same number here may be a different event.
  const foreign = position !== undefined && !epochs.contains(position);
  const gone = resumeFrom !== undefined && resumeFrom < hub.log.prunedThrough;
  // Compared with the scope's head, not the global one: otherwise a scoped client could find the
  // global head by trying ids until a reset came back. An id past its scope's head was never sent.
  const ahead = resumeFrom !== undefined && resumeFrom > scopeHead;
  if (foreign || gone || ahead) {
    const reset: ResetEvent = {
      reason: foreign ? 'epoch_changed' : gone ? 'retention' : 'ahead_of_log',
      requested: resumeFrom!,
      ...(position?.epoch !== undefined ? { requested_epoch: position.epoch } : {}),
      epoch: epochs.current,
      oldest_seq: hub.log.prunedThrough + 1,
      head_seq: scopeHead,
      message: foreign
        ? `Last-Event-ID ${resumeFrom}@${position.epoch} is from another history than this hub's log (epoch ${epochs.current}); reload from the snapshot that follows`
        : gone
          ? `events after ${resumeFrom} are no longer retained (oldest is ${hub.log.prunedThrough + 1}); reload from the snapshot that follows`
          : `Last-Event-ID ${resumeFrom} is ahead of this hub's log (head ${scopeHead}); reload from the snapshot that follows`,
    };
    sub.sink.write(sseFrame(CONTROL.reset, JSON.stringify(reset)));
    const at = await sendSnapshot();
    if (at === null) return;
    cursor = at;
  } else if (snapshot) {
    const at = await sendSnapshot();
    if (at === null) return;
    cursor = resumeFrom ?? at;
  } else {
    cursor = resumeFrom ?? head;
  }

  // A snapshot can be larger than the queue bound (several MB by design): let the socket take it
  // before replaying, or the first page written on top would count the client as slow. A client
  // that never reads it is cut by the stall timeout like any other.
  if (sub.sink.writableNeedDrain) {
    sub.stalledSince ??= Date.now();
    await waitDrain(sub, hub.opts.queue.stallTimeoutMs);
  }

  // Replay from the log in pages until caught up, then go live in the same turn as the last read.
  // A page holds at most a quarter of the queue bound of event JSON (at least one event), and the
  // next is read only once the socket has taken it: a reader that stops reading costs its queue
  // bound, not the log.
  const visible = (e: Parameters<typeof visibleTo>[1]) => visibleTo(spec, e);
  const pageBytes = hub.opts.queue.maxBytes / 4;
  for (;;) {
    if (sub.closed) return;
    const page = hub.log.readAfter(cursor, REPLAY_PAGE, visible, { scope: spec.scope, filters: spec.filters }, pageBytes);
    charge(page.scanned, 0);
    if (page.scannedTo === cursor) {
      hub.broker.goLive(sub, cursor);
      return;
    }
    cursor = page.scannedTo;
    if (page.events.length) {
      charge(0, bytes(page.events));
      if (!hub.broker.write(sub, hub.broker.framesFor(sub, page.events), page.events.length, cursor)) return;
      sub.headSeq = Math.max(sub.headSeq, page.events[page.events.length - 1]!.event.seq);
    }
    sub.lastSeq = cursor;
    if (sub.sink.writableNeedDrain) await waitDrain(sub, hub.opts.queue.stallTimeoutMs);
    else await new Promise((r) => setImmediate(r));
  }
}

function bytes(events: readonly { json: string }[]): number {
  let n = 0;
  for (const e of events) n += e.json.length;
  return n;
}

function waitDrain(sub: Subscriber, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      sub.sink.off('drain', done);
      sub.sink.off('close', done);
      resolve();
    };
    const t = setTimeout(done, timeoutMs);
    sub.sink.once('drain', done);
    sub.sink.once('close', done);
  });
}
