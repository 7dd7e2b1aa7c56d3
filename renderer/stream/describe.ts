import type { HubEvent } from '../../shared/events.ts';
import { formatMoney } from '../../shared/money.ts';
import { tableLabel } from '../../shared/table-label.ts';
import { describeJob } from '../../shared/domains/job.ts';

/** What the window already knows about an email, so an alert about it can name it. */
export interface DescribeContext {
  mail?: (emailId: string) => { from?: unknown; subject?: unknown } | undefined;
}

/** One line a person can read for any event: used by the live view, notifications and toasts. */
export function describeEvent(ev: HubEvent, ctx: DescribeContext = {}): string {
  const d = ev.data as Record<string, unknown>;
  const s = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  switch (ev.type) {
    case 'store.order.created': {
      const items = Array.isArray(d.items) ? d.items.length : 0;
      return `Order ${s(d.order_number ?? d.order_id)} · ${tableLabel(d) ?? 'takeaway'} · ${items} item${items === 1 ? '' : 's'} · ${formatMoney(d.total, d.currency)}`;
    }
    case 'store.order.updated':
      return `Order ${s(d.order_id)} → ${s(d.status)}`;
    case 'store.order.deleted':
      return `Order ${s(d.order_id)} deleted${d.reason ? `: ${s(d.reason)}` : ''}`;
    case 'store.session.ended':
      return `${tableLabel(d) ?? 'Table'} session ended`;
    case 'trading.order.created':
    case 'trading.order.updated':
    case 'trading.order.filled':
    case 'trading.order.cancelled':
      return `${s(d.side)} ${s(d.quantity)} ${s(d.symbol)} ${s(d.order_type)}${d.price != null ? ` @ ${s(d.price)}` : ''} · ${s(d.status)}`;
    case 'trading.order.batch':
      return batchText(d);
    case 'trading.position.created':
    case 'trading.position.updated':
    case 'trading.position.closed':
      return `Position ${s(d.symbol)} ${s(d.quantity)} @ ${s(d.entry_price)}${ev.type.endsWith('closed') ? ' · closed' : ''}`;
    case 'mail.email.new':
      return `${s(d.from)}: ${s(d.subject)}`;
    case 'mail.email.classified': {
      // A person recognises mail by its subject and sender, not by the sync worker's id.
      const m = ctx.mail?.(s(d.email_id));
      const category = s(d.category);
      const label = category ? category[0]!.toUpperCase() + category.slice(1) : 'Classified';
      return m && (m.subject || m.from) ? `${label}: “${s(m.subject) || '(no subject)'}” from ${s(m.from) || 'unknown sender'}` : `${label}: mail ${s(d.email_id)} (${s(d.priority)})`;
    }
    case 'mail.email.updated':
      return `Mail ${s(d.email_id)} updated`;
    case 'mail.sync.started':
      return `Mail sync started ${s(d.account)}`;
    case 'mail.sync.completed':
      return `Mail sync done ${s(d.account)} · ${s(d.new_count ?? 0)} new`;
    case 'mail.sync.error':
      return `Mail sync failed ${s(d.account)}: ${s(d.error)}`;
    default: {
      const domain = describeJob(ev);
      if (domain !== null) return domain;
      const text = JSON.stringify(ev.data);
      return text.length > 140 ? text.slice(0, 139) + '…' : text;
    }
  }
}

/** "50 LIMIT created, 10 cancelled; 5 MARKET filled" from a trading.order.batch payload. */
export function batchText(d: Record<string, unknown>): string {
  const summaries = Array.isArray(d.summaries) ? (d.summaries as Record<string, unknown>[]) : [];
  return summaries
    .map((x) => {
      const parts = (['created', 'cancelled', 'filled', 'failed'] as const).filter((k) => Number(x[k] ?? 0) > 0).map((k) => `${Number(x[k])} ${k}`);
      if (!parts.length) return `${String(x.order_type)}: no changes`;
      parts[0] = `${parts[0]!.split(' ')[0]} ${String(x.order_type)} ${parts[0]!.split(' ')[1]}`;
      return parts.join(', ');
    })
    .join('; ');
}


export function scopeLabel(ev: { store_id: string | null; user_id: string | null; strategy_id: string | null }): string {
  const parts: string[] = [];
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
