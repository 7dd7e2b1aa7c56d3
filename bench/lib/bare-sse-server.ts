// Baseline for fan-out: the least a Node SSE server can do (no auth, scope, log or framing work):
// every POSTed body is written as-is to every open stream. Prints its port on stdout.
import { createServer, type ServerResponse } from 'node:http';

const streams = new Set<ServerResponse>();
const server = createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('retry: 2000\n\nevent: connection\ndata: {}\n\n');
    streams.add(res);
    res.on('close', () => streams.delete(res));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    for (const s of streams) s.write(body);
    res.writeHead(201).end();
  });
});
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${(server.address() as { port: number }).port}`));
