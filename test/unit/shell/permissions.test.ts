import { describe, expect, it } from 'vitest';
import { GRANTED_PERMISSIONS, permissionAllowed } from '../../../electron/shell/permissions.ts';

const APP = 'http://127.0.0.1:7700';

describe('permission policy', () => {
  it('denies everything by default', () => {
    for (const p of ['media', 'geolocation', 'notifications', 'midi', 'midiSysex', 'pointerLock', 'fullscreen', 'openExternal', 'hid', 'serial', 'usb', 'clipboard-read', 'display-capture', 'idle-detection', 'unknown'])
      expect(permissionAllowed(p, `${APP}/`, APP), p).toBe(false);
  });

  it('grants clipboard writes (copy a token) to the hub page only', () => {
    expect([...GRANTED_PERMISSIONS]).toEqual(['clipboard-sanitized-write']);
    expect(permissionAllowed('clipboard-sanitized-write', `${APP}/#/settings`, APP)).toBe(true);
    expect(permissionAllowed('clipboard-sanitized-write', 'https://evil.example/', APP)).toBe(false);
    expect(permissionAllowed('clipboard-sanitized-write', undefined, APP)).toBe(false);
    expect(permissionAllowed('clipboard-sanitized-write', 'garbage', APP)).toBe(false);
    // Before the hub is up no origin is trusted.
    expect(permissionAllowed('clipboard-sanitized-write', `${APP}/`, '')).toBe(false);
  });
});
