/**
 * The tray menu as plain data; electron/tray.ts turns it into a Menu and maps ids to actions.
 */
export type TrayAction = 'show' | 'toggle-mute' | 'quit';

export interface TrayMenuItem {
  id: TrayAction | 'unread';
  label: string;
  type: 'normal' | 'checkbox' | 'separator';
  checked?: boolean;
  enabled?: boolean;
}

export interface TrayState {
  unreadUrgent: number;
  muted: boolean;
  windowVisible: boolean;
}

export function unreadLabel(n: number): string {
  if (n <= 0) return 'No unread urgent events';
  if (n > 99) return '99+ unread urgent events';
  return n === 1 ? '1 unread urgent event' : `${n} unread urgent events`;
}

/** Short form for the macOS menu-bar title and badge; empty when there is nothing unread. */
export function unreadBadge(n: number): string {
  if (n <= 0) return '';
  return n > 99 ? '99+' : String(n);
}

export function trayTooltip(s: TrayState): string {
  return `RelayDesk: ${unreadLabel(s.unreadUrgent).toLowerCase()}${s.muted ? ' (notifications muted)' : ''}`;
}

export function trayMenuTemplate(s: TrayState): TrayMenuItem[] {
  return [
    { id: 'unread', label: unreadLabel(s.unreadUrgent), type: 'normal', enabled: false },
    { id: 'show', label: s.windowVisible ? 'Show RelayDesk' : 'Open RelayDesk', type: 'normal' },
    { id: 'toggle-mute', label: 'Mute notifications', type: 'checkbox', checked: s.muted },
    { id: 'unread', label: '', type: 'separator' },
    { id: 'quit', label: 'Quit RelayDesk', type: 'normal' },
  ];
}
