import { afterEach, describe, expect, it } from 'vitest';
import { StreamClient, type LinkStatus, type StreamHandlers } from '../../../renderer/stream/client.ts';
import type { HubEvent } from '../../../shared/events.ts';
import type { Snapshot } from '../../../shared/state.ts';
import type { ConnectionEvent, ForceDisconnect, ResetEvent } from '../../../shared/wire.ts';
import { api, publish, startTestHub, until, type TestHub } from '../../helpers/hub.ts';
import { sample } from '../../helpers/events.ts';
import { consoleSession, withCookie } from './console-session.ts';

/**
 * The console's stream client against a real hub over HTTP, signed in by the session cookie as the
 * console is, with the real `eventsource` package in place of the page's EventSource.
 */
let hub: TestHub | undefined;
let client: StreamClient | undefined;
afterEach(async () => {
  client?.stop();
  client = undefined;
  await hub?.stop();
  hub = undefined;
});

class Recorder implements StreamHandlers {
  connections: ConnectionEvent[] = [];
  snapshots: Snapshot[] = [];
  batches: HubEvent[][] = [];
  resets: ResetEvent[] = [];
  forced: ForceDisconnect[] = [];
  statuses: LinkStatus[] = [];
  invalid: string[] = [];
  onConnection = (c: ConnectionEvent) => void this.connections.push(c);
  onSnapshot = (s: Snapshot) => void this.snapshots.push(s);
  onEvents = (evs: HubEvent[]) => void this.batches.push(evs);
  onReset = (r: ResetEvent) => void this.resets.push(r);
  onForceDisconnect = (f: ForceDisconnect) => void this.forced.push(f);
  onStatus = (s: LinkStatus) => void this.statuses.push(s);
  onInvalid = (r: string) => void this.invalid.push(r);
  get seqs(): number[] {
    return this.batches.flat().map((e) => e.seq);
  }
  get status(): LinkStatus | undefined {
    return this.statuses.at(-1);
  }
}

/** The URL the console builds (App.tsx): snapshot first, then resume by the whole last id. */
const consoleUrl = (base: string) => (lastId: string | null) =>
  `${base}/v1/stream?${new URLSearchParams(lastId === null ? { events: 'message', snapshot: '1' } : { events: 'message', lastEventId: lastId })}`;

const seqsOf = (r: { body: { results: { seq: number }[] } }) => r.body.results.map((x) => x.seq);

describe('StreamClient (real hub, session cookie, eventsource package)', () => {
  it('says hello, hands over the snapshot, then live events in order, in batches', async () => {
    hub = await startTestHub({ heartbeatMs: 1_000, retryMs: 300 });
    const before = await publish(hub.url, [sample.storeOrder(12), sample.storeOrder(12)]);
    const s = await consoleSession(hub.url, 'operator');
    const rec = new Recorder();
    client = new StreamClient({ url: consoleUrl(hub.url), eventSource: s.eventSource }, rec);
    client.start();
    await until(() => rec.status?.state === 'live' && rec.snapshots.length === 1, 'live with a snapshot');
    expect(rec.connections[0]!.scope).toEqual({});
    expect(rec.snapshots[0]!.store_orders.map((o) => o.seq).sort()).toEqual(seqsOf(before).sort());
    expect(client.lastSeq).toBe(Math.max(...seqsOf(before)));
    // The snapshot stands for those events: they do not come again as live ones.
    const live = await publish(hub.url, Array.from({ length: 30 }, () => sample.tradingOrder('u1', 's1')));
    await until(() => rec.seqs.length === 30, 'thirty live events');
    expect(rec.seqs).toEqual(seqsOf(live));
    expect(rec.batches.length).toBeLessThan(30); // handed over in batches, not one call per event
    expect(rec.status).toMatchObject({ state: 'live', attempt: 0, reason: null, canRetry: false });
    // Kept per event without a status call each: what the next resume will ask for.
    expect(client.lastSeq).toBe(Math.max(...seqsOf(live)));
    expect(rec.invalid).toEqual([]);
  });

  it('a scoped session is sent only its scope', async () => {
    hub = await startTestHub();
    const s = await consoleSession(hub.url, 'subscriber', { store_ids: ['12'] });
    const rec = new Recorder();
    client = new StreamClient({ url: consoleUrl(hub.url), eventSource: s.eventSource }, rec);
    client.start();
    await until(() => rec.status?.state === 'live', 'live');
    const r = await publish(hub.url, [sample.storeOrder(13), sample.storeOrder(12), sample.tradingOrder('u', 's'), sample.storeOrder(12)]);
    const mine = seqsOf(r).filter((_, i) => i === 1 || i === 3);
    await until(() => rec.seqs.length === 2, 'the two store-12 events');
    await new Promise((r) => setTimeout(r, 300));
    expect(rec.seqs).toEqual(mine);
  });

  it('after the hub restarts it resumes from the last id: every event published meanwhile once, none twice', async () => {
    hub = await startTestHub({ heartbeatMs: 1_000, retryMs: 300 });
    const s = await consoleSession(hub.url, 'operator');
    const rec = new Recorder();
    client = new StreamClient({ url: consoleUrl(hub.url), eventSource: s.eventSource, rand: () => 0.5 }, rec);
    client.start();
    await until(() => rec.status?.state === 'live', 'live');
    const first = await publish(hub.url, [sample.storeOrder(1), sample.storeOrder(2)]);
    await until(() => rec.seqs.length === 2, 'first events');
    await hub.restart();
    // The hub said goodbye with a retry hint; publish before the client comes back.
    const meanwhile = await publish(hub.url, [sample.storeOrder(3), sample.mail('u1'), sample.storeOrder(4)]);
    await until(() => rec.connections.length === 2 && rec.status?.state === 'live', 'reconnected', 15_000);
    expect(rec.forced.map((f) => f.reason)).toEqual(['shutdown']);
    const after = await publish(hub.url, [sample.storeOrder(5)]);
    await until(() => rec.seqs.length === 6, 'all six events', 15_000);
    expect(rec.seqs).toEqual([...seqsOf(first), ...seqsOf(meanwhile), ...seqsOf(after)]);
    // The resume asked for what followed the last event held, by its whole id (seq@epoch).
    expect(s.opened[1]).toContain(`lastEventId=${encodeURIComponent(`${Math.max(...seqsOf(first))}@`)}`);
    expect(rec.snapshots).toHaveLength(1);
    expect(rec.statuses.some((x) => x.state === 'reconnecting' && x.reason === 'the hub is shutting down; reconnect with Last-Event-ID')).toBe(true);
  });

  it('a revoked token is told to stay away: offline with the reason and a Retry, and no reconnect', async () => {
    hub = await startTestHub({ heartbeatMs: 1_000 });
    const s = await consoleSession(hub.url, 'subscriber');
    const rec = new Recorder();
    client = new StreamClient({ url: consoleUrl(hub.url), eventSource: s.eventSource }, rec);
    client.start();
    await until(() => rec.status?.state === 'live', 'live');
    expect((await api(hub.url, `/v1/tokens/${s.tokenId}`, { method: 'DELETE' })).status).toBe(200);
    await until(() => rec.status?.state === 'offline', 'offline');
    expect(rec.forced).toHaveLength(1);
    expect(rec.forced[0]!.retry_ms).toBeNull();
    expect(rec.status).toMatchObject({ state: 'offline', canRetry: true, reason: rec.forced[0]!.message, nextAttemptAt: null });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(s.opened).toHaveLength(1);
  });

  it('a stream refused before hello asks probeAuth; a signed-out session goes offline saying so', async () => {
    hub = await startTestHub();
    const stale = withCookie('rd_session=rds_not-a-session');
    const rec = new Recorder();
    const url = hub.url;
    client = new StreamClient(
      {
        url: consoleUrl(url),
        eventSource: stale.eventSource,
        // What App.tsx does: a plain request tells whether the failure is our credentials.
        probeAuth: async () => {
          const r = await stale.get(`${url}/v1/whoami`);
          return r.status === 401 ? `signed out: ${((await r.json()) as { error: { message: string } }).error.message}` : null;
        },
      },
      rec,
    );
    client.start();
    await until(() => rec.status?.state === 'offline', 'offline');
    expect(rec.status!.reason).toMatch(/^signed out: console session expired or revoked/);
    expect(rec.status!.canRetry).toBe(true);
    expect(rec.connections).toEqual([]);
  });

  it('an unreachable hub: attempts 1 s then 2 s apart, and Retry connects at once', async () => {
    hub = await startTestHub();
    const s = await consoleSession(hub.url, 'subscriber');
    const url = hub.url;
    await hub.hub.close(); // the port stays known; nothing answers on it
    const rec = new Recorder();
    client = new StreamClient({ url: consoleUrl(url), eventSource: s.eventSource, rand: () => 0.5 }, rec);
    client.start();
    await until(() => rec.status?.state === 'reconnecting' && rec.status.attempt === 2, 'second attempt scheduled', 10_000);
    const waits = rec.statuses.filter((x) => x.nextAttemptAt !== null).map((x) => x.attempt);
    expect(waits.slice(0, 2)).toEqual([1, 2]);
    const first = rec.statuses.find((x) => x.attempt === 1 && x.nextAttemptAt !== null)!;
    expect(first).toMatchObject({ state: 'reconnecting', reason: 'connection to the hub was lost', canRetry: false });
    // rand 0.5 is the middle of the jitter band: exactly the first step.
    expect(first.nextAttemptAt! - first.downSince!).toBeGreaterThanOrEqual(1_000);
    await hub.restart();
    client.retryNow();
    await until(() => rec.status?.state === 'live', 'live after Retry', 10_000);
    expect(rec.status).toMatchObject({ attempt: 0, downSince: null, reason: null });
  });
});
