/** Quantile of a Prometheus histogram from /metrics text (upper bound of the bucket that holds it). */
export function histogramQuantile(metrics: string, name: string, q: number): number {
  const buckets = [...metrics.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)`, 'gm'))].map((m) => ({ le: m[1] === '+Inf' ? Infinity : Number(m[1]), n: Number(m[2]) }));
  const total = buckets.at(-1)?.n ?? 0;
  if (!total) return NaN;
  return buckets.find((b) => b.n >= q * total)!.le * 1000;
}
