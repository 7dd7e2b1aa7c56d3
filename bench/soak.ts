/**
 * Soak: the real CLI hub (child process) at a steady mixed publish load with retention pruning
 * active, for SOAK_MINUTES (default 30). Every interval (SOAK_INTERVAL_S, default 60 s) prints one
 * table row: publish count and ack latency, publish→deliver latency from unfiltered sampler
 * streams, hub RSS, log rows and bytes, pruned-through. At the end: is RSS flat, is the log
 * bounded, did p99 drift?
 *
 *   npm run soak                                   # 30 minutes at 1,000 events/s
 *   SOAK_MINUTES=3 npm run soak                    # the short run used for docs/reliability.md
 *   SOAK_RATE=500 SOAK_RETENTION_EVENTS=20000 npm run soak
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request, type ClientRequest } from 'node:http';
import { countFrames } from './lib/sse-frames.ts';
import { spawnCliHub, rssOf, percentile } from '../test/helpers/reliability.ts';
import { publishLoad } from '../test/helpers/reliability-load.ts';
import { ADMIN } from '../test/helpers/hub.ts';

const minutes = Number(process.env.SOAK_MINUTES ?? 30);
const intervalS = Number(process.env.SOAK_INTERVAL_S ?? 60);
const rate = Number(process.env.SOAK_RATE ?? 1000);
const retention = Number(process.env.SOAK_RETENTION_EVENTS ?? 50_000);
const samplers = Number(process.env.SOAK_SAMPLERS ?? 5);
const filtered = Number(process.env.SOAK_FILTERED ?? 200);
const rounds = Math.max(1, Math.round((minutes * 60) / intervalS));

const dir = mkdtempSync(join(tmpdir(), 'relaydesk-soak-'));
const hub = await spawnCliHub({ db: join(dir, 'hub.db'), args: ['--rate-limit', '0', '--retention-max-events', String(retention)], fileLimit: 4096 });
const cleanup = async () => {
  for (const r of reqs) r.destroy();
  await hub.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
};
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

// Subscribers: unfiltered samplers time every event; filtered ones add realistic fan-out.
const agent = new Agent({ maxSockets: Infinity });
const reqs: ClientRequest[] = [];
let latencies: number[] = [];
let delivered = 0;
let streamDrops = 0;
function subscribe(path: string, sample: boolean) {
  const req = request(hub.url + path, { agent, headers: { authorization: `Bearer ${ADMIN}` } });
  reqs.push(req);
  req.on('response', (res) => {
    countFrames(res, () => delivered++, sample ? latencies : undefined);
    res.on('close', () => streamDrops++);
  });
  req.on('error', () => {});
  req.end();
}
for (let i = 0; i < samplers; i++) subscribe('/v1/stream?events=message', true);
for (let i = 0; i < filtered; i++) subscribe(`/v1/stream?events=message&store_id=s${i % 200}`, false);

async function stats() {
  const r = await fetch(`${hub.url}/v1/stats`, { headers: { authorization: `Bearer ${ADMIN}` } });
  return (await r.json()) as { log: { events: number; bytes: number; pruned_through: number }; head_seq: number; connections: { total: number; slow_consumer_disconnects: number } };
}

interface Row {
  min: number;
  published: number;
  errors: number;
  ack_p99_ms: number;
  deliver_p50_ms: number;
  deliver_p99_ms: number;
  rss_mb: number;
  log_rows: number;
  log_mb: number;
  pruned_through: number;
  conns: number;
  slow_cuts: number;
}
const rows: Row[] = [];
const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
console.log(`soak: ${minutes} min (${rounds} x ${intervalS} s) at ${rate} events/s, retention ${retention} events, hub ${hub.url} pid ${hub.pid}`);
try {
  for (let i = 0; i < rounds; i++) {
    latencies = [];
    const pub = await publishLoad(hub.url, rate, intervalS);
    const lat = latencies.sort((a, b) => a - b);
    const s = await stats();
    const row: Row = {
      min: Math.round(((i + 1) * intervalS) / 6) / 10,
      published: pub.published,
      errors: pub.errors,
      ack_p99_ms: Math.round(pub.ackP99 * 10) / 10,
      deliver_p50_ms: percentile(lat, 50),
      deliver_p99_ms: percentile(lat, 99),
      rss_mb: mb(rssOf(hub.pid)),
      log_rows: s.log.events,
      log_mb: mb(s.log.bytes),
      pruned_through: s.log.pruned_through,
      conns: s.connections.total,
      slow_cuts: s.connections.slow_consumer_disconnects,
    };
    rows.push(row);
    console.log(Object.values(row).join('\t'));
  }
  console.table(rows);
  // Verdicts: compare the second half with the first full interval after warm-up.
  const warm = rows[Math.min(1, rows.length - 1)]!;
  const last = rows[rows.length - 1]!;
  const rssGrowth = last.rss_mb - warm.rss_mb;
  const p99Drift = last.deliver_p99_ms - warm.deliver_p99_ms;
  const pruning = last.pruned_through > 0;
  const boundedLog = last.log_rows <= retention + 2 * rate;
  const verdict = {
    rounds: rows.length,
    total_published: rows.reduce((a, r) => a + r.published, 0),
    total_errors: rows.reduce((a, r) => a + r.errors, 0),
    delivered,
    stream_drops: streamDrops,
    rss_warm_mb: warm.rss_mb,
    rss_last_mb: last.rss_mb,
    rss_growth_mb: Math.round(rssGrowth * 10) / 10,
    log_rows_last: last.log_rows,
    log_bounded: boundedLog,
    pruning_active: pruning,
    p99_warm_ms: warm.deliver_p99_ms,
    p99_last_ms: last.deliver_p99_ms,
    p99_drift_ms: p99Drift,
  };
  console.log(JSON.stringify({ soak: verdict }));
  process.exitCode = verdict.total_errors === 0 && streamDrops === 0 && boundedLog && (rows.length < 3 || pruning) ? 0 : 1;
} finally {
  await cleanup();
}
