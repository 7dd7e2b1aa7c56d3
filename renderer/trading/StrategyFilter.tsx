import { useEffect, useRef, useState } from 'react';

/**
 * Multi-select by strategy. Nothing selected means all strategies; the choice is remembered by the
 * caller (localStorage) so a trader's desk opens the way they left it.
 */
export function StrategyFilter({ all, selected, onChange }: { all: string[]; selected: string[]; onChange(v: string[]): void }) {
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => {
      if (!box.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    return () => document.removeEventListener('mousedown', close);
  }, [open]);
  const toggle = (s: string) => onChange(selected.includes(s) ? selected.filter((x) => x !== s) : [...selected, s]);
  const label = selected.length === 0 ? 'All strategies' : `Strategies: ${selected.join(', ')}`;
  return (
    <div className="multiselect" ref={box} onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}>
      <button type="button" aria-haspopup="listbox" aria-expanded={open} onClick={() => setOpen(!open)} data-testid="strategy-filter">
        {label} ▾
      </button>
      {open && (
        <div className="menu" role="listbox" aria-multiselectable aria-label="Strategies">
          {all.length === 0 && <div className="muted">No strategies seen yet</div>}
          {all.map((s) => (
            <label key={s} className="check" role="option" aria-selected={selected.includes(s)}>
              <input type="checkbox" checked={selected.includes(s)} onChange={() => toggle(s)} data-testid={`strategy-${s}`} /> Strategy {s}
            </label>
          ))}
          <div className="menu-actions">
            <button type="button" onClick={() => onChange([])}>
              Show all
            </button>
            <button type="button" onClick={() => setOpen(false)}>
              Done
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
