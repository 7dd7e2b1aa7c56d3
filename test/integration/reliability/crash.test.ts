import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { spawnCliHub, openLogReadOnly, openRawSse, prng, type ChildHub, type RawSse } from '../../helpers/reliability.ts';
import { ADMIN, until, sleep } from '../../helpers/hub.ts';

/**
 * Crash safety: the real CLI hub is SIGKILLed at random moments while publishers stream singles and
 * batches with ids. After every restart on the same database, each event that got a 2xx is stored
 * exactly once and is replayed to a subscriber resuming with Last-Event-ID.
 */
const CYCLES = Number(process.env.CRASH_CYCLES ?? 5);
const SEED = Number(process.env.CRASH_SEED ?? 20261123);
const dir = mkdtempSync(join(tmpdir(), 'relaydesk-crash-'));
const db = join(dir, 'hub.db');
let hub: ChildHub | undefined;

afterAll(async () => {
  await hub?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function post(agent: Agent, url: string, body: unknown): Promise<number> {
  const payload = JSON.stringify(body);
  return new Promise((resolve) => {
    const req = request(`${url}/v1/events`, {
      method: 'POST',
      agent,
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
    req.end(payload);
  });
}

const ev = (id: string, i: number) => ({ id, type: 'x.crash.tick', data: { i, pad: 'p'.repeat(i % 200) } });

describe('crash safety (SIGKILL during publish)', () => {
  it(`loses no acknowledged event across ${CYCLES} kill/restart cycles`, async () => {
    const rng = prng(SEED);
    const acked = new Set<string>();
    const unacked = new Set<string>(); // sent, outcome unknown (connection died)
    const refused: string[] = [];
    const seenBySubscriber = new Map<number, string>(); // seq -> id, across pre-crash streams and replays
    let lastSeen = 0;
    const report: Record<string, number>[] = [];

    const absorb = (s: RawSse) => {
      const p = s.parse();
      expect(p.violations).toEqual([]);
      for (const e of s.events()) {
        const prev = seenBySubscriber.get(e.seq);
        if (prev !== undefined) expect(prev).toBe(e.id);
        seenBySubscriber.set(e.seq, e.id);
        lastSeen = Math.max(lastSeen, e.seq);
      }
    };

    for (let cycle = 0; cycle < CYCLES; cycle++) {
      hub = await spawnCliHub({ db, args: ['--rate-limit', '0'] });
      const url = hub.url;

      // A subscriber resuming from the last event it saw before the previous crash.
      const sub = openRawSse(url, `/v1/stream?events=message&type=x.*`, { headers: { 'last-event-id': String(lastSeen) } });
      await sub.ready;
      expect(sub.status).toBe(200);

      const agent = new Agent({ keepAlive: true, maxSockets: 16 });
      let stop = false;
      let n = 0;
      const publisher = async (p: number) => {
        while (!stop) {
          const batch = rng.chance(0.4);
          const size = batch ? 1 + rng.int(20) : 1;
          const events = Array.from({ length: size }, () => {
            const k = n++;
            return ev(`c${cycle}-p${p}-${k}`, k);
          });
          for (const e of events) unacked.add(e.id);
          const status = await post(agent, url, batch ? events : events[0]);
          for (const e of events) {
            if (status === 0) continue; // in doubt: the hub died before answering
            unacked.delete(e.id);
            if (status >= 200 && status < 300) acked.add(e.id);
            else refused.push(`${e.id}:${status}`);
          }
          if (status === 0) await sleep(5);
        }
      };
      const pubs = Array.from({ length: 8 }, (_, p) => publisher(p));
      const killAfterMs = 300 + rng.int(1200);
      await sleep(killAfterMs);
      await hub.kill('SIGKILL');
      stop = true;
      await Promise.all(pubs);
      agent.destroy();
      absorb(sub);
      sub.destroy();

      // Restart on the same database: check the log directly (read-only).
      hub = await spawnCliHub({ db, args: ['--rate-limit', '0'] });
      const ro = openLogReadOnly(db);
      const rows = ro.prepare(`SELECT seq, id FROM events WHERE type = 'x.crash.tick'`).all() as { seq: number; id: string }[];
      const integrity = ro.pragma('integrity_check', { simple: true });
      ro.close();
      expect(integrity).toBe('ok');
      const counts = new Map<string, number>();
      for (const r of rows) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
      const lost = [...acked].filter((id) => counts.get(id) !== 1);
      expect(lost, `acked but missing or duplicated after crash ${cycle}`).toEqual([]);
      const unackedStored = [...unacked].filter((id) => counts.has(id)).length;
      const ackedAtCrash = acked.size;
      const inDoubt = unacked.size;

      // Replay: a subscriber resuming from the last event it saw gets everything after it, in order.
      const head = Math.max(0, ...rows.map((r) => r.seq));
      const resume = openRawSse(hub.url, `/v1/stream?events=message&type=x.*`, { headers: { 'last-event-id': String(lastSeen) } });
      await resume.ready;
      await until(() => resume.events().some((e) => e.seq >= head) || head <= lastSeen, `replay to reach seq ${head}`, 20_000);
      const replayed = resume.events();
      const seqs = replayed.map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
      if (seqs.length) expect(seqs[0]!).toBeGreaterThan(lastSeen);
      absorb(resume);
      resume.destroy();
      const bySeq = new Map(rows.map((r) => [r.seq, r.id]));
      for (const [seq, id] of bySeq) expect(seenBySubscriber.get(seq), `seq ${seq} (${id}) never reached a subscriber`).toBe(id);
      for (const id of acked) expect(counts.get(id)).toBe(1);

      // Resolve the in-doubt requests the way a publisher would: retry with the same ids.
      for (const id of [...unacked]) {
        const i = Number(id.split('-').pop());
        const status = await post(new Agent(), hub.url, ev(id, i));
        expect(status).toBe(201);
        unacked.delete(id);
        acked.add(id);
      }
      report.push({ cycle, killAfterMs, acked: ackedAtCrash, stored: rows.length, lost: lost.length, inDoubt, unackedStored, replayed: replayed.length });
      await hub.kill('SIGKILL');
    }

    // Final check after the last crash: every acked id exactly once.
    const ro = openLogReadOnly(db);
    const ids = ro.prepare(`SELECT id FROM events WHERE type = 'x.crash.tick'`).all() as { id: string }[];
    ro.close();
    const counts = new Map<string, number>();
    for (const r of ids) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
    const lost = [...acked].filter((id) => counts.get(id) !== 1).length;
    console.log(JSON.stringify({ crash: { seed: SEED, cycles: report, acked: acked.size, stored: ids.length, lost, refused: refused.length } }));
    expect(lost).toBe(0);
    expect(refused).toEqual([]);
    expect(acked.size).toBeGreaterThan(CYCLES * 50);
  }, 180_000);
});
