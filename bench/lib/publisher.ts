import { Agent, request } from 'node:http';
import { BENCH_ADMIN } from './hub-process.ts';

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** POST a body to the hub over a keep-alive connection; resolves with the status. */
export function post(url: string, path: string, body: string, token = BENCH_ADMIN, contentType = 'application/json'): Promise<number> {
  const u = new URL(path, url);
  return new Promise((res, rej) => {
    const req = request(u, { method: 'POST', agent, headers: { 'content-type': contentType, authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) } }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode!));
    });
    req.on('error', rej);
    req.end(body);
  });
}

export const tick = (i: number, t = 0) => ({ type: 'x.bench.tick', store_id: 's1', data: { i, t } });
