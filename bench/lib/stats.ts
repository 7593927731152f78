/** Small numeric and table helpers for the benchmarks (no dependencies). */

export function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** Quantile q (0..1) of already-sorted values, linear interpolation between ranks. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function percentiles(values: number[]): { p50: number; p95: number; p99: number; count: number } {
  const s = Float64Array.from(values).sort();
  return { p50: quantileSorted(s, 0.5), p95: quantileSorted(s, 0.95), p99: quantileSorted(s, 0.99), count: s.length };
}

/** (a - b) / b, NaN when b is 0 or either side is missing. */
export function relDiff(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? (a - b) / b : Number.NaN;
}

export function fmt(n: number, digits = 2): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n.toFixed(digits);
}

/** Lowest–highest of per-round ratios, as the tables print them. */
export function fmtRange([lo, hi]: [number, number]): string {
  return `${fmt(lo, 2)}–${fmt(hi, 2)}`;
}

/** Bytes as MB (MiB), two decimals. */
export function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
}

/** Byte readings of several rounds as their median in MB and, with more than one, their range: `5.29 MB (5.13 MB–5.34 MB)`. */
export function mbSpread(values: readonly number[]): string {
  if (values.length <= 1) return mb(values[0]!);
  return `${mb(median([...values]))} (${mb(Math.min(...values))}–${mb(Math.max(...values))})`;
}

export function pct(fraction: number, digits = 1): string {
  if (!Number.isFinite(fraction)) return 'n/a';
  const s = (fraction * 100).toFixed(digits);
  return fraction > 0 ? `+${s}%` : `${s}%`;
}

export type Verdict = 'PASS' | 'FAIL' | 'n/a';

export function verdict(ok: boolean | undefined): Verdict {
  return ok === undefined ? 'n/a' : ok ? 'PASS' : 'FAIL';
}

/** A plain-text table with a header row; columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
