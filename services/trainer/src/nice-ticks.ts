/**
 * Axis ticks a person can read: steps of 1, 2 or 5 × 10^k on a linear axis, and 1-2-5 per decade on a
 * log axis, each labelled with exactly as many decimals as its step needs (0.0125 steps do not occur;
 * 0.005 steps read 0.105, never 0.11).
 */
export interface Tick {
  value: number;
  label: string;
}

/** The 1-2-5 step that cuts `span` into about `count` parts. */
export function niceStep(span: number, count: number): number {
  const raw = (span > 0 ? span : 1) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const mantissa = raw / magnitude;
  return (mantissa <= 1 ? 1 : mantissa <= 2 ? 2 : mantissa <= 5 ? 5 : 10) * magnitude;
}

/** Decimals a multiple of `step` needs to be written exactly (0.005 → 3, 20 → 0). */
function decimalsOf(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

/** Thousands grouped, as many decimals as given: 12345 → "12,345". */
export function formatNumber(value: number, decimals = 0): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** Ticks from the first multiple of a nice step at or above `lo` up to `hi`. */
export function linearTicks(lo: number, hi: number, count = 5): Tick[] {
  const step = niceStep(hi - lo, count);
  const decimals = decimalsOf(step);
  const out: Tick[] = [];
  for (let i = Math.ceil(lo / step - 1e-9); i * step <= hi + step * 1e-9; i++) {
    const value = Number((i * step).toFixed(decimals));
    out.push({ value, label: formatNumber(value, decimals) });
  }
  return out;
}

/**
 * Ticks for a log axis from `lo` to `hi` (both > 0): 1, 2 and 5 of each decade when the range spans
 * few decades, only the powers of ten when it spans many.
 */
export function logTicks(lo: number, hi: number): Tick[] {
  const first = Math.floor(Math.log10(lo));
  const last = Math.ceil(Math.log10(hi));
  const mantissas = last - first <= 3 ? [1, 2, 5] : [1];
  const out: Tick[] = [];
  for (let e = first; e <= last; e++) {
    for (const m of mantissas) {
      const value = Number((m * 10 ** e).toPrecision(1));
      if (value < lo * (1 - 1e-9) || value > hi * (1 + 1e-9)) continue;
      out.push({ value, label: formatNumber(value, Math.max(0, -e)) });
    }
  }
  return out;
}
