import type { HubEvent } from '../../shared/events.ts';
import { builtinRegistry, type DomainRegistry, type SummaryContext } from '../../shared/domains/index.ts';

export { batchText } from '../../shared/domains/trading.ts';

/** What the window already knows (rows it holds), so an alert about a mail can name it. */
export type DescribeContext = SummaryContext;

/**
 * One line a person can read for any event: used by the live view, notifications and toasts, and
 * the same text `relaydesk tail` prints (each domain writes its types' summaries).
 */
export function describeEvent(ev: HubEvent, ctx: DescribeContext = {}, registry: DomainRegistry = builtinRegistry): string {
  return registry.summarize(ev, ctx);
}

export function scopeLabel(ev: { store_id: string | null; user_id: string | null; strategy_id: string | null; tenant_id?: string }): string {
  const parts: string[] = [];
  if (ev.tenant_id) parts.push(`tenant ${ev.tenant_id}`);
  if (ev.store_id) parts.push(`store ${ev.store_id}`);
  if (ev.user_id) parts.push(`user ${ev.user_id}`);
  if (ev.strategy_id) parts.push(`strategy ${ev.strategy_id}`);
  return parts.join(' · ') || 'global';
}

export function ago(ms: number): string {
  if (ms < 0) ms = 0;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${String(m % 60).padStart(2, '0')}m`;
}
