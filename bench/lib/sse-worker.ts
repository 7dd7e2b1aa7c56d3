// A child process holding many counting SSE readers, so the load generator can use both cores.
import { openClients } from './sse-clients.ts';

const [url, path, n] = process.argv.slice(2) as [string, string, string];
const clients = await openClients(url, path, Number(n));
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
