import { afterEach, describe, expect, it } from 'vitest';
import { connectionEventSchema, resetEventSchema } from '../../../shared/wire.ts';
import { SNAPSHOT_CAPS, SNAPSHOT_KIND_MAX_BYTES, snapshotSchema } from '../../../shared/state.ts';
import { SnapshotQueue } from '../../../electron/hub/snapshot-queue.ts';
import { runStream, type StreamDeps } from '../../../electron/hub/stream-session.ts';
import { streamSubscription, type StreamSpec } from '../../../electron/hub/subscriber.ts';
import { ev, openCore, PeerSink, tick, until, type Core } from './parts.ts';

let core: Core | undefined;
afterEach(() => {
  core?.close();
  core = undefined;
});

function deps(c: Core): StreamDeps {
  return {
    hubId: 'hub-test',
    log: c.log,
    projections: c.projections,
    snapshots: new SnapshotQueue(),
    broker: c.broker,
    // The local engine's log never trails: nothing to wait for (the Redis engine's waits are in redis tests).
    engine: {},
    opts: { retryMs: 1500, heartbeatMs: 15_000, snapshotCaps: SNAPSHOT_CAPS, snapshotMaxBytes: SNAPSHOT_KIND_MAX_BYTES },
  };
}

const store12: StreamSpec = { tokenId: 't', scope: { store_ids: ['12'] }, filters: {} };
const order = (id: string) => ev({ type: 'store.order.created', store_id: '12', data: { order_id: id, items: [{ name: 'Tea', quantity: 1 }], total: 2 } });

describe('the /v1/stream protocol without HTTP', () => {
  it('greets with retry and the scope\'s own head, replays nothing old, then goes live', async () => {
    const c = (core = openCore());
    await c.engine.publish([order('a'), { ...tick(1), store_id: '99' }]);
    const sink = new PeerSink();
    const sub = c.broker.subscribe(streamSubscription(store12, 'named'), sink);
    await runStream(deps(c), sub, { snapshot: false });
    expect(sub.live).toBe(true);
    await c.engine.publish([order('b')]);
    await until(() => sink.events().length === 1, 'the live event');
    expect(sink.received.startsWith('retry: 1500\n\n')).toBe(true);
    const connection = connectionEventSchema.parse(JSON.parse(sink.frames().find((f) => f.event === 'connection')!.data!));
    // The scope's head (1), not the global one (2): a scoped client never learns how busy others are.
    expect(connection).toMatchObject({ hub_id: 'hub-test', head_seq: 1, resume_from: null, epoch: c.log.epochs.current });
    expect(sink.events().map((e) => [e.seq, e.type])).toEqual([[3, 'store.order.created']]);
  });

  it('resets a position ahead of the scope\'s head, sends the snapshot, and continues from it', async () => {
    const c = (core = openCore());
    await c.engine.publish([order('a'), order('b')]);
    const sink = new PeerSink();
    const sub = c.broker.subscribe(streamSubscription(store12, 'message'), sink);
    await runStream(deps(c), sub, { snapshot: false, position: { seq: 50, epoch: c.log.epochs.current } });
    const frames = sink.frames().filter((f) => f.event);
    expect(frames.map((f) => f.event)).toEqual(['connection', 'reset', 'initial']);
    const reset = resetEventSchema.parse(JSON.parse(frames[1]!.data!));
    expect(reset).toMatchObject({ reason: 'ahead_of_log', requested: 50, head_seq: 2 });
    const snap = snapshotSchema.parse(JSON.parse(frames[2]!.data!));
    expect(snap.store_orders.map((r) => r.data.order_id).sort()).toEqual(['a', 'b']);
    await c.engine.publish([order('c')]);
    // The snapshot frame has an id too (its seq); the events are the unnamed frames after it.
    const live = () => sink.frames().filter((f) => f.id && !f.event).map((f) => JSON.parse(f.data!).seq);
    await until(() => live().length === 1, 'live after the snapshot');
    expect(live()).toEqual([3]);
  });

  it('tells a position from another history so, whatever its seq', async () => {
    const c = (core = openCore());
    await c.engine.publish([order('a')]);
    const sink = new PeerSink();
    const sub = c.broker.subscribe(streamSubscription(store12, 'message'), sink);
    await runStream(deps(c), sub, { snapshot: false, position: { seq: 1, epoch: 'another-log' } });
    const reset = resetEventSchema.parse(JSON.parse(sink.frames().find((f) => f.event === 'reset')!.data!));
    expect(reset).toMatchObject({ reason: 'epoch_changed', requested: 1, requested_epoch: 'another-log' });
  });

  it('resumes after a position with exactly the missed events of its scope, and charges what it read', async () => {
    const c = (core = openCore());
    await c.engine.publish([order('a'), { ...tick(1), store_id: '99' }, order('b'), order('c')]);
    const sink = new PeerSink();
    const sub = c.broker.subscribe(streamSubscription(store12, 'message'), sink);
    let rows = 0;
    let bytes = 0;
    await runStream(deps(c), sub, { snapshot: false, position: { seq: 1 }, charge: (r, b) => ((rows += r), (bytes += b)) });
    await until(() => sink.events().length === 2, 'the replay');
    expect(sink.events().map((e) => e.seq)).toEqual([3, 4]);
    expect(rows).toBeGreaterThan(0);
    expect(bytes).toBeGreaterThan(0);
  });

  it('builds no snapshot for a client that left before its turn', async () => {
    const c = (core = openCore());
    const d = deps(c);
    const sink = new PeerSink();
    const sub = c.broker.subscribe(streamSubscription(store12, 'named'), sink);
    const running = runStream(d, sub, { snapshot: true });
    sink.destroy();
    await running;
    expect(d.snapshots.counts).toEqual({ built: 0, shared: 0, skipped: 1 });
    expect(sub.live).toBe(false);
  });
});
