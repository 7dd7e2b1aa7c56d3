/**
 * SSE load client, run as a child process by test/helpers/reliability-load.ts (so the hub and the
 * clients do not share an event loop). Opens LOAD_CONNECTIONS raw HTTP SSE connections with an
 * unlimited agent; the first LOAD_SAMPLES are unfiltered "samplers" that time each event from its
 * `time` (set by the publisher just before sending) to arrival. Talks JSON lines on stdin/stdout:
 *   -> {"type":"progress","connected":N,"failed":N}   while connecting
 *   <- "report"  -> {"type":"report",...latencies and counts}
 *   <- "drop"    -> destroys every socket at once, then {"type":"dropped"} and exit
 */
import { Agent, request, type ClientRequest } from 'node:http';
import { createInterface } from 'node:readline';
import { countFrames } from './lib/sse-frames.ts';

const url = process.env.LOAD_URL!;
const token = process.env.LOAD_TOKEN!;
const total = Number(process.env.LOAD_CONNECTIONS ?? 1000);
const samples = Number(process.env.LOAD_SAMPLES ?? 10);
const offset = Number(process.env.LOAD_OFFSET ?? 0);
const stores = Number(process.env.LOAD_STORES ?? 200);
const agent = new Agent({ keepAlive: false, maxSockets: Infinity });

const reqs: ClientRequest[] = [];
let connected = 0;
let failed = 0;
let closedEarly = 0;
let delivered = 0;
const latencies: number[] = [];
const out = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');

function open(i: number): Promise<void> {
  const sampler = i < samples;
  const path = sampler ? '/v1/stream?events=message' : `/v1/stream?events=message&store_id=s${(i + offset) % stores}`;
  return new Promise((resolve) => {
    const req = request(url + path, { agent, headers: { authorization: `Bearer ${token}` } });
    reqs.push(req);
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        failed++;
        res.resume();
        return resolve();
      }
      connected++;
      countFrames(res, () => delivered++, sampler ? latencies : undefined);
      res.on('close', () => {
        if (!dropping) closedEarly++;
      });
      resolve();
    });
    req.on('error', () => {
      if (!dropping) failed++;
      resolve();
    });
    req.end();
  });
}

let dropping = false;

async function main() {
  const inFlight = 200;
  let next = 0;
  const timer = setInterval(() => out({ type: 'progress', connected, failed }), 500);
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) await open(next++);
    }),
  );
  clearInterval(timer);
  out({ type: 'progress', connected, failed, done: true });
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'report') {
    const sorted = [...latencies].sort((a, b) => a - b);
    const p = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : null);
    out({ type: 'report', connected, failed, closedEarly, delivered, samples: sorted.length, p50: p(0.5), p99: p(0.99), max: sorted[sorted.length - 1] ?? null });
  } else if (line === 'drop') {
    dropping = true;
    for (const r of reqs) r.destroy();
    out({ type: 'dropped', sockets: reqs.length });
    setTimeout(() => process.exit(0), 100);
  }
});

void main();
