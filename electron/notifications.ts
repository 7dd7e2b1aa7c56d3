import { Notification } from 'electron';
import type { NotifyRequest } from '../shared/desktop-bridge.ts';
import { RecentMap } from './shell/notify-policy.ts';

/** Native notifications; a click hands the event's sequence number back (to focus it in the console). */
export class ShellNotifications {
  private readonly live = new RecentMap<Notification>(50);

  constructor(
    private readonly onClick: (seq: number) => void,
    private readonly iconPath?: string,
  ) {}

  show(n: NotifyRequest): boolean {
    if (!Notification.isSupported()) return false;
    const note = new Notification({
      title: n.title,
      body: n.body,
      urgency: n.priority === 'urgent' ? 'critical' : 'normal',
      ...(this.iconPath ? { icon: this.iconPath } : {}),
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
