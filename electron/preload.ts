/**
 * Preload for the console window (sandboxed, context-isolated). Exposes exactly the DesktopBridge of
 * shared/desktop-bridge.ts as `window.relaydesk`; the implementation is electron/shell/bridge.ts.
 * Bundled to CommonJS (dist-electron/preload.cjs): sandboxed preloads cannot be ES modules and may
 * only require('electron'), so zod and the shared schemas are bundled in.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { exposeDesktopBridge } from './shell/bridge.ts';

exposeDesktopBridge(contextBridge, ipcRenderer);
