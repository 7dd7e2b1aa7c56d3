import { Menu, Tray, app, nativeImage, type MenuItemConstructorOptions } from 'electron';
import { trayMenuTemplate, trayTooltip, unreadBadge, type TrayAction, type TrayState } from './shell/tray-menu.ts';

/** Tray icon with the unread urgent count and a small menu (template in shell/tray-menu.ts). */
export class ShellTray {
  private tray: Tray | null = null;
  private state: TrayState = { unreadUrgent: 0, muted: false, windowVisible: true };

  constructor(
    private readonly icons: { normal: string; urgent: string },
    private readonly onAction: (a: TrayAction) => void,
  ) {}

  create(): boolean {
    try {
      this.tray = new Tray(nativeImage.createFromPath(this.icons.normal));
      this.tray.on('click', () => this.onAction('show'));
      this.render();
      return true;
    } catch {
      // Some Linux desktops have no status area; the app works without a tray.
      this.tray = null;
      return false;
    }
  }

  update(patch: Partial<TrayState>): void {
    this.state = { ...this.state, ...patch };
    this.render();
  }

  private render(): void {
    const s = this.state;
    // Dock/launcher badge where the platform has one (macOS, Unity-style Linux launchers).
    if (process.platform !== 'win32') app.setBadgeCount(s.unreadUrgent);
    if (!this.tray) return;
    this.tray.setImage(nativeImage.createFromPath(s.unreadUrgent > 0 ? this.icons.urgent : this.icons.normal));
    this.tray.setToolTip(trayTooltip(s));
    if (process.platform === 'darwin') this.tray.setTitle(unreadBadge(s.unreadUrgent));
    const items: MenuItemConstructorOptions[] = trayMenuTemplate(s).map((i) => ({
      label: i.label,
      type: i.type,
      checked: i.checked,
      enabled: i.enabled ?? true,
      click: i.type === 'separator' || i.id === 'unread' ? undefined : () => this.onAction(i.id as TrayAction),
    }));
    this.tray.setContextMenu(Menu.buildFromTemplate(items));
  }

  destroy(): void {
    this.tray?.destroy();
    this.tray = null;
  }
}
