import type { Notice } from '../stream/store.ts';

/**
 * Urgent events raise a desktop notification: native through the Electron bridge, else the browser
 * Notification API (permission is asked from a click in the notification centre, never on load).
 * The event's attached actions go to the shell, which shows them as buttons where the platform can
 * (macOS). A page's `new Notification` cannot have buttons (only a service worker's can), so in a
 * browser a click opens the event in the notification centre, where its buttons are.
 */
export function notifyDesktop(n: Notice): void {
  const title = `${n.priority === 'urgent' ? 'Urgent' : 'High'}: ${n.type}`;
  if (window.relaydesk) {
    const actions = n.event.actions?.map((a) => ({ id: a.id, label: a.label }));
    void window.relaydesk
      .notify({ title: title.slice(0, 200), body: n.title.slice(0, 1000), seq: n.seq, priority: n.priority, ...(actions?.length ? { actions } : {}) })
      .catch(() => undefined);
    return;
  }
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  const note = new Notification(title, { body: n.title, tag: `relaydesk-${n.seq}` });
  note.onclick = () => {
    window.focus();
    location.hash = `#/alerts/${n.seq}`;
  };
}

export function desktopPermission(): 'granted' | 'denied' | 'default' | 'native' | 'unsupported' {
  if (window.relaydesk) return 'native';
  if (typeof Notification === 'undefined') return 'unsupported';
  return Notification.permission;
}
