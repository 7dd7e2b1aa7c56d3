/**
 * Redis engine, Redis losing its data: randomized runs of two hubs on one Redis without
 * persistence, with hubs stopped and started and Redis restarted empty at random points while
 * events are published. A run is "bad" when a hub's 201s do not match its own log (an acked seq
 * missing from that hub's log, or holding another event) or when two hubs hold different events
 * under the same position (seq and epoch).
 *
 *   node bin/run-ts.js bench/redis-data-loss.ts [--runs N] [--seed S]
 *
 * Also run by `npm run bench` (scenario redisDataLoss), with 12 runs.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Hub } from '../electron/hub/hub.ts';
import { redisEngineFactory } from '../electron/hub/bus/redis.ts';
import { ADMIN } from '../test/helpers/hub.ts';
import { startRedis, type TestRedis } from '../test/helpers/redis.ts';
import { sample } from '../test/helpers/events.ts';
import { seeded } from '../electron/demo/runtime.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

export interface DataLossResult {
  runs: number;
  bad: number;
  acked: number;
  /** Acked events missing from the log of the hub that acked them (all runs). */
  missing: number;
  /** Positions (seq@epoch) holding different events on two hubs (all runs). */
  conflicts: number;
  /** Publishes refused (503) while a hub was forked or Redis was away, by error code. */
  refused: number;
  refusedBy: Record<string, number>;
  seconds: number;
}


interface Node {
  name: string;
  dbFile: string;
  hub?: Hub;
  port: number;
  acked: Map<number, string>;
}

async function publishOne(url: string, body: unknown): Promise<{ status: number; seq?: number; id?: string; code?: string }> {
  try {
    const res = await fetch(`${url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const j = (await res.json()) as { results?: { seq: number; id: string }[]; error?: { code: string } };
    return { status: res.status, seq: j.results?.[0]?.seq, id: j.results?.[0]?.id, code: j.error?.code };
  } catch {
    return { status: 0, code: 'no_answer' };
  }
}

function readLog(dbFile: string): Map<number, { id: string; epoch: string }> {
  const db = new Database(dbFile, { readonly: true });
  try {
    const cols = (db.prepare('PRAGMA table_info(events)').all() as { name: string }[]).map((c) => c.name);
    const rows = db.prepare(`SELECT seq, id${cols.includes('epoch') ? ', epoch' : ''} FROM events`).all() as { seq: number; id: string; epoch?: string | null }[];
    const origin = cols.includes('epoch') ? ((db.prepare("SELECT value FROM meta WHERE key = 'epoch_chain'").get() as { value: string } | undefined)?.value ?? '[]') : '[]';
    const first = (JSON.parse(origin) as { id: string }[])[0]?.id ?? '';
    return new Map(rows.map((r) => [r.seq, { id: r.id, epoch: r.epoch ?? first }]));
  } finally {
    db.close();
  }
}

async function oneRun(redis: TestRedis, run: number, rand: () => number, dir: string, refusedBy: Record<string, number>): Promise<{ bad: boolean; acked: number; missing: number; conflicts: number; refused: number }> {
  const factory = redisEngineFactory(redis.url, { prefix: `{loss${run}}`, commitTimeoutMs: 3000, startTimeoutMs: 2000 });
  const nodes: Node[] = ['A', 'B'].map((name) => ({ name, dbFile: join(dir, `run${run}-${name}.db`), port: 0, acked: new Map() }));
  const start = async (n: Node) => {
    const hub = await Hub.start({ port: n.port, dbFile: n.dbFile, adminToken: ADMIN, logLevel: 'silent', heartbeatMs: 1000 }, { engineFactory: factory });
    n.hub = hub;
    n.port = hub.port;
  };
  const stop = async (n: Node) => {
    await n.hub?.close();
    n.hub = undefined;
  };
  let refused = 0;
  let k = 0;
  const publishSome = async () => {
    const up = nodes.filter((n) => n.hub);
    await Promise.all(
      up.map(async (n) => {
        // Two publishes in flight per hub, so tails trail the stream a little as they do under load.
        const count = 2 + Math.floor(rand() * 5);
        const one = async () => {
          const id = `r${run}-${n.name}-${k++}`;
          const body = sample.storeOrder(1, { id });
          // As a backend does: a 503 is retried with the same id for a while (not log_forked, which
          // means "go to another hub").
          let r = await publishOne(n.hub!.url, body);
          for (let end = Date.now() + 2500; r.status === 503 && r.code !== 'log_forked' && Date.now() < end; ) {
            await new Promise((res) => setTimeout(res, 50));
            r = await publishOne(n.hub!.url, body);
          }
          if (r.status === 201 && r.seq !== undefined) n.acked.set(r.seq, id);
          else {
            refused++;
            refusedBy[r.code ?? String(r.status)] = (refusedBy[r.code ?? String(r.status)] ?? 0) + 1;
          }
        };
        for (let i = 0; i < count; i += 2) await Promise.all([one(), ...(i + 1 < count ? [one()] : [])]);
      }),
    );
  };
  for (const n of nodes) await start(n);
  await publishSome();
  for (let step = 0; step < 8; step++) {
    const x = rand();
    const up = nodes.filter((n) => n.hub);
    const down = nodes.filter((n) => !n.hub);
    if (x < 0.35 && up.length) await stop(up[Math.floor(rand() * up.length)]!);
    else if (x < 0.6 && down.length) await start(down[Math.floor(rand() * down.length)]!);
    else {
      await redis.kill();
      await redis.start();
    }
    // Publish at once, before anyone settled: the moment the false acks happened.
    await publishSome();
  }
  for (const n of nodes) if (!n.hub) await start(n);
  await new Promise((r) => setTimeout(r, 2500));
  await publishSome();
  for (const n of nodes) await stop(n);

  let missing = 0;
  let acked = 0;
  const positions = new Map<string, string>();
  let conflicts = 0;
  for (const n of nodes) {
    const log = readLog(n.dbFile);
    for (const [seq, id] of n.acked) {
      acked++;
      if (log.get(seq)?.id !== id) missing++;
    }
    for (const [seq, row] of log) {
      const pos = `${seq}@${row.epoch}`;
      const prior = positions.get(pos);
      if (prior !== undefined && prior !== row.id) conflicts++;
      positions.set(pos, row.id);
    }
  }
  return { bad: missing > 0 || conflicts > 0, acked, missing, conflicts, refused };
}

export async function redisDataLoss(runs = 12, seed = 20261202, log: (s: string) => void = () => {}): Promise<DataLossResult> {
  const redis = await startRedis({ aof: false });
  const dir = mkdtempSync(join(tmpdir(), 'relaydesk-loss-'));
  const t0 = Date.now();
  const out: DataLossResult = { runs, bad: 0, acked: 0, missing: 0, conflicts: 0, refused: 0, refusedBy: {}, seconds: 0 };
  try {
    for (let run = 0; run < runs; run++) {
      const r = await oneRun(redis, run, seeded(seed + run), dir, out.refusedBy);
      out.acked += r.acked;
      out.missing += r.missing;
      out.conflicts += r.conflicts;
      out.refused += r.refused;
      if (r.bad) out.bad++;
      log(`  run ${run + 1}/${runs} (seed ${seed + run}): ${r.bad ? 'BAD' : 'ok'}, ${r.acked} acked, ${r.missing} missing from the acking hub's log, ${r.conflicts} conflicting positions, ${r.refused} refused`);
    }
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  out.seconds = (Date.now() - t0) / 1000;
  return out;
}

if (import.meta.filename === process.argv[1]) {
  const arg = (name: string, def: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : def;
  };
  const r = await redisDataLoss(arg('runs', 12), arg('seed', 20261202), console.log);
  console.log(JSON.stringify(r));
  process.exit(0);
}
