import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DOCS_FILE, withCurrentTables } from '../../scripts/gen-docs.ts';

describe('docs/publishing.md', () => {
  it('lists the event types and state kinds the registry has (regenerate: node bin/run-ts.js scripts/gen-docs.ts)', () => {
    const text = readFileSync(DOCS_FILE, 'utf8');
    expect(text).toContain('| `store.order.created` | `store_id` |');
    expect(withCurrentTables(text)).toBe(text);
    // A stale table is caught: regenerating changes it back.
    const stale = text.replace('| `mail` | `mail` | `/v1/state/mail` | 1,000 |', '| `mail` | `mail` | `/v1/state/mail` | 900 |');
    expect(stale).not.toBe(text);
    expect(withCurrentTables(stale)).toBe(text);
  });
});
