import { stateKinds, stateFields, stateViewOf, type StateField } from '../../shared/state.ts';
import { useConsole } from './context.ts';
import { useSlices } from '../stream/store.ts';

/**
 * Says so when the hub's snapshot carried fewer rows of a kind than exist in this window's scope (the
 * hub caps snapshots by rows, and by bytes when rows are large): how many this window holds now, of how many the hub last said it has. Older
 * rows join the window when an event changes them.
 */
export function SnapshotNotice({ field, noun }: { field: StateField; noun: string }) {
  const { store } = useConsole();
  useSlices(store, 'tables');
  const counts = store.snapshotCounts;
  const total = store.cutTotals.total(field);
  if (!counts || total === null) return null;
  const kind = stateKinds.find((k) => stateFields[k] === field)!;
  const held = store.tables[kind].size;
  if (held >= total) return null;
  return (
    <div
      className="banner info"
      role="status"
      data-testid={`truncated-${field}`}
      title={`The others are not loaded in this window; GET /v1/state/${stateViewOf(field)} pages through all of them.`}
    >
      Showing {held.toLocaleString()} of {total.toLocaleString()} {noun}: the hub's snapshot carries the newest {counts[field].returned.toLocaleString()}
      {counts[field].truncated === 'bytes' ? ', as many as fit in its size limit,' : ','} and older ones appear here when they change.
    </div>
  );
}
