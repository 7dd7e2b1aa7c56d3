import { describe, expect, it } from 'vitest';
import { browserWindowOptions, secureWebPreferences, MIN_HEIGHT, MIN_WIDTH } from '../../../electron/shell/window-options.ts';

describe('window options', () => {
  it('locks the renderer down: isolation, sandbox, no Node, web security on', () => {
    const p = secureWebPreferences('/app/preload.cjs');
    expect(p).toMatchObject({
      preload: '/app/preload.cjs',
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
    });
  });

  it('never lets a caller weaken webPreferences through the window options', () => {
    const o = browserWindowOptions({ preloadPath: '/p.cjs', bounds: { x: 10, y: 20, width: 1000, height: 700 }, iconPath: '/i.png' });
    expect(o.webPreferences).toEqual(secureWebPreferences('/p.cjs'));
    expect(o).toMatchObject({ x: 10, y: 20, width: 1000, height: 700, minWidth: MIN_WIDTH, minHeight: MIN_HEIGHT, show: false, icon: '/i.png' });
  });

  it('has no insecure switch anywhere in the options', () => {
    const text = JSON.stringify(browserWindowOptions({ preloadPath: '/p.cjs', bounds: { width: 800, height: 600 } }));
    expect(text).not.toMatch(/"nodeIntegration":true|"contextIsolation":false|"sandbox":false|"webSecurity":false/);
    expect(text).not.toContain('enableRemoteModule');
  });
});
