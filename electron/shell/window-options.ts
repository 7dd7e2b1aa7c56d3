/**
 * The one place the console window's security switches live. Plain data (no `electron` import) so
 * the policy is unit-tested under Node; electron/window.ts passes it to `new BrowserWindow()` and the
 * compiler checks it against Electron's BrowserWindowConstructorOptions there.
 */

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const MIN_WIDTH = 720;
export const MIN_HEIGHT = 480;

/** Every renderer gets exactly these. Nothing in the page can reach Node or Electron. */
export function secureWebPreferences(preloadPath: string) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
  } as const;
}

export interface WindowOptionsInput {
  preloadPath: string;
  bounds: Partial<Rect> & { width: number; height: number };
  iconPath?: string;
  /** Platform: the title-bar tint follows the console's dark theme on every platform. */
  backgroundColor?: string;
}

export function browserWindowOptions(input: WindowOptionsInput) {
  return {
    title: 'RelayDesk',
    ...input.bounds,
    minWidth: MIN_WIDTH,
    minHeight: MIN_HEIGHT,
    // Shown on 'ready-to-show' so the user never sees a blank white frame.
    show: false,
    backgroundColor: input.backgroundColor ?? '#0f1115',
    autoHideMenuBar: true,
    ...(input.iconPath ? { icon: input.iconPath } : {}),
    webPreferences: secureWebPreferences(input.preloadPath),
  };
}
