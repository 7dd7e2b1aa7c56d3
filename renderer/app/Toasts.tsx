import { useConsole } from './context.ts';
import { useSlices } from '../stream/store.ts';

/** Bottom-right stack; trading batch summaries and un-suppressed order events land here. */
export function Toasts() {
  const { store } = useConsole();
  useSlices(store, 'toasts');
  return (
    <div className="toasts" aria-live="polite" data-testid="toasts">
      {store.toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.tone}`} role="status">
          <span>{t.text}</span>
          <button type="button" aria-label="Dismiss" onClick={() => store.dismissToast(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
