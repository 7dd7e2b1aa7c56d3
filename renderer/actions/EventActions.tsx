import { useEffect, useRef, useState } from 'react';
import type { EventAction } from '../../shared/domains/action.ts';
import type { ProjectionRow } from '../../shared/state.ts';
import { useConsole } from '../app/context.ts';
import { hubCall } from '../app/connection.ts';
import { useSlices } from '../stream/store.ts';
import { ACTION_TEXT, actDenied, eventActionKey, eventActionRequest, rowActionSource, type ActionSource } from './row-actions.ts';

/**
 * The buttons a publisher attached to an event (the envelope's `actions`), wherever the event is
 * shown: a live-view row, a notification, and the state card or row the event last changed (its
 * `actions`, through `rowActionSource`). A click is an action request about the event; a `confirm`
 * question is asked first in a modal dialog (a row, a card or a notice is too small to hold it). How
 * far the request got is shown next to the buttons, in this window and in every other window that
 * sees the event (they learn of it from the action.* events on the stream); the event's live row
 * and the card it changed share that state, since both are keyed by the event.
 *
 * `run`: the id of an action to start at once, as if clicked (a desktop notification's button); a
 * confirmation is still asked. `what`: what a read-only token is told it can watch but not act on.
 */
export function EventActions({ source: ev, compact = false, run, what = 'events' }: { source: ActionSource; compact?: boolean; run?: string | null; what?: string }) {
  const { store, me, conn } = useConsole();
  useSlices(store, 'tables');
  const [confirming, setConfirming] = useState<EventAction | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);
  const actions = ev.actions ?? [];
  const denied = actDenied(me.role, what);
  const state = store.rowActions.forKey(eventActionKey(ev.seq));
  const busy = state !== undefined && (state.state === 'requested' || state.state === 'delivered' || state.state === 'accepted');

  const send = async (a: EventAction) => {
    setConfirming(null);
    const body = eventActionRequest(ev, a);
    const key = eventActionKey(ev.seq);
    store.noteAction({ action_id: body.action_id, key, label: a.label, state: 'requested', at: Date.now() });
    try {
      await hubCall(conn, 'requestAction', { body });
    } catch (err) {
      store.noteAction({ action_id: body.action_id, key, label: a.label, state: 'failed', detail: (err as Error).message, at: Date.now() });
    }
  };
  const press = (a: EventAction) => {
    if (denied || busy) return;
    if (a.confirm) setConfirming(a);
    else void send(a);
  };

  useEffect(() => {
    const d = dialog.current;
    if (confirming && d && !d.open) d.showModal();
  }, [confirming]);

  // Started from outside (a notification's button): once per id asked for.
  const started = useRef<string | null>(null);
  useEffect(() => {
    if (!run || started.current === run) return;
    started.current = run;
    const a = actions.find((x) => x.id === run);
    if (a) press(a);
  });

  if (!actions.length) return null;
  return (
    <div className={`event-actions${compact ? ' compact' : ''}`} data-testid="event-actions" onClick={(e) => e.stopPropagation()} onKeyDown={(e) => e.stopPropagation()}>
      {actions.map((a) => (
        <button
          key={a.id}
          type="button"
          className={`act act-${a.style ?? 'default'}`}
          disabled={!!denied || busy}
          title={denied ?? a.confirm ?? `${a.label} (${a.id})`}
          onClick={() => press(a)}
          data-testid="event-action"
          data-action={a.id}
        >
          {a.label}
        </button>
      ))}
      {state ? (
        <span className={`action-state st-${state.state}`} data-testid="event-action-state" role="status" title={state.detail}>
          {state.label}: {ACTION_TEXT[state.state]}
          {state.detail ? ` (${state.detail})` : ''}
        </span>
      ) : (
        denied && !compact && <span className="muted deny-reason">{denied}</span>
      )}
      {confirming && (
        <dialog ref={dialog} className="confirm-dialog" aria-label={`Confirm ${confirming.label}`} data-testid="confirm-action" onClose={() => setConfirming(null)}>
          <p>{confirming.confirm}</p>
          <p className="muted">
            {confirming.label} · <code>{confirming.id}</code> on <code>{ev.type}</code> #{ev.seq}
          </p>
          <div className="buttons">
            <button type="button" className={`act act-${confirming.style ?? 'default'}`} autoFocus onClick={() => void send(confirming)} data-testid="confirm-yes">
              {confirming.label}
            </button>
            <button type="button" onClick={() => dialog.current?.close()} data-testid="confirm-no">
              Don’t
            </button>
          </div>
        </dialog>
      )}
    </div>
  );
}

/**
 * The same buttons on a state card or row: those attached to the event that last changed the row
 * (its `actions`), nothing when it has none.
 */
export function RowEventActions({ row, compact = false, what }: { row: ProjectionRow; compact?: boolean; what: string }) {
  const source = rowActionSource(row);
  return source ? <EventActions source={source} compact={compact} what={what} /> : null;
}
