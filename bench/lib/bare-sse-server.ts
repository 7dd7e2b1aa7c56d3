// Baselines: the least a Node SSE server can do, with no auth, scope, validation, log or fsync.
//   (no flag)    every POSTed body is written as-is to every open stream (fan-out throughput).
//   --pause F    POST takes a JSON array of events like the hub's, frames each with the hub's own
//                sseFrame and a sequence number, and batches like the hub's broker: everything that
//                arrived in a turn goes out as one socket write per stream, and after a flush that took
//                d ms the next waits at least F × d. This is the latency floor the hub is compared with.
//   --heartbeat-ms N   every N ms, writes a heartbeat frame shaped like the hub's to every stream
//                (the idle cost of many connections, compared with the hub's).
// Prints its URL on stdout.
import { createServer, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { sseFrame } from '../../shared/wire.ts';

const pauseArg = process.argv.indexOf('--pause');
const pause = pauseArg > 0 ? Number(process.argv[pauseArg + 1]) : null;
const heartbeatArg = process.argv.indexOf('--heartbeat-ms');
const heartbeatMs = heartbeatArg > 0 ? Number(process.argv[heartbeatArg + 1]) : 0;

const streams = new Set<Socket>();
let seq = 0;
let pending: string[] = [];
let scheduled = false;
let nextFlushAt = 0;

function flush(): void {
  const started = performance.now();
  scheduled = false;
  const chunk = Buffer.from(pending.join(''));
  pending = [];
  for (const s of streams) s.write(chunk);
  const now = performance.now();
  nextFlushAt = now + (now - started) * pause!;
}

function publish(body: Buffer): void {
  if (pause === null) {
    for (const s of streams) s.write(body);
    return;
  }
  for (const e of JSON.parse(body.toString()) as object[]) pending.push(sseFrame(null, JSON.stringify({ seq: ++seq, ...e }), seq));
  if (scheduled) return;
  scheduled = true;
  const wait = nextFlushAt - performance.now();
  if (wait > 0.5) setTimeout(flush, wait);
  else setImmediate(flush);
}

if (heartbeatMs > 0)
  setInterval(() => {
    const frame = Buffer.from(`: heartbeat\n` + sseFrame('heartbeat', JSON.stringify({ time: new Date().toISOString(), head_seq: seq })));
    for (const s of streams) s.write(frame);
  }, heartbeatMs);

const server = createServer((req, res: ServerResponse) => {
  if (req.method === 'GET') {
    res.useChunkedEncodingByDefault = false;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    const socket = res.socket!;
    socket.setNoDelay(true);
    socket.write('retry: 2000\n\nevent: connection\ndata: {}\n\n');
    streams.add(socket);
    res.on('close', () => streams.delete(socket));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    publish(Buffer.concat(chunks));
    res.writeHead(201).end();
  });
});
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${(server.address() as { port: number }).port}`));
