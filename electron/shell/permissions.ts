/**
 * Permission requests from web content: denied unless listed here, and only for the hub's own
 * top-level pages. Notifications go through the preload bridge (native), so the web Notification
 * permission is not needed; camera, microphone, geolocation, MIDI, HID, serial, USB... are all denied.
 */

/** Copying a token to the clipboard from the settings page is the one thing the console asks for. */
export const GRANTED_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-sanitized-write']);

export function permissionAllowed(permission: string, requestingUrl: string | undefined, appOrigin: string): boolean {
  if (!GRANTED_PERMISSIONS.has(permission)) return false;
  if (!requestingUrl) return false;
  try {
    return new URL(requestingUrl).origin === appOrigin;
  } catch {
    return false;
  }
}
