// `node --import ./register.mjs dist-electron/main.js`: resolves the `electron` module to the fake
// below, so the real bundled main process runs under plain Node (no Electron binary here).
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
