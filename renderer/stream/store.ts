import { useSyncExternalStore } from 'react';
import { reaches, type HubEvent, type Priority } from '../../shared/events.ts';
import type { ConnectionEvent, ForceDisconnect, ResetEvent } from '../../shared/wire.ts';
import { SNAPSHOT_CAPS, stateFields, type Snapshot, type StateKind } from '../../shared/state.ts';
import type { Settings } from '../../shared/settings.ts';
import type { LinkStatus } from './client.ts';
import { applyEvent, emptyTables, parseData, tablesFromSnapshot, type Change, type Tables } from './projections.ts';
import { RowFiller, type ReadState } from './row-filler.ts';
import { CutTotals } from './cut-totals.ts';
import { RowActions } from '../actions/row-actions.ts';
import { stateRowKey } from '../../shared/state-keys.ts';
import { describeEvent, type DescribeContext } from './describe.ts';
import { ToastQueue, toastFor, type Toast } from '../notify/toast-queue.ts';
import { INBOX_PAGE_MAX, type InboxChange, type InboxMark, type InboxOp, type InboxPage } from '../../shared/inbox.ts';

/** How the store reads and writes the token's inbox marks at the hub (null in tests without a hub). */
export interface InboxApi {
  list(minPriority: Priority, limit: number): Promise<InboxPage>;
  mark(op: InboxOp, body: InboxMark): Promise<InboxChange>;
}

export type { Toast };

/** Rows kept in memory for the live view; older ones are dropped (they stay in the hub's history). */
export const LIVE_CAP = 5_000;
const NOTIFY_CAP = 500;
/** How long a deleted order stays struck through before it leaves the board. */
export const TOMBSTONE_MS = 5_000;
/** How long a new order keeps its highlight. */
export const FRESH_MS = 15_000;

export interface Notice {
  seq: number;
  type: string;
  priority: Priority;
  title: string;
  time: string;
  read: boolean;
  /** The event itself: its attached actions are buttons on the notice. */
  event: HubEvent;
}


export interface Tombstone {
  key: string;
  row: Tables['store_order'] extends Map<string, infer R> ? R : never;
  at: number;
}

export type Slice = 'live' | 'tables' | 'notices' | 'toasts' | 'link' | 'meta';

type Listener = () => void;

/**
 * Everything the window knows, outside React so 1,000 events/s never pass through component state.
 * Each slice has a version; components subscribe to the slices they draw and re-render only when one
 * of those moves.
 */
export class ConsoleStore {
  /** Live buffer, oldest first, never longer than LIVE_CAP. Replaced (not mutated) on change. */
  events: HubEvent[] = [];
  /** Rows dropped from the front of the buffer since the window opened. */
  dropped = 0;
  received = 0;
  invalid = 0;
  tables: Tables = emptyTables();
  /** How many rows of each kind the hub had in our scope at the last snapshot, and how many it sent. */
  snapshotCounts: Snapshot['counts'] | null = null;
  /** Rows trimmed from the tables by SNAPSHOT_CAPS (oldest update first), per kind. */
  tableDropped: Partial<Record<keyof Tables, number>> = {};
  /** Order keys first seen live (not in the snapshot), with when: they get the "new" highlight. */
  freshOrders = new Map<string, number>();
  tombstones = new Map<string, Tombstone>();
  /** Previous quantity of a position as this window saw it, when the publisher did not send one. */
  prevQty = new Map<string, number>();
  notices: Notice[] = [];
  private readonly toastQueue = new ToastQueue();
  get toasts(): Toast[] {
    return this.toastQueue.items;
  }
  /** The view on screen, set by the app: which events deserve a toast depends on it. */
  view = '';
  link: LinkStatus | null = null;
  /** Hub commit → this window, smoothed (ms); loopback or same-LAN clocks make this meaningful. */
  latencyMs: number | null = null;
  connection: ConnectionEvent | null = null;
  lastReset: ResetEvent | null = null;
  forced: ForceDisconnect | null = null;
  snapshotSeq: number | null = null;
  settings: Settings['notifications'] = { muted: false, min_priority: 'high', desktop_min_priority: 'urgent', chime_on_new_order: false };
  /** Called for each new store order seen live (the orders board plays its chime from here). */
  onNewOrder: (() => void) | null = null;
  desktopNotify: ((n: Notice) => void) | null = null;
  /** "N of M" for the lists the snapshot cut. */
  readonly cutTotals = new CutTotals();
  /** Status changes asked of the store backend and how far they got, shown on the order cards. */
  readonly rowActions = new RowActions();
  /** Fills in rows that updates patched while this window did not hold them; null without a hub to ask. */
  private rowFiller: RowFiller | null = null;
  private readState: ReadState | null = null;
  private tablesGeneration = 0;

  private versions: Record<Slice, number> = { live: 0, tables: 0, notices: 0, toasts: 0, link: 0, meta: 0 };
  private listeners = new Set<Listener>();
  private toastSeq = 0;

  version(slice: Slice): number {
    return this.versions[slice];
  }

  subscribe = (l: Listener): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  private bump(...slices: Slice[]): void {
    for (const s of slices) this.versions[s]++;
    for (const l of this.listeners) l();
  }

  setLink(s: LinkStatus): void {
    this.link = s;
    this.bump('link');
  }

  setConnection(c: ConnectionEvent): void {
    this.connection = c;
    this.forced = null;
    this.bump('meta');
  }

  setForced(f: ForceDisconnect): void {
    this.forced = f;
    this.bump('meta');
  }

  noteInvalid(): void {
    this.invalid++;
    this.bump('meta');
  }

  /** Lets the store read GET /v1/state: to fill in partial rows and keep cut lists' totals current. */
  connectState(read: ReadState): void {
    this.readState = read;
    this.rowFiller = new RowFiller(
      {
        tables: () => this.tables,
        generation: () => this.tablesGeneration,
        mayLackRows: (kind) => this.mayLackRows(kind),
        changed: () => this.bump('tables'),
        warn: (text) => {
          this.toastQueue.say(text, 'warn', Date.now());
          this.bump('toasts');
        },
      },
      read,
    );
  }

  applySnapshot(s: Snapshot): void {
    this.tables = tablesFromSnapshot(s);
    // The snapshot replaces every row; answers to reads made before it describe an older state.
    this.tablesGeneration++;
    this.rowFiller?.reset();
    this.cutTotals.fromSnapshot(s, Date.now());
    this.snapshotCounts = s.counts;
    this.snapshotSeq = s.seq;
    this.freshOrders.clear();
    this.tombstones.clear();
    this.bump('tables', 'meta');
  }

  applyReset(r: ResetEvent): void {
    // The snapshot that follows replaces the state. After a retention reset the rows we show are
    // still true history and stay; `ahead_of_log` and `epoch_changed` mean a different log (a wiped
    // or replaced hub, a Redis stream that started over) whose seqs would collide with ours, so the
    // live rows go too.
    this.lastReset = r;
    if (r.reason === 'ahead_of_log' || r.reason === 'epoch_changed') {
      this.dropped += this.events.length;
      this.events = [];
      this.liveSeqs.clear();
    }
    this.bump('meta', 'live');
  }

  clearReset(): void {
    this.lastReset = null;
    this.bump('meta');
  }

  /**
   * Events from history (backfill): shown in the live view only. They are older than the snapshot,
   * so they must not touch state, notify or toast.
   */
  addHistory(evs: HubEvent[]): void {
    const add = evs.filter((e) => !this.liveSeqs.has(e.seq));
    if (!add.length) return;
    this.pushLive(add, true);
    // Without a hub inbox (tests, older hubs) the notices of a reload come from history, unread.
    if (!this.inboxApi) {
      const known = new Set(this.notices.map((n) => n.seq));
      const old = add.filter((e) => !known.has(e.seq) && this.notable(e)).map((e) => this.notice(e));
      if (old.length) this.notices = [...this.notices, ...old].sort((a, b) => b.seq - a.seq).slice(0, NOTIFY_CAP);
    }
    this.bump('live', 'notices');
  }

  private notable(ev: HubEvent): boolean {
    return !this.settings.muted && reaches(ev.priority, this.settings.min_priority);
  }

  /** Summaries may name what an event refers to from the rows the window holds (a mail's subject). */
  private readonly describeContext: DescribeContext = {
    row: (kind, key) => (this.tables as Record<string, Map<string, { data: Record<string, unknown> }> | undefined>)[kind]?.get(key)?.data,
  };

  private notice(ev: HubEvent): Notice {
    return { seq: ev.seq, type: ev.type, priority: ev.priority, title: describeEvent(ev, this.describeContext), time: ev.time, read: this.readSeqs.has(ev.seq), event: ev };
  }

  /** Live events from the stream, already deduplicated by seq. */
  addEvents(evs: HubEvent[]): void {
    const now = Date.now();
    this.received += evs.length;
    const changes: Change[] = [];
    const noticesBefore = this.notices.length;
    const toastsBefore = this.toastSeq;
    const newNotices: Notice[] = [];
    let tablesChanged = false;
    for (const ev of evs) {
      const d = parseData(ev);
      if (d === null) {
        this.invalid++;
        continue;
      }
      if (ev.type.startsWith('action.') && this.rowActions.apply(ev, (targetId, e) => stateRowKey(e, targetId), now, (s) => this.eventAt(s, evs))) tablesChanged = true;
      if (this.snapshotSeq === null || ev.seq > this.snapshotSeq) {
        applyEvent(this.tables, ev, d, changes);
        tablesChanged ||= changes.length > 0 || ev.type.startsWith('trading.order.batch');
      }
      const t = toastFor(ev, d, { ...this.describeContext, minPriority: this.settings.min_priority, muted: this.settings.muted, view: this.view });
      if (t) {
        this.toastQueue.push(t.group, t.text, t.tone, now);
        this.toastSeq++;
      }
      if (this.notable(ev) && !this.dismissedSeqs.has(ev.seq)) newNotices.push(this.notice(ev));
    }
    for (const c of changes) this.track(c, now);
    this.cutTotals.note(changes);
    if (tablesChanged) this.trimTables();
    this.rowFiller?.note(changes);
    if (newNotices.length) {
      this.notices = [...newNotices.reverse(), ...this.notices].slice(0, NOTIFY_CAP);
      const desktop = newNotices.filter((n) => reaches(n.priority, this.settings.desktop_min_priority));
      for (const n of desktop.slice(0, 3)) this.desktopNotify?.(n);
    }
    const last = evs[evs.length - 1];
    if (last) {
      const l = now - Date.parse(last.received_at);
      if (Number.isFinite(l)) this.latencyMs = this.latencyMs === null ? l : this.latencyMs * 0.8 + l * 0.2;
    }
    this.pushLive(evs, false);
    const slices: Slice[] = ['live'];
    if (tablesChanged) slices.push('tables');
    if (this.notices.length !== noticesBefore || newNotices.length) slices.push('notices');
    if (this.toastSeq !== toastsBefore) slices.push('toasts');
    this.bump(...slices);
  }

  private trimTables(): void {
    // The hub's default snapshot caps: a long-lived window stays as bounded as a fresh one.
    for (const kind of Object.keys(SNAPSHOT_CAPS) as (keyof Tables)[]) {
      const m = this.tables[kind];
      const cap = SNAPSHOT_CAPS[kind];
      // Trim in chunks (10 % over the cap) so the sort runs rarely, not on every event.
      if (m.size <= cap * 1.1) continue;
      const oldest = [...m.values()].sort((a, b) => a.seq - b.seq).slice(0, m.size - cap);
      for (const r of oldest) m.delete(r.key);
      this.tableDropped[kind] = (this.tableDropped[kind] ?? 0) + oldest.length;
    }
  }

  /**
   * Whether the hub may hold rows of this kind that this window does not: its snapshot was cut at the
   * cap, or rows were trimmed here since. Otherwise a patch to an unknown row is partial at the hub
   * too (its create was never published, or has been pruned), and fetching it would change nothing.
   */
  private mayLackRows(kind: StateKind): boolean {
    const c = this.snapshotCounts?.[stateFields[kind]];
    return (c !== undefined && c.returned < c.total) || (this.tableDropped[kind] ?? 0) > 0;
  }

  /** Seqs in the live buffer: history backfill and the stream can overlap at startup. */
  private liveSeqs = new Set<number>();

  /**
   * The event of a seq, or what the window knows of its attached actions: in the live buffer, the
   * batch being applied, a notice, or a row it last changed (a window that started from a snapshot
   * holds the row, not the event).
   */
  private eventAt(seq: number, batch: readonly HubEvent[]): Pick<HubEvent, 'id' | 'type' | 'actions'> | undefined {
    if (this.liveSeqs.has(seq)) {
      // The buffer is sorted by seq.
      let lo = 0;
      let hi = this.events.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const s = this.events[mid]!.seq;
        if (s === seq) return this.events[mid];
        if (s < seq) lo = mid + 1;
        else hi = mid - 1;
      }
    }
    const held = batch.find((e) => e.seq === seq) ?? this.notices.find((n) => n.seq === seq)?.event;
    if (held) return held;
    for (const table of Object.values(this.tables))
      for (const row of table.values()) if (row.actions?.seq === seq) return { id: row.actions.id, type: row.actions.type, actions: row.actions.items };
    return undefined;
  }

  private pushLive(evs: HubEvent[], sort: boolean): void {
    const fresh = evs.filter((e) => !this.liveSeqs.has(e.seq));
    if (!fresh.length) return;
    evs = fresh;
    let next = this.events.concat(evs);
    if (sort || (this.events.length && evs.length && evs[0]!.seq < this.events[this.events.length - 1]!.seq)) next.sort((a, b) => a.seq - b.seq);
    if (next.length > LIVE_CAP) {
      this.dropped += next.length - LIVE_CAP;
      next = next.slice(next.length - LIVE_CAP);
    }
    this.events = next;
    this.liveSeqs = new Set(next.map((e) => e.seq));
  }

  private track(c: Change, now: number): void {
    if (c.kind === 'store_order') {
      if (c.op === 'upsert' && !c.prev && c.ev.type === 'store.order.created') {
        this.freshOrders.set(c.key, now);
        this.tombstones.delete(c.key);
        this.onNewOrder?.();
      }
      if (c.op === 'delete' && c.prev && c.ev.type === 'store.order.deleted') this.tombstones.set(c.key, { key: c.key, row: c.prev, at: now });
    }
    if (c.kind === 'position' && c.op === 'upsert' && c.prev) this.prevQty.set(c.key, Number(c.prev.data.quantity));
    if (c.kind === 'position' && c.op === 'delete') this.prevQty.delete(c.key);
  }

  /** Drop expired tombstones, highlights and toasts, and refresh cut lists' totals; called from a 1 s ticker. */
  expire(now = Date.now()): void {
    if (this.readState)
      void this.cutTotals.refresh(this.readState, now).then((moved) => {
        if (moved) this.bump('tables');
      });
    let tables = false;
    for (const [k, at] of this.freshOrders)
      if (now - at > FRESH_MS) {
        this.freshOrders.delete(k);
        tables = true;
      }
    for (const [k, t] of this.tombstones)
      if (now - t.at > TOMBSTONE_MS) {
        this.tombstones.delete(k);
        tables = true;
      }
    if (this.rowActions.expire(now)) tables = true;
    const toastsGone = this.toastQueue.expire(now);
    if (tables) this.bump('tables');
    if (toastsGone) this.bump('toasts');
  }

  toast(text: string, tone: Toast['tone'] = 'info', now = Date.now()): void {
    this.toastQueue.say(text, tone, now);
    this.toastSeq++;
    this.versions.toasts++;
  }

  /** An action this window just asked for: shown on its card until the stream says how it went. */
  noteAction(a: Parameters<RowActions['asked']>[0]): void {
    this.rowActions.asked(a);
    this.bump('tables');
  }

  dismissToast(id: number): void {
    this.toastQueue.dismiss(id);
    this.bump('toasts');
  }

  /**
   * Read and dismissed marks are the hub's, per token (GET /v1/inbox): every window signed in with
   * the token shows the same ones, and changes arrive as `inbox` frames on the stream.
   */
  private inboxApi: InboxApi | null = null;
  private readSeqs = new Set<number>();
  private dismissedSeqs = new Set<number>();
  private inboxLoads = 0;

  connectInbox(api: InboxApi): void {
    this.inboxApi = api;
  }

  /** Unread urgent notices: the badge's colour, the tab title and the desktop tray follow it. */
  get unreadUrgent(): number {
    return this.notices.filter((n) => !n.read && n.priority === 'urgent').length;
  }

  /**
   * (Re)load the inbox from the hub: on every (re)connection, since `inbox` frames sent while the
   * stream was down are not replayed, and when the threshold changes.
   */
  async loadInbox(): Promise<void> {
    if (!this.inboxApi) return;
    const load = ++this.inboxLoads;
    const page = await this.inboxApi.list(this.settings.min_priority, Math.min(NOTIFY_CAP, INBOX_PAGE_MAX));
    // A later load (or a threshold change) supersedes this answer.
    if (load !== this.inboxLoads) return;
    this.readSeqs = new Set(page.items.filter((i) => i.read).map((i) => i.event.seq));
    this.dismissedSeqs = new Set(page.items.filter((i) => i.dismissed).map((i) => i.event.seq));
    const oldest = page.items.length ? page.items[page.items.length - 1]!.event.seq : Infinity;
    const fromHub = this.settings.muted ? [] : page.items.map((i) => this.notice(i.event));
    const have = new Set(fromHub.map((n) => n.seq));
    // Live notices newer than the page (they arrived while it was read) stay; older ones the page
    // did not list were dismissed elsewhere or fell below the threshold.
    const live = this.notices.filter((n) => !have.has(n.seq) && n.seq > oldest && !this.dismissedSeqs.has(n.seq));
    this.notices = [...live, ...fromHub].sort((a, b) => b.seq - a.seq).slice(0, NOTIFY_CAP);
    this.bump('notices');
  }

  /** A change from the hub: made in this window or in another of the same token. */
  applyInbox(c: InboxChange): void {
    const hit = (n: Notice) =>
      c.seqs ? c.seqs.includes(n.seq) : c.through !== null && n.seq <= c.through && reaches(n.priority, c.all_min_priority ?? 'high');
    // Named seqs are remembered even when this window does not list them (yet): a live event or a
    // reload may bring them.
    for (const seq of c.seqs ?? this.notices.filter(hit).map((n) => n.seq)) {
      if (c.op === 'read') this.readSeqs.add(seq);
      if (c.op === 'unread') this.readSeqs.delete(seq);
      if (c.op === 'dismiss') this.dismissedSeqs.add(seq);
    }
    if (c.op === 'dismiss') this.notices = this.notices.filter((n) => !hit(n));
    else this.notices = this.notices.map((n) => (hit(n) ? { ...n, read: c.op === 'read' } : n));
    this.bump('notices');
  }

  markRead(seq: number | 'all'): void {
    this.change('read', seq);
  }

  markUnread(seq: number): void {
    this.change('unread', seq);
  }

  /** Clear notices from the inbox (for every window of the token). */
  dismiss(seq: number | 'all'): void {
    this.change('dismiss', seq);
  }

  /** Shown at once here, then confirmed by the hub (whose frame reaches every window of the token). */
  private change(op: InboxOp, seq: number | 'all'): void {
    const body: InboxMark = seq === 'all' ? { all: true, min_priority: this.settings.min_priority } : { seqs: [seq] };
    if (seq !== 'all' && op === 'read' && this.readSeqs.has(seq)) return;
    const through = seq === 'all' ? (this.notices[0]?.seq ?? 0) : null;
    this.applyInbox({ op, seqs: seq === 'all' ? null : [seq], through, all_min_priority: seq === 'all' ? this.settings.min_priority : null, unread: 0, unread_urgent: 0, min_priority: 'high' });
    if (!this.inboxApi) return;
    this.inboxApi.mark(op, body).then(
      (c) => this.applyInbox(c),
      (err: unknown) => {
        this.toast(`Could not save the inbox change: ${err instanceof Error ? err.message : String(err)}`, 'warn');
        this.bump('toasts');
        void this.loadInbox().catch(() => undefined);
      },
    );
  }

  setSettings(s: Settings['notifications']): void {
    const reload = s.min_priority !== this.settings.min_priority || s.muted !== this.settings.muted;
    this.settings = s;
    this.bump('meta');
    if (reload) void this.loadInbox().catch(() => undefined);
  }
}

/** Re-render when any of the given slices changes; returns a number that changes with them. */
export function useSlices(store: ConsoleStore, ...slices: Slice[]): string {
  return useSyncExternalStore(store.subscribe, () => slices.map((s) => store.version(s)).join(':'));
}
