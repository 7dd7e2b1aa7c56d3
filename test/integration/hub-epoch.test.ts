import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { ADMIN, api, publish, sleep, startTestHub, type TestHub } from '../helpers/hub.ts';
import { Subscriber } from '../helpers/sse.ts';

let t: TestHub | undefined;
const subs: Subscriber[] = [];
afterEach(async () => {
  for (const s of subs.splice(0)) s.close();
  await t?.stop();
  t = undefined;
});

const ticks = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ type: 'x.epoch.tick', data: { i: from + i } }));
const sub = (url: string, lastEventId?: string, query: Record<string, string> = {}) => {
  const s = new Subscriber(url, query, ADMIN, lastEventId !== undefined ? { 'last-event-id': lastEventId } : {});
  subs.push(s);
  return s;
};

describe('log epochs', () => {
  it('names the epoch in every event id; a resume from a replaced database gets reset epoch_changed, a plain seq works as before', async () => {
    t = await startTestHub();
    await publish(t.url, ticks(5));
    const first = sub(t.url, undefined, { lastEventId: '0' });
    await first.waitForEvents(5);
    const epoch = (await first.waitFor('connection')).data.epoch as string;
    expect(epoch).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
    expect(first.named('message').map((r) => r.lastEventId)).toEqual([1, 2, 3, 4, 5].map((s) => `${s}@${epoch}`));

    // Same file after a restart: same epoch, the full id resumes exactly where it was.
    await t.restart();
    const same = sub(t.url, `3@${epoch}`);
    expect((await same.waitForEvents(2)).map((e) => e.seq)).toEqual([4, 5]);
    expect(same.named('reset')).toHaveLength(0);

    // The database is replaced by a new one that happens to hold more events.
    await t.hub.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(t.dbFile + suffix, { force: true });
    await t.restart();
    await publish(t.url, ticks(6, 100));
    const newEpoch = t.hub.log.epochs.current;
    expect(newEpoch).not.toBe(epoch);

    const moved = sub(t.url, `5@${epoch}`);
    const reset = await moved.waitFor('reset');
    expect(reset.data).toMatchObject({ reason: 'epoch_changed', requested: 5, requested_epoch: epoch, epoch: newEpoch, head_seq: 6 });
    const initial = await moved.waitFor('initial');
    expect(initial.lastEventId).toBe(`6@${newEpoch}`);
    await publish(t.url, ticks(1, 200));
    expect((await moved.waitForEvents(1)).map((e) => e.seq)).toEqual([7]);

    // The query twin of Last-Event-ID takes the same id.
    const viaQuery = sub(t.url, undefined, { lastEventId: `5@${epoch}` });
    expect((await viaQuery.waitFor('reset')).data.reason).toBe('epoch_changed');

    // A plain seq (a client from before epochs) resumes by number, as it always did.
    const plain = sub(t.url, '5');
    expect((await plain.waitForEvents(2)).map((e) => e.seq)).toEqual([6, 7]);
    await sleep(50);
    expect(plain.named('reset')).toHaveLength(0);

    // The current epoch's position resumes without a reset.
    const current = sub(t.url, `6@${newEpoch}`);
    expect((await current.waitForEvents(1)).map((e) => e.seq)).toEqual([7]);
    expect(current.named('reset')).toHaveLength(0);
  });

  it('refuses a malformed Last-Event-ID naming the field', async () => {
    t = await startTestHub();
    for (const bad of ['5@', '5@bad!', '@abc', '5@' + 'a'.repeat(33)]) {
      const r = await api(t.url, '/v1/stream', { headers: { 'last-event-id': bad } });
      expect(r.status, bad).toBe(400);
      expect(r.body.error.fields[0].path).toBe('headers.last-event-id');
    }
    const q = await api(t.url, '/v1/stream?lastEventId=5%40bad!');
    expect(q.status).toBe(400);
    expect(q.body.error.fields[0].path).toBe('lastEventId');
  });
});
