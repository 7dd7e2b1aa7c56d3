import { Notification } from 'electron';
import type { NotifyRequest } from '../shared/desktop-bridge.ts';
import { RecentMap, nativeActionButtons } from './shell/notify-policy.ts';

/**
 * Native notifications; a click hands the event's sequence number back (to focus it in the console),
 * and a pressed action button (macOS) the action's id with it (the console runs it from there, after
 * its confirmation if it has one).
 */
export class ShellNotifications {
  private readonly live = new RecentMap<Notification>(50);

  constructor(
    private readonly onClick: (seq: number, action?: string) => void,
    private readonly iconPath?: string,
    private readonly platform: string = process.platform,
  ) {}

  show(n: NotifyRequest): boolean {
    if (!Notification.isSupported()) return false;
    const note = new Notification({
      title: n.title,
      body: n.body,
      urgency: n.priority === 'urgent' ? 'critical' : 'normal',
      ...(this.iconPath ? { icon: this.iconPath } : {}),
      actions: nativeActionButtons(n, this.platform),
    });
    note.on('action', (_e, index: number) => {
      this.live.delete(n.seq);
      this.onClick(n.seq, n.actions?.[index]?.id);
    });
    note.on('click', () => {
      this.live.delete(n.seq);
      this.onClick(n.seq);
    });
    note.on('close', () => this.live.delete(n.seq));
    this.live.set(n.seq, note)?.close();
    note.show();
    return true;
  }
}
