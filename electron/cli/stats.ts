import { Command } from 'commander';
import type { Stats } from '../../shared/api.ts';
import { isUnscoped, describeScope } from '../../shared/scope.ts';
import { context, call, out, EXIT_CODES_HELP } from './common.ts';

const n = (v: number) => v.toLocaleString('en-US');
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;

export function formatStats(s: Stats): string {
  const scopes = Object.entries(s.connections.by_scope).map(([k, v]) => `${k}: ${v}`).join(', ');
  const streams = `streams    ${s.connections.total}${scopes ? ` (${scopes})` : ''}; queue max ${s.connections.queue_depth_max} events, ${n(s.connections.queue_bytes_total)} bytes`;
  const { bus, log, rates } = s;
  // A scoped admin's stats hold its own scope only: say so, and print what there is.
  if (!bus || !log || !rates || !isUnscoped(s.scope))
    return [`hub        ${s.hub_id} (scoped to ${describeScope(s.scope)}; hub-wide figures need an unscoped admin token)`, `log        head seq ${n(s.head_seq)} in this scope`, streams].join('\n');
  return [
    `hub        ${s.hub_id} (up ${s.uptime_s ?? '-'} s, engine ${bus.engine}${bus.engine === 'redis' ? `, ${bus.connected ? 'connected' : 'DISCONNECTED'}, lag ${bus.lag_ms ?? '-'} ms` : ''})`,
    `log        seq ${n(s.oldest_seq ?? log.pruned_through + 1)}..${n(s.head_seq)}, ${n(log.events)} events, ${mb(log.bytes)}, pruned through ${n(log.pruned_through)}`,
    `publish    ${rates.publish_per_s.toFixed(1)}/s (${n(rates.publish_total)} since start)`,
    `delivery   ${rates.delivery_per_s.toFixed(1)}/s (${n(rates.delivery_total)} since start)`,
    `${streams}; slow-consumer disconnects ${s.connections.slow_consumer_disconnects ?? '-'}`,
  ].join('\n');
}

export function statsCommand(): Command {
  return new Command('stats')
    .description('hub statistics: log size, publish/delivery rates, connections (admin token required)')
    .option('--json', 'print the hub\'s JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (f: { json?: boolean }, cmd: Command) => {
      const s = await call(context(cmd), 'getStats');
      out(f.json ? JSON.stringify(s) : formatStats(s));
    });
}
