import { useConsole } from './context.ts';
import { useSlices } from '../stream/store.ts';

/**
 * A strip under the view, not an overlay: it takes its own room, so a toast never hides a card or a
 * row. At most three toasts; bursts are grouped (see ToastQueue).
 */
export function Toasts() {
  const { store } = useConsole();
  useSlices(store, 'toasts');
  if (!store.toasts.length) return <div className="toasts" aria-live="polite" data-testid="toasts" />;
  return (
    <div className="toasts" aria-live="polite" data-testid="toasts">
      {store.toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.tone}`} role="status" data-testid="toast">
          <span>{t.text}</span>
          {t.count > 1 && t.group !== 'overflow' && (
            <span className="chip" title={`${t.count} like this in the last seconds`}>
              ×{t.count}
            </span>
          )}
          <button type="button" aria-label="Dismiss" onClick={() => store.dismissToast(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
