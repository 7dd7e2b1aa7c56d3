import { createServer, connect, type Socket } from 'node:net';

const REQUEST_LINE = /^(GET|HEAD|OPTIONS|POST|PUT|PATCH|DELETE) \S+ HTTP\/1\.1\r\n/;

export interface ClosingProxy {
  url: string;
  /** Requests that arrived on a reused connection and were answered by closing it. */
  closedUnderRequest: number;
  /** Requests passed on to the hub. */
  forwarded: number;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a hub that serves one request per client connection and closes the
 * connection when a second request arrives on it, as a restarting server (or a middlebox dropping
 * idle connections) does to a kept-alive socket the client is reusing at that moment. The request
 * never reaches the hub.
 */
export async function startClosingProxy(hubUrl: string): Promise<ClosingProxy> {
  const target = new URL(hubUrl);
  const sockets = new Set<Socket>();
  const proxy: ClosingProxy = { url: '', closedUnderRequest: 0, forwarded: 0, close: async () => {} };
  const server = createServer((client) => {
    sockets.add(client);
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(upstream);
    let requests = 0;
    client.on('data', (chunk: Buffer) => {
      if (REQUEST_LINE.test(chunk.toString('latin1', 0, 64)) && ++requests > 1) {
        proxy.closedUnderRequest++;
        client.destroy();
        upstream.destroy();
        return;
      }
      if (requests === 1 && REQUEST_LINE.test(chunk.toString('latin1', 0, 64))) proxy.forwarded++;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return proxy;
}
