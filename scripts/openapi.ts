// Writes docs/openapi.json: the API document of a hub started on a throwaway database with every
// route switched on (the Mercure ones need a key). The document comes from the routes' shared
// schemas only, so it does not depend on the hub's data.
// `npm run openapi` after changing a route or a schema; a test fails while the file is stale.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hub } from '../electron/hub/hub.ts';
import { FULL_SURFACE_OPTIONS, renderApiDocument } from '../electron/hub/http/docs.ts';

const dir = mkdtempSync(join(tmpdir(), 'relaydesk-openapi-'));
const hub = await Hub.start({ port: 0, dbFile: join(dir, 'hub.db'), logLevel: 'silent', ...FULL_SURFACE_OPTIONS });
try {
  const out = join(import.meta.dirname, '..', 'docs', 'openapi.json');
  writeFileSync(out, renderApiDocument(hub.app.swagger()));
  console.log(`wrote ${out}`);
} finally {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
}
