import { BrowserWindow, screen, type BrowserWindowConstructorOptions } from 'electron';
import { browserWindowOptions } from './shell/window-options.ts';
import { clampWindowState, loadWindowState, saveWindowState, type WindowState } from './shell/window-state.ts';

/** The console window: secure options, remembered bounds, shown when ready. */
export function createConsoleWindow(o: { preloadPath: string; iconPath?: string; stateFile: string }): BrowserWindow {
  const state = clampWindowState(
    loadWindowState(o.stateFile),
    [screen.getPrimaryDisplay(), ...screen.getAllDisplays().filter((d) => d.id !== screen.getPrimaryDisplay().id)].map((d) => d.workArea),
  );
  const options: BrowserWindowConstructorOptions = browserWindowOptions({ preloadPath: o.preloadPath, bounds: state.bounds, iconPath: o.iconPath });
  const win = new BrowserWindow(options);
  if (state.maximized) win.maximize();
  win.once('ready-to-show', () => win.show());

  let saveTimer: NodeJS.Timeout | undefined;
  const save = () => {
    if (win.isDestroyed() || win.isMinimized() || win.isFullScreen()) return;
    const s: WindowState = { bounds: win.isMaximized() ? win.getNormalBounds() : win.getBounds(), maximized: win.isMaximized() };
    try {
      saveWindowState(o.stateFile, s);
    } catch {
      /* a read-only profile must not break the window */
    }
  };
  const saveSoon = () => {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(save, 500);
  };
  win.on('resize', saveSoon);
  win.on('move', saveSoon);
  win.on('maximize', saveSoon);
  win.on('unmaximize', saveSoon);
  win.on('close', () => {
    clearTimeout(saveTimer);
    save();
  });
  return win;
}

export function showWindow(win: BrowserWindow | null | undefined): void {
  if (!win || win.isDestroyed()) return;
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}
