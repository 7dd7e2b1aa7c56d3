import { useEffect, useState } from 'react';
import { useConsole } from '../app/context.ts';
import { useNow } from '../app/hooks.ts';
import { useSlices } from '../stream/store.ts';
import { ago } from '../stream/describe.ts';
import { desktopPermission } from './desktop.ts';
import { EventActions } from '../actions/EventActions.tsx';

/**
 * High and urgent events, newest first, with read/unread. Urgent ones also raised a desktop notice.
 * Marks are the hub's, per token: every window signed in with the token shows the same ones.
 */
export function NotificationCentre() {
  const { store } = useConsole();
  useSlices(store, 'notices', 'meta');
  const now = useNow(5_000);
  const [perm, setPerm] = useState(desktopPermission);
  const [onlyUnread, setOnlyUnread] = useState(false);
  const { seq: focused, action: focusedAction } = useFocused();
  useEffect(() => {
    // Opened from a notification: show that event, mark it read.
    if (focused === null) return;
    store.markRead(focused);
    document.querySelector(`[data-seq="${focused}"]`)?.scrollIntoView({ block: 'center' });
  }, [focused, store]);
  const list = store.notices.filter((n) => !onlyUnread || !n.read);
  const unread = store.notices.filter((n) => !n.read).length;
  return (
    <section className="alerts" data-testid="alerts">
      <div className="toolbar">
        <b>{unread} unread</b>
        <button type="button" onClick={() => store.markRead('all')} disabled={!unread}>
          Mark all read
        </button>
        <button type="button" onClick={() => store.dismiss('all')} disabled={!store.notices.length} title="Clear every notification, in every window signed in as this token">
          Clear
        </button>
        <label className="check">
          <input type="checkbox" checked={onlyUnread} onChange={(e) => setOnlyUnread(e.target.checked)} /> Unread only
        </label>
        <span className="spacer" />
        {perm === 'default' && (
          <button type="button" onClick={() => void Notification.requestPermission().then(() => setPerm(desktopPermission()))}>
            Enable desktop notifications
          </button>
        )}
        {perm === 'denied' && <span className="muted">Desktop notifications are blocked in this browser.</span>}
        {perm === 'native' && <span className="muted">Urgent events raise native notifications.</span>}
        {store.settings.muted && <span className="chip">muted</span>}
      </div>
      {list.length === 0 && <p className="empty">No {store.settings.min_priority}-priority events yet.</p>}
      <ul className="notices">
        {list.map((n) => (
          <li key={n.seq} className={`notice prio-${n.priority}${n.read ? ' read' : ''}${n.seq === focused ? ' focused' : ''}`} data-testid="notice" data-seq={n.seq}>
            <button type="button" className="notice-body" onClick={() => store.markRead(n.seq)} aria-label={`${n.read ? '' : 'Unread: '}${n.title}`}>
              <span className={`chip prio-${n.priority}`}>{n.priority}</span>
              <span className="notice-title">{n.title}</span>
              <code className="muted">{n.type}</code>
              <span className="muted">{ago(now - Date.parse(n.time))} ago</span>
              {!n.read && <span className="unread-dot" aria-hidden />}
            </button>
 {n.event.actions?.length ? <EventActions source={n.event} run={n.seq === focused ? focusedAction : null} /> : null}
            <button type="button" className="notice-clear" onClick={() => store.dismiss(n.seq)} aria-label={`Clear: ${n.title}`} title="Clear">
              ×
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

/**
 * The event a `#/alerts/<seq>` link points at, following hash changes; `#/alerts/<seq>/<action id>`
 * also names one of its attached actions to start (a desktop notification's button was pressed).
 */
function useFocused(): { seq: number | null; action: string | null } {
  const read = () => location.hash;
  const [hash, setHash] = useState(read);
  useEffect(() => {
    const onHash = () => setHash(read());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const m = /^#\/alerts\/(\d+)(?:\/([a-z0-9._-]+))?$/.exec(hash);
  return { seq: m ? Number(m[1]) : null, action: m?.[2] ?? null };
}
