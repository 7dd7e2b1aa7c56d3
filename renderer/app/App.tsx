import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import type { HubEvent } from '../../shared/events.ts';
import type { InboxOp } from '../../shared/inbox.ts';
import { describeScope, inScope } from '../../shared/scope.ts';
import { HttpError, SAME_ORIGIN, hubCall, streamUrl } from './connection.ts';
import { Ctx, useConsole, type ConsoleContext, type Whoami } from './context.ts';
import { typingIn } from './hooks.ts';
import { ConnectionIndicator } from './ConnectionIndicator.tsx';
import { SignInForm } from './SignIn.tsx';
import { Toasts } from './Toasts.tsx';
import { useTheme } from './theme.ts';
import { ConsoleStore, useSlices, type Notice } from '../stream/store.ts';
import { StreamClient } from '../stream/client.ts';
import { OrdersBoard } from '../orders/OrdersBoard.tsx';
import { TradingView } from '../trading/TradingView.tsx';
import { MailView } from '../mail/MailView.tsx';
import { JobsView } from '../jobs/JobsView.tsx';
import { ScheduleView } from '../schedule/ScheduleView.tsx';
import { LiveView } from '../live/LiveView.tsx';
import { StatsView } from '../stats/StatsView.tsx';
import { NotificationCentre } from '../notify/NotificationCentre.tsx';
import { ActionHistory } from '../actions/ActionHistory.tsx';
import { notifyDesktop } from '../notify/desktop.ts';
import { StatsSampler } from '../stats/sampler.ts';

/** The contract's operation for each inbox mark. */
const INBOX_MARKS = { read: 'markInboxRead', unread: 'markInboxUnread', dismiss: 'dismissInbox' } as const satisfies Record<InboxOp, string>;

export const VIEWS = [
  { id: 'orders', label: 'Orders' },
  { id: 'trading', label: 'Trading' },
  { id: 'mail', label: 'Mail' },
  { id: 'jobs', label: 'Jobs' },
  { id: 'schedule', label: 'Schedule' },
  { id: 'live', label: 'Live stream' },
  { id: 'stats', label: 'Stats' },
  { id: 'alerts', label: 'Alerts' },
  { id: 'actions', label: 'Actions' },
] as const;
export type ViewId = (typeof VIEWS)[number]['id'];

const viewFromHash = (): ViewId => {
  // `#/alerts/1234` opens a view focused on one event (a clicked notification); the view is the first part.
  const h = location.hash.replace(/^#\/?/, '').split('/')[0];
  return (VIEWS.find((v) => v.id === h)?.id ?? 'orders') as ViewId;
};

/** How many live-view rows to pre-load from history so the window is not empty on open. */
const BACKFILL = 500;
const STATE_READ_TIMEOUT_MS = 10_000;

type Boot = { phase: 'loading' } | { phase: 'login'; message: string } | { phase: 'error'; message: string } | { phase: 'ready'; ctx: ConsoleContext };

export function App() {
  const [boot, setBoot] = useState<Boot>({ phase: 'loading' });
  const [theme, toggleTheme] = useTheme();

  useEffect(() => {
    let client: StreamClient | null = null;
    let ticker: ReturnType<typeof setInterval> | null = null;
    let sampler: StatsSampler | null = null;
    let cancelled = false;
    void (async () => {
      const conn = SAME_ORIGIN;
      let me: Whoami;
      try {
        me = await hubCall(conn, 'whoami');
      } catch (err) {
        if (cancelled) return;
        if (err instanceof HttpError && err.status === 401) setBoot({ phase: 'login', message: err.message });
        else setBoot({ phase: 'error', message: err instanceof Error ? err.message : String(err) });
        return;
      }
      if (cancelled) return;
      const store = new ConsoleStore();
      store.desktopNotify = (n: Notice) => notifyDesktop(n);
      store.connectState(async (view, query) => {
        // Bounded: a read that never answers (a dead link) must not stall the next ones.
        return hubCall(conn, 'getState', { params: { view }, query, signal: AbortSignal.timeout(STATE_READ_TIMEOUT_MS) });
      });
      store.connectInbox({
        list: (min, limit) => hubCall(conn, 'listInbox', { query: { min_priority: min, limit }, signal: AbortSignal.timeout(STATE_READ_TIMEOUT_MS) }),
        mark: (op, body) => hubCall(conn, INBOX_MARKS[op], { body, signal: AbortSignal.timeout(STATE_READ_TIMEOUT_MS) }),
      });
      // Exposed for the benchmark and for support sessions ("what does this window hold?").
      (window as unknown as { __relaydesk: ConsoleStore }).__relaydesk = store;
      let backfilled = false;
      client = new StreamClient(
        {
          // The whole id, epoch included: a hub whose log was replaced or forked answers with a reset.
          url: (lastId) => streamUrl(conn, lastId === null ? { events: 'message', snapshot: '1' } : { events: 'message', lastEventId: lastId }),
          probeAuth: async () => {
            try {
              await hubCall(conn, 'whoami');
              return null;
            } catch (err) {
              return err instanceof HttpError && (err.status === 401 || err.status === 403) ? `signed out: ${err.message}` : null;
            }
          },
        },
        {
          onConnection: (c) => {
            store.setConnection(c);
            // Every (re)connection: marks changed while the stream was down sent no frame here.
            store.loadInbox().catch(() => undefined);
            if (backfilled) return;
            backfilled = true;
            hubCall(conn, 'listEvents', { query: { limit: BACKFILL, order: 'desc' } })
              .then((page) => store.addHistory((page.events as HubEvent[]).filter((e) => inScope(me.scope, e))))
              .catch(() => undefined);
          },
          onSnapshot: (s) => store.applySnapshot(s),
          onEvents: (evs) => {
            // Defence in depth: the hub filters by scope; if it ever sent us more, we still do not show it.
            const mine = evs.filter((e) => inScope(me.scope, e));
            for (let i = mine.length; i < evs.length; i++) store.noteInvalid();
            if (mine.length) store.addEvents(mine);
          },
          onReset: (r) => store.applyReset(r),
          onInbox: (c) => store.applyInbox(c),
          onForceDisconnect: (f) => store.setForced(f),
          onStatus: (s) => store.setLink(s),
          onInvalid: () => store.noteInvalid(),
        },
      );
      client.start();
      ticker = setInterval(() => store.expire(), 1_000);
      hubCall(conn, 'getSettings')
        .then((s) => store.setSettings(s.notifications))
        .catch(() => undefined);
      sampler = new StatsSampler(conn, store, me.role === 'admin');
      sampler.start();
      const c = client;
      setBoot({ phase: 'ready', ctx: { store, conn, me, sampler, retry: () => c.retryNow() } });
    })();
    return () => {
      cancelled = true;
      client?.stop();
      sampler?.stop();
      if (ticker) clearInterval(ticker);
    };
  }, []);

  if (boot.phase === 'loading') return <Centered title="RelayDesk">Connecting to the hub…</Centered>;
  if (boot.phase === 'login')
    return (
      <Centered title="Sign in to RelayDesk">
        <p>
          This console needs a login link. Run <code>relaydesk login-url</code> on the hub (or use the link printed by <code>relaydesk serve</code>) and paste it
          here.
        </p>
        <SignInForm />
        {/* "Missing credentials" (never signed in here) speaks of API headers, which mean nothing on this screen; an ended session's reason does. */}
        {!/^missing credentials/.test(boot.message) && <p className="muted">{boot.message}</p>}
      </Centered>
    );
  if (boot.phase === 'error')
    return (
      <Centered title="Cannot reach the hub">
        <p>{boot.message}</p>
        <button type="button" onClick={() => location.reload()}>
          Try again
        </button>
      </Centered>
    );
  return (
    <Ctx.Provider value={boot.ctx}>
      <Shell theme={theme} toggleTheme={toggleTheme} />
    </Ctx.Provider>
  );
}

function Centered({ title, children }: { title: string; children: ReactNode }) {
  return (
    <main className="centered">
      <h1>{title}</h1>
      {children}
    </main>
  );
}

function Shell({ theme, toggleTheme }: { theme: string; toggleTheme(): void }) {
  const [view, setView] = useState<ViewId>(viewFromHash);
  const { store } = useConsole();
  useEffect(() => {
    // The store decides which events interrupt with a toast partly by what the user is looking at.
    store.view = view;
  }, [store, view]);
  const tabs = useRef<(HTMLButtonElement | null)[]>([]);
  const go = useCallback((v: ViewId) => {
    setView(v);
    if (location.hash !== `#/${v}`) history.replaceState(null, '', `#/${v}`);
  }, []);

  useEffect(() => {
    const onHash = () => setView(viewFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  // Global keys: 1-9 switch views, t toggles the theme. Ignored while typing in a field.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (typingIn(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
      const n = Number(e.key);
      if (n >= 1 && n <= VIEWS.length) {
        go(VIEWS[n - 1]!.id);
        e.preventDefault();
      } else if (e.key === 't') toggleTheme();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [go, toggleTheme]);

  // Arrow keys move between tabs (WAI-ARIA tabs pattern).
  const onTabKey = (e: React.KeyboardEvent, i: number) => {
    const d = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!d) return;
    const j = (i + d + VIEWS.length) % VIEWS.length;
    go(VIEWS[j]!.id);
    tabs.current[j]?.focus();
    e.preventDefault();
  };

  return (
    <div className="shell">
      <header className="topbar">
        <div className="brand">RelayDesk</div>
        <nav role="tablist" aria-label="Views" className="tabs">
          {VIEWS.map((v, i) => (
            <button
              key={v.id}
              ref={(el) => {
                tabs.current[i] = el;
              }}
              role="tab"
              type="button"
              aria-selected={view === v.id}
              tabIndex={view === v.id ? 0 : -1}
              className={view === v.id ? 'tab active' : 'tab'}
              onClick={() => go(v.id)}
              onKeyDown={(e) => onTabKey(e, i)}
              data-testid={`tab-${v.id}`}
              title={`${v.label} (${i + 1})`}
            >
              {v.label}
              {v.id === 'alerts' && <UnreadBadge />}
            </button>
          ))}
        </nav>
        <div className="spacer" />
        <ConnectionIndicator />
        <Identity />
        <button type="button" className="theme-toggle" onClick={toggleTheme} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme (t)`} title={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme (t)`} data-testid="theme-toggle">
          {/* An icon only: with a tab per domain the top bar has no room for a word here. */}
          {theme === 'dark' ? '☀' : '☾'}
        </button>
      </header>
      <Banners />
      <main className="view" role="tabpanel" data-testid={`view-${view}`} aria-label={VIEWS.find((v) => v.id === view)!.label}>
        {view === 'orders' && <OrdersBoard />}
        {view === 'trading' && <TradingView />}
        {view === 'mail' && <MailView />}
        {view === 'jobs' && <JobsView />}
        {view === 'schedule' && <ScheduleView />}
        {view === 'live' && <LiveView />}
        {view === 'stats' && <StatsView />}
        {view === 'alerts' && <NotificationCentre />}
        {view === 'actions' && <ActionHistory />}
      </main>
      <Toasts />
    </div>
  );
}

function Identity() {
  const { me } = useConsole();
  return (
    // The bar may cut the text short (ellipsis); the whole of it is in the tooltip.
    <div className="identity" title={`${me.role} · ${describeScope(me.scope)} · token ${me.token_id}`} data-testid="identity">
      {me.role} · {describeScope(me.scope)}
    </div>
  );
}

function UnreadBadge() {
  const { store } = useConsole();
  useSlices(store, 'notices');
  const unread = store.notices.filter((n) => !n.read).length;
  const urgent = store.unreadUrgent;
  useEffect(() => {
    // One count, from the hub's marks, for the desktop tray and the tab title.
    window.relaydesk?.setUnreadUrgent(urgent);
    document.title = urgent ? `(${urgent}) RelayDesk` : 'RelayDesk';
  }, [urgent]);
  if (!unread) return null;
  return (
    <span className={urgent ? 'badge urgent' : 'badge'} data-testid="unread-count">
      {unread}
    </span>
  );
}

/** Why the stream stopped or restarted, in words, above every view. */
function Banners() {
  const { store } = useConsole();
  useSlices(store, 'meta');
  return (
    <>
      {store.forced && (
        <div className="banner warn" role="alert" data-testid="forced-banner">
          The hub closed this stream ({store.forced.reason.replace(/_/g, ' ')}): {store.forced.message}
        </div>
      )}
      {store.lastReset && (
        <div className="banner info" role="status" data-testid="reset-banner">
          Reloaded from the hub's snapshot: {store.lastReset.message}{' '}
          <button type="button" onClick={() => store.clearReset()}>
            Dismiss
          </button>
        </div>
      )}
    </>
  );
}
