/** A hand-drawn SVG sparkline: no chart library, nothing to load, fixed cost per sample. */
export function Sparkline({ values, width = 240, height = 56, label }: { values: number[]; width?: number; height?: number; label: string }) {
  // Head-room above the peak so a flat series reads as steady, not as pinned at the maximum.
  const max = Math.max(1, ...values) * 1.25;
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const pts = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`).join(' ');
  return (
    <svg className="spark" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      <line x1="0" x2={width} y1={height - 1} y2={height - 1} className="axis" />
      {values.length > 1 && <polyline points={pts} className="line" fill="none" />}
      {values.length > 1 && <polygon points={`0,${height} ${pts} ${((values.length - 1) * step).toFixed(1)},${height}`} className="area" />}
    </svg>
  );
}
