// A child process holding many counting SSE readers, so the load generator can use both cores.
import { openClients } from './sse-clients.ts';

const [url, path, n, first = '0'] = process.argv.slice(2) as [string, string, string, string?];
// `__K__` in the path becomes each reader's index over all processes, so readers can subscribe
// with selectors of their own (distinct subscriptions, not one shared group).
const clients = await openClients(url, path, Number(n), 500, Number(first));
process.on('message', (m: string) => {
  // IPC is JSON: no Infinity, so a reader process with no clients reports MAX_SAFE_INTEGER.
  if (m === 'count') process.send!(clients.reduce((min, c) => Math.min(min, c.frames), Number.MAX_SAFE_INTEGER));
  if (m === 'cpu') {
    const u = process.cpuUsage();
    process.send!((u.user + u.system) / 1e6);
  }
  if (m === 'close') {
    for (const c of clients) c.close();
    process.send!('closed', () => process.exit(0));
  }
});
process.send!('ready');
