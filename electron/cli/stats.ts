import { Command } from 'commander';
import type { Stats } from '../../shared/api.ts';
import { context, call, out, EXIT_CODES_HELP } from './common.ts';

const n = (v: number) => v.toLocaleString('en-US');
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;

export function formatStats(s: Stats): string {
  const scopes = Object.entries(s.connections.by_scope).map(([k, v]) => `${k}: ${v}`).join(', ');
  return [
    `hub        ${s.hub_id} (up ${s.uptime_s} s, engine ${s.bus.engine}${s.bus.engine === 'redis' ? `, ${s.bus.connected ? 'connected' : 'DISCONNECTED'}, lag ${s.bus.lag_ms ?? '-'} ms` : ''})`,
    `log        seq ${n(s.oldest_seq)}..${n(s.head_seq)}, ${n(s.log.events)} events, ${mb(s.log.bytes)}, pruned through ${n(s.log.pruned_through)}`,
    `publish    ${s.rates.publish_per_s.toFixed(1)}/s (${n(s.rates.publish_total)} since start)`,
    `delivery   ${s.rates.delivery_per_s.toFixed(1)}/s (${n(s.rates.delivery_total)} since start)`,
    `streams    ${s.connections.total}${scopes ? ` (${scopes})` : ''}; queue max ${s.connections.queue_depth_max} events, ${n(s.connections.queue_bytes_total)} bytes; slow-consumer disconnects ${s.connections.slow_consumer_disconnects}`,
  ].join('\n');
}

export function statsCommand(): Command {
  return new Command('stats')
    .description('hub statistics: log size, publish/delivery rates, connections (admin token required)')
    .option('--json', 'print the hub\'s JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (f: { json?: boolean }, cmd: Command) => {
      const s = await call<Stats>(context(cmd), 'GET', '/v1/stats');
      out(f.json ? JSON.stringify(s) : formatStats(s));
    });
}
