import { useRef, type ReactNode } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';

export interface Column<T> {
  key: string;
  label: string;
  /** CSS grid track, e.g. '8rem' or '1fr'. */
  width: string;
  render(row: T): ReactNode;
  className?: string;
}

/**
 * A table that only mounts the rows in view: thousands of trading orders or live events cost the
 * same as fifty. Rows have a fixed height so scrolling never measures the DOM.
 */
export function VirtualTable<T>({
  rows,
  columns,
  rowKey,
  rowHeight = 34,
  testId,
  label,
  selected,
  onSelect,
  rowClass,
  scrollRef,
  onScroll,
  empty,
}: {
  rows: readonly T[];
  columns: Column<T>[];
  rowKey(row: T): string;
  rowHeight?: number;
  testId?: string;
  label: string;
  selected?: string | null;
  onSelect?(row: T, index: number): void;
  rowClass?(row: T): string;
  scrollRef?: React.RefObject<HTMLDivElement | null>;
  onScroll?(el: HTMLDivElement): void;
  empty?: ReactNode;
}) {
  const own = useRef<HTMLDivElement | null>(null);
  const ref = scrollRef ?? own;
  const v = useVirtualizer({ count: rows.length, getScrollElement: () => ref.current, estimateSize: () => rowHeight, overscan: 12 });
  const grid = columns.map((c) => c.width).join(' ');
  return (
    <div className="vtable" role="table" aria-label={label} aria-rowcount={rows.length} data-testid={testId}>
      <div className="vrow vhead" role="row" style={{ gridTemplateColumns: grid }}>
        {columns.map((c) => (
          <div key={c.key} role="columnheader" className={c.className}>
            {c.label}
          </div>
        ))}
      </div>
      <div className="vbody" ref={ref} onScroll={(e) => onScroll?.(e.currentTarget)}>
        {rows.length === 0 && empty ? <div className="empty">{empty}</div> : null}
        <div style={{ height: v.getTotalSize(), position: 'relative' }}>
          {v.getVirtualItems().map((vi) => {
            const row = rows[vi.index]!;
            const key = rowKey(row);
            return (
              <div
                key={key}
                role="row"
                aria-rowindex={vi.index + 1}
                aria-selected={selected === key}
                data-key={key}
                className={`vrow${selected === key ? ' selected' : ''}${rowClass ? ' ' + rowClass(row) : ''}`}
                style={{ gridTemplateColumns: grid, height: rowHeight, transform: `translateY(${vi.start}px)` }}
                onClick={() => onSelect?.(row, vi.index)}
              >
                {columns.map((c) => (
                  <div key={c.key} role="cell" className={c.className}>
                    {c.render(row)}
                  </div>
                ))}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
