import { describe, expect, it } from 'vitest';
import { trayMenuTemplate, trayTooltip, unreadBadge, unreadLabel } from '../../../electron/shell/tray-menu.ts';
import { RecentMap, shouldNotify } from '../../../electron/shell/notify-policy.ts';
import { settingsSchema } from '../../../shared/settings.ts';

describe('tray menu', () => {
  it('shows the unread urgent count, then show / mute / quit', () => {
    const t = trayMenuTemplate({ unreadUrgent: 3, muted: false, windowVisible: true });
    expect(t.map((i) => [i.id, i.type, i.label])).toEqual([
      ['unread', 'normal', '3 unread urgent events'],
      ['show', 'normal', 'Show RelayDesk'],
      ['toggle-mute', 'checkbox', 'Mute notifications'],
      ['unread', 'separator', ''],
      ['quit', 'normal', 'Quit RelayDesk'],
    ]);
    expect(t[0]!.enabled).toBe(false);
    expect(t[2]!.checked).toBe(false);
    expect(trayMenuTemplate({ unreadUrgent: 0, muted: true, windowVisible: false })[2]!.checked).toBe(true);
  });

  it('labels counts for people', () => {
    expect([0, 1, 2, 99, 100, 5000].map(unreadLabel)).toEqual([
      'No unread urgent events',
      '1 unread urgent event',
      '2 unread urgent events',
      '99 unread urgent events',
      '99+ unread urgent events',
      '99+ unread urgent events',
    ]);
    expect([0, 7, 120].map(unreadBadge)).toEqual(['', '7', '99+']);
    expect(trayTooltip({ unreadUrgent: 2, muted: true, windowVisible: true })).toBe('RelayDesk: 2 unread urgent events (notifications muted)');
  });
});

describe('notification rules', () => {
  const n = (priority: 'low' | 'normal' | 'high' | 'urgent') => ({ title: 't', body: 'b', seq: 1, priority });
  it('raises native notifications at or above desktop_min_priority unless muted', () => {
    const s = settingsSchema.parse({});
    expect(['low', 'normal', 'high', 'urgent'].map((p) => shouldNotify(n(p as 'low'), s))).toEqual([false, false, false, true]);
    const high = settingsSchema.parse({ notifications: { desktop_min_priority: 'high' } });
    expect(shouldNotify(n('high'), high)).toBe(true);
    const muted = settingsSchema.parse({ notifications: { muted: true } });
    expect(shouldNotify(n('urgent'), muted)).toBe(false);
  });

  it('keeps a bounded set of live notifications, evicting the oldest', () => {
    const m = new RecentMap<string>(2);
    expect(m.set(1, 'a')).toBeUndefined();
    m.set(2, 'b');
    expect(m.set(3, 'c')).toBe('a');
    expect(m.size).toBe(2);
    m.delete(2);
    expect(m.size).toBe(1);
  });
});
