import { useMemo } from 'react';
import type { ProjectionRow } from '../../shared/state.ts';
import { useConsole } from '../app/context.ts';
import { SnapshotNotice } from '../app/SnapshotNotice.tsx';
import { useNow } from '../app/hooks.ts';
import { VirtualTable, type Column } from '../app/VirtualTable.tsx';
import { useSlices } from '../stream/store.ts';
import { ago } from '../stream/describe.ts';
import { hubCall } from '../app/connection.ts';
import { ACTION_TEXT, actDenied, mailReadRequest, mailStarRequest } from '../actions/row-actions.ts';
import { RowEventActions } from '../actions/EventActions.tsx';

type Classification = { category?: string; priority?: string; summary?: string };

export function MailView() {
  const { store, me, conn } = useConsole();
  const denied = actDenied(me.role);
  // Read and starred live in the mailbox, so the mail-sync backend changes them and confirms with
  // mail.email.updated; the row shows how far the ask got meanwhile.
  const ask = async (row: ProjectionRow, body: ReturnType<typeof mailReadRequest>, label: string) => {
    store.noteAction({ action_id: body.action_id, key: row.key, label, state: 'requested', at: Date.now() });
    try {
      await hubCall(conn, 'requestAction', { body });
    } catch (err) {
      store.noteAction({ action_id: body.action_id, key: row.key, label, state: 'failed', detail: (err as Error).message, at: Date.now() });
    }
  };
  useSlices(store, 'tables');
  const now = useNow(5_000);
  const version = store.version('tables');
  const { mail, syncs } = useMemo(
    () => ({
      mail: [...store.tables.mail.values()].sort((a, b) => Date.parse(String(b.data.received_at ?? b.created_at)) - Date.parse(String(a.data.received_at ?? a.created_at)) || b.seq - a.seq),
      syncs: [...store.tables.mail_sync.values()].sort((a, b) => String(a.key).localeCompare(String(b.key))),
    }),
    // `version` moves whenever the store mutates its tables in place.
    [version, store],
  );

  const cols: Column<ProjectionRow>[] = [
    { key: 'from', label: 'From', width: 'minmax(10rem,1fr)', render: (r) => <span className={r.data.read ? '' : 'unread'}>{String(r.data.from ?? '')}</span> },
    {
      key: 'subject',
      label: 'Subject · snippet',
      width: 'minmax(16rem,3fr)',
      render: (r) => (
        <span className="mail-subject">
          <b className={r.data.read ? '' : 'unread'}>{String(r.data.subject ?? '(no subject)')}</b>
          <span className="muted"> — {String(r.data.snippet ?? '')}</span>
        </span>
      ),
    },
    { key: 'folder', label: 'Folder', width: '7rem', render: (r) => String(r.data.folder ?? 'INBOX') },
    { key: 'class', label: 'Classification', width: 'minmax(14rem,2fr)', render: (r) => <ClassCell c={r.data.classification as Classification | undefined} /> },
    { key: 'time', label: 'Received', width: '6rem', render: (r) => ago(now - Date.parse(String(r.data.received_at ?? r.created_at))) },
    {
      key: 'act',
      label: '',
      width: 'minmax(12rem,1.4fr)',
      render: (r) => {
        const a = store.rowActions.forKey(r.key);
        const busy = a !== undefined && (a.state === 'requested' || a.state === 'accepted' || a.state === 'delivered');
        return (
          <span className="mail-actions">
            <button type="button" className="row-action" disabled={!!denied || busy} title={denied ?? undefined} onClick={() => void ask(r, mailReadRequest(r, !r.data.read), r.data.read ? 'Mark unread' : 'Mark read')} data-testid="mail-read">
              {r.data.read ? 'Mark unread' : 'Mark read'}
            </button>
            <button
              type="button"
              className={`row-action star${r.data.starred ? ' on' : ''}`}
              disabled={!!denied || busy}
              title={denied ?? (r.data.starred ? 'Unstar' : 'Star')}
              aria-label={r.data.starred ? 'Unstar' : 'Star'}
              onClick={() => void ask(r, mailStarRequest(r, !r.data.starred), r.data.starred ? 'Unstar' : 'Star')}
              data-testid="mail-star"
            >
              {r.data.starred ? '★' : '☆'}
            </button>
            <RowEventActions row={r} compact what="mail" />
            {a && a.state !== 'completed' && (
              <span className={`action-state st-${a.state}`} title={`${a.label}: ${ACTION_TEXT[a.state]}${a.detail ? ` (${a.detail})` : ''}`} data-testid="action-state">
                {ACTION_TEXT[a.state]}
              </span>
            )}
          </span>
        );
      },
    },
  ];

  return (
    <section className="mail" data-testid="mail">
      <div className="sync-strip" data-testid="mail-sync">
        {syncs.length === 0 && <span className="muted">No mail sync reported yet.</span>}
        {syncs.map((s) => {
          const st = String(s.data.state ?? '');
          return (
            <div key={s.key} className={`sync sync-${st}`} role={st === 'error' ? 'alert' : undefined}>
              <b>{String(s.data.account ?? s.data.connection_id ?? 'default')}</b> {st === 'started' ? 'syncing…' : st === 'completed' ? `synced · ${String(s.data.new_count ?? 0)} new` : 'sync failed'}{' '}
              <span className="muted">{ago(now - Date.parse(String(s.data.at ?? s.updated_at)))} ago</span>
              {st === 'error' && (
                <div className="sync-error">
                  {String(s.data.error)}
                  {s.data.retry_in_s !== undefined && ` · retrying in ${String(s.data.retry_in_s)} s`}
                </div>
              )}
            </div>
          );
        })}
      </div>
      <SnapshotNotice field="mail" noun="messages" />
      {store.tableDropped.mail ? (
        <div className="muted" data-testid="mail-dropped">
          Showing the newest {store.tables.mail.size.toLocaleString()} messages; {store.tableDropped.mail.toLocaleString()} older ones left this window.
        </div>
      ) : null}
      <div className="pane pane-mail">
        <VirtualTable rows={mail} columns={cols} rowKey={(r) => r.key} rowHeight={44} label="Mail" testId="mail-list" empty="No mail yet." rowClass={(r) => (r.data.classification ? 'classified' : '')} />
      </div>
    </section>
  );
}

function ClassCell({ c }: { c: Classification | undefined }) {
  if (!c) return <span className="muted">classifying…</span>;
  return (
    <span title={c.summary}>
      <span className="chip">{c.category}</span> <span className={`chip prio-${c.priority}`}>{c.priority}</span> {c.summary && <span className="muted">{c.summary}</span>}
    </span>
  );
}
