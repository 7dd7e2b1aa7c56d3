import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

const hub = process.env.RELAYDESK_HUB_URL ?? 'http://127.0.0.1:7700';

/** The console bundle: loaded by the Electron window and served by the hub at `/` in browser mode. */
export default defineConfig({
  root: fileURLToPath(new URL('./renderer', import.meta.url)),
  base: './',
  plugins: [react()],
  build: { outDir: fileURLToPath(new URL('./dist/renderer', import.meta.url)), emptyOutDir: true, sourcemap: true },
  server: { proxy: { '/v1': hub, '/auth': hub, '/healthz': hub } },
});
