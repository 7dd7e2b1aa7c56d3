import { reaches, type HubEvent, type Priority } from '../../shared/events.ts';
import { builtinRegistry, type DomainRegistry } from '../../shared/domains/index.ts';
import { describeEvent, type DescribeContext } from '../stream/describe.ts';

export interface Toast {
  id: number;
  /** Toasts of one group share a slot: a burst of order updates is one toast with a count. */
  group: string;
  text: string;
  count: number;
  tone: 'info' | 'warn';
  until: number;
}

const OVERFLOW = 'overflow';

export interface ToastContext extends DescribeContext {
  /** The user's alert threshold and mute switch (the notification settings). */
  minPriority: Priority;
  muted: boolean;
  /** The view the user is looking at: some chatter is worth a toast only to someone watching its view. */
  view: string;
}

/**
 * Which events raise a toast. A toast interrupts, so only what the user treats as an alert does: an
 * event at or above their alert threshold, anywhere. Below it, only what a domain marks as a toast
 * for its own view (the trading bot's batch summaries and the orders it did not mark
 * suppress_toast, while the trading view is open), so a store manager working the orders board is
 * not interrupted by another desk's fills; those events remain in their tables and the live view.
 */
export function toastFor(
  ev: HubEvent,
  d: Record<string, unknown>,
  ctx: ToastContext,
  registry: DomainRegistry = builtinRegistry,
): { group: string; text: string; tone: Toast['tone'] } | null {
  if (ctx.muted) return null;
  if (reaches(ev.priority, ctx.minPriority)) return { group: `alert:${ev.type}`, text: describeEvent(ev, ctx, registry), tone: ev.priority === 'urgent' ? 'warn' : 'info' };
  const t = registry.viewToast(ev.type, d, ctx.view);
  return t && { group: t.group, text: describeEvent(ev, ctx, registry), tone: 'info' };
}

/**
 * At most `max` toasts on screen. A new toast of a group already shown replaces that toast's text and
 * counts up, and anything that finds no free slot is folded into one "N more" toast pointing to the
 * notification centre, so a burst never stacks toasts over the work.
 */
export class ToastQueue {
  items: Toast[] = [];
  private seq = 0;
  constructor(
    private readonly max = 3,
    private readonly ttlMs = 6_000,
  ) {}

  push(group: string, text: string, tone: Toast['tone'], now: number): void {
    const until = now + this.ttlMs;
    const same = this.items.find((t) => t.group === group);
    if (same) {
      this.replace(same, { ...same, text, count: same.count + 1, tone: tone === 'warn' ? 'warn' : same.tone, until });
      return;
    }
    if (this.items.length < this.max && !this.items.some((t) => t.group === OVERFLOW)) {
      this.items = [...this.items, { id: ++this.seq, group, text, count: 1, tone, until }];
      return;
    }
    const over = this.items.find((t) => t.group === OVERFLOW);
    // Opening the overflow toast takes the last slot: the toast that held it is counted in it too.
    const n = (over?.count ?? (this.items.length >= this.max ? 1 : 0)) + 1;
    const toast: Toast = { id: over?.id ?? ++this.seq, group: OVERFLOW, text: `${n} more: see Alerts and the live view`, count: n, tone: tone === 'warn' || over?.tone === 'warn' ? 'warn' : 'info', until };
    if (over) this.replace(over, toast);
    else this.items = [...this.items.slice(0, Math.min(this.items.length, this.max - 1)), toast];
  }

  /** A message from the window itself (a failed read): always shown, in its own group. */
  say(text: string, tone: Toast['tone'], now: number): void {
    this.push(`window:${text}`, text, tone, now);
  }

  expire(now: number): boolean {
    const before = this.items.length;
    this.items = this.items.filter((t) => t.until > now);
    return before !== this.items.length;
  }

  dismiss(id: number): void {
    this.items = this.items.filter((t) => t.id !== id);
  }

  private replace(old: Toast, next: Toast): void {
    this.items = this.items.map((t) => (t === old ? next : t));
  }
}
