/**
 * Load, full size: 10,000 concurrent SSE connections on loopback (hub and two client processes,
 * each under `ulimit -n 20000`, the hard limit here), a 1,000 events/s mixed publish load for
 * LOAD_SECONDS (default 30), then every connection dropped at once. Prints hub RSS before, during
 * and after, publish→deliver latency from 10 unfiltered sampler connections, and the time until
 * the hub's connection count is back to 0.
 *
 *   node bin/run-ts.js bench/load-10k.ts
 *   LOAD_CONNECTIONS=5000 LOAD_SECONDS=60 node bin/run-ts.js bench/load-10k.ts
 */
import { runLoad } from '../test/helpers/reliability-load.ts';

const connections = Number(process.env.LOAD_CONNECTIONS ?? 10_000);
const seconds = Number(process.env.LOAD_SECONDS ?? 30);
const r = await runLoad({
  connections,
  clientProcs: connections > 5000 ? 2 : 1,
  eventsPerSecond: Number(process.env.LOAD_RATE ?? 1000),
  seconds,
  samplers: 10,
  log: (l) => console.log(`[load] ${l}`),
});
console.table(r);
console.log(JSON.stringify({ load10k: r }));
const ok = r.connected === connections && r.failed === 0 && r.connectionsAfterDrop === 0 && r.publishErrors === 0;
process.exitCode = ok ? 0 : 1;
