import { stateViewOf, truncatedFields, type StateField } from '../../shared/state.ts';
import { useConsole } from './context.ts';
import { useSlices } from '../stream/store.ts';

/**
 * Says so when the hub's snapshot carried fewer rows of a kind than exist in this window's scope (the
 * hub caps snapshots). The numbers are the snapshot's: live events move both sides afterwards, and
 * the window cannot tell which of the rows it never received are still there.
 */
export function SnapshotNotice({ field, noun }: { field: StateField; noun: string }) {
  const { store } = useConsole();
  useSlices(store, 'tables');
  const counts = store.snapshotCounts;
  if (!counts || !truncatedFields(counts).includes(field)) return null;
  const c = counts[field];
  return (
    <div
      className="banner info"
      role="status"
      data-testid={`truncated-${field}`}
      title={`Older ones are not loaded in this window; GET /v1/state/${stateViewOf(field)} pages through all of them.`}
    >
      Showing the newest {c.returned.toLocaleString()} of {c.total.toLocaleString()} {noun} (the hub's snapshot limit).
    </div>
  );
}
