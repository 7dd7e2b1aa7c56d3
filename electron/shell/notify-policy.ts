import type { Priority } from '../../shared/events.ts';
import type { Settings } from '../../shared/settings.ts';
import type { NotifyRequest } from '../../shared/desktop-bridge.ts';

const RANK: Record<Priority, number> = { low: 0, normal: 1, high: 2, urgent: 3 };

/**
 * Should a notify request from the console raise a native notification? The console asks for every
 * notable event; the shell applies the user's rules stored by the hub (mute, desktop threshold).
 */
export function shouldNotify(req: NotifyRequest, settings: Settings): boolean {
  if (settings.notifications.muted) return false;
  return RANK[req.priority] >= RANK[settings.notifications.desktop_min_priority];
}

/**
 * Native notifications must stay referenced until clicked or closed (a collected one loses its
 * click handler). Keep the most recent few, keyed by event sequence.
 */
export class RecentMap<V> {
  private readonly items = new Map<number, V>();
  constructor(private readonly max = 50) {}

  set(key: number, value: V): V | undefined {
    this.items.delete(key);
    this.items.set(key, value);
    if (this.items.size <= this.max) return undefined;
    const oldest = this.items.keys().next().value as number;
    const evicted = this.items.get(oldest);
    this.items.delete(oldest);
    return evicted;
  }

  delete(key: number): void {
    this.items.delete(key);
  }

  get size(): number {
    return this.items.size;
  }
}

/**
 * The action buttons a native notification can carry. Electron shows `actions` on macOS only (Windows
 * needs custom toast XML, Linux has none), so elsewhere the notification has no buttons and a click
 * focuses the event in the console, where its buttons are.
 */
export function nativeActionButtons(req: NotifyRequest, platform: string): { type: 'button'; text: string }[] {
  if (platform !== 'darwin' || !req.actions?.length) return [];
  return req.actions.map((a) => ({ type: 'button', text: a.label }));
}
