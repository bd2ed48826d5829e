import type { ReliabilityBin } from '@fallback-ctr/learn';
import { wilsonInterval } from './analyze/wilson-interval.js';
import type { RocPoint } from './curves.js';
import { formatNumber, linearTicks, logTicks, niceStep, type Tick } from './nice-ticks.js';

const W = 640;
const H = 520;
const M = { left: 76, right: 24, top: 62, bottom: 78 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

export interface Series<P> {
  label: string;
  color: string;
  points: P;
}

/** Text under the title, e.g. the holdout's size and period. */
export interface PlotOptions {
  subtitle?: string;
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const n = (v: number): string => (Math.round(v * 100) / 100).toString();

/** Maps a value of the domain to [0, 1] along an axis, with the ticks to draw. */
interface Scale {
  fraction(v: number): number;
  ticks: Tick[];
  lo: number;
  hi: number;
  log: boolean;
}

function linearScale(lo: number, hi: number): Scale {
  return { fraction: (v) => (v - lo) / (hi - lo), ticks: linearTicks(lo, hi, 5), lo, hi, log: false };
}

function logScale(lo: number, hi: number): Scale {
  const a = Math.log10(lo);
  const b = Math.log10(hi);
  return { fraction: (v) => (Math.log10(Math.max(v, lo)) - a) / (b - a), ticks: logTicks(lo, hi), lo, hi, log: true };
}

/** The largest 1-2-5 value at or below v (v > 0). */
function niceFloor(v: number): number {
  const e = Math.floor(Math.log10(v));
  const m = v / 10 ** e;
  return (m >= 5 ? 5 : m >= 2 ? 2 : 1) * 10 ** e;
}

/** The smallest 1-2-5 value at or above v (v > 0). */
function niceCeil(v: number): number {
  const e = Math.floor(Math.log10(v));
  const m = v / 10 ** e;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * 10 ** e;
}

/**
 * A CTR axis for the values given: log when they span more than a decade (CTRs crowd near zero on a
 * linear axis), linear from 0 otherwise.
 */
function ctrScale(values: readonly number[]): Scale {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  if (positive.length === 0) return linearScale(0, 1);
  const lo = Math.min(...positive);
  const hi = Math.max(...positive);
  if (hi / lo > 10) return logScale(niceFloor(lo), Math.min(1, niceCeil(hi)));
  const top = Math.min(1, hi * 1.1);
  return linearScale(0, Math.ceil(top / niceStep(top, 5)) * niceStep(top, 5));
}

interface Frame {
  x: (v: number) => number;
  y: (v: number) => number;
  parts: string[];
}

function frame(
  title: string,
  options: PlotOptions,
  axes: { x: Scale; y: Scale; xLabel: string; yLabel: string; footnote?: string },
): Frame {
  const x = (v: number) => M.left + axes.x.fraction(v) * PW;
  const y = (v: number) => M.top + PH - axes.y.fraction(v) * PH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  if (options.subtitle) {
    parts.push(`<text x="${W / 2}" y="42" text-anchor="middle" fill="#444">${esc(options.subtitle)}</text>`);
  }
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${PW}" height="${PH}" fill="none" stroke="#333"/>`);
  for (const t of axes.x.ticks) {
    parts.push(
      `<line x1="${n(x(t.value))}" y1="${M.top}" x2="${n(x(t.value))}" y2="${M.top + PH}" stroke="#e5e5e5"/>`,
      `<text x="${n(x(t.value))}" y="${M.top + PH + 16}" text-anchor="middle">${t.label}</text>`,
    );
  }
  for (const t of axes.y.ticks) {
    parts.push(
      `<line x1="${M.left}" y1="${n(y(t.value))}" x2="${M.left + PW}" y2="${n(y(t.value))}" stroke="#e5e5e5"/>`,
      `<text x="${M.left - 6}" y="${n(y(t.value) + 4)}" text-anchor="end">${t.label}</text>`,
    );
  }
  const scaleNote = (s: Scale) => (s.log ? ' (log scale)' : '');
  parts.push(
    `<text x="${M.left + PW / 2}" y="${M.top + PH + 38}" text-anchor="middle">${esc(axes.xLabel + scaleNote(axes.x))}</text>`,
    `<text transform="translate(18 ${M.top + PH / 2}) rotate(-90)" text-anchor="middle">${esc(axes.yLabel + scaleNote(axes.y))}</text>`,
  );
  if (axes.footnote) {
    parts.push(
      `<text x="${W / 2}" y="${H - 12}" text-anchor="middle" font-size="11" fill="#555">${esc(axes.footnote)}</text>`,
    );
  }
  return { x, y, parts };
}

/** A legend in the plot's empty corner: top-left above a diagonal, bottom-right below one. */
function legend(
  parts: string[],
  entries: { label: string; color: string; dashed?: boolean }[],
  corner: 'top-left' | 'bottom-right',
): void {
  const width = 12 + 7 * Math.max(...entries.map((e) => e.label.length)) + 36;
  const left = corner === 'top-left' ? M.left + 12 : M.left + PW - 12 - width;
  const top = corner === 'top-left' ? M.top + 16 : M.top + PH - 10 - entries.length * 18 + 14;
  entries.forEach((e, i) => {
    const ly = top + i * 18;
    parts.push(
      `<line x1="${n(left)}" y1="${ly - 4}" x2="${n(left + 24)}" y2="${ly - 4}" stroke="${e.color}" stroke-width="2"${e.dashed ? ' stroke-dasharray="4 3"' : ''}/>`,
      `<text x="${n(left + 30)}" y="${ly}">${esc(e.label)}</text>`,
    );
  });
}

/** Ends a plot: the legend (each series, then the dashed grey reference line) in `corner`, and the closing tag. */
function finish(
  f: Frame,
  series: readonly { label: string; color: string }[],
  reference: string,
  corner: 'top-left' | 'bottom-right',
): string {
  const entries = series.map((s) => ({ label: s.label, color: s.color }));
  legend(f.parts, [...entries, { label: reference, color: '#999', dashed: true }], corner);
  f.parts.push('</svg>');
  return f.parts.join('\n');
}

function polyline(points: [number, number][], color: string, dashed = false): string {
  const d = points.map(([px, py]) => `${n(px)},${n(py)}`).join(' ');
  return `<polyline points="${d}" fill="none" stroke="${color}" stroke-width="2"${dashed ? ' stroke-dasharray="4 3"' : ''}/>`;
}

/** "12 bins of 1,000 impressions each" (or "of 990–1,010 impressions"). */
function binCountNote(bins: readonly ReliabilityBin[]): string {
  if (bins.length === 0) return 'no bins';
  const counts = bins.map((b) => b.count);
  const lo = Math.min(...counts);
  const hi = Math.max(...counts);
  const size =
    lo === hi ? `${formatNumber(lo)} impressions each` : `${formatNumber(lo)}–${formatNumber(hi)} impressions`;
  return `${bins.length} bins of ${size}`;
}

/**
 * Reliability (calibration) diagram: observed click rate against mean prediction per bin (bins of
 * about equal impressions), with the diagonal of perfect calibration, each bin's 95% Wilson interval
 * and the bin sizes under the plot. Axes are logarithmic when the CTRs span more than a
 * decade, so low-CTR bins do not crowd into a corner.
 */
export function reliabilityDiagramSvg(
  title: string,
  series: Series<ReliabilityBin[]>[],
  options: PlotOptions = {},
): string {
  const withIntervals = series.map((s) => ({
    ...s,
    bins: s.points.map((b) => ({ ...b, interval: wilsonInterval(Math.round(b.observedRate * b.count), b.count) })),
  }));
  const values = withIntervals.flatMap((s) =>
    s.bins.flatMap((b) => [b.meanPrediction, b.observedRate, b.interval.low, b.interval.high]),
  );
  const scale = ctrScale(values);
  const f = frame(title, options, {
    x: scale,
    y: scale,
    xLabel: 'mean predicted CTR',
    yLabel: 'observed CTR',
    footnote: `${binCountNote(series[0]?.points ?? [])}; bars: 95% interval of the observed CTR`,
  });
  const clamp = (v: number) => Math.min(scale.hi, Math.max(scale.lo, v));
  f.parts.push(
    polyline(
      [
        [f.x(scale.lo), f.y(scale.lo)],
        [f.x(scale.hi), f.y(scale.hi)],
      ],
      '#999',
      true,
    ),
  );
  // The first series (the candidate) is drawn last, on top of a champion that scores the same.
  for (const s of [...withIntervals].reverse()) {
    f.parts.push(
      polyline(
        s.bins.map((b) => [f.x(clamp(b.meanPrediction)), f.y(clamp(b.observedRate))]),
        s.color,
      ),
    );
    for (const b of s.bins) {
      const cx = f.x(clamp(b.meanPrediction));
      const cy = f.y(clamp(b.observedRate));
      f.parts.push(
        `<line x1="${n(cx)}" y1="${n(f.y(clamp(b.interval.low)))}" x2="${n(cx)}" y2="${n(f.y(clamp(b.interval.high)))}" stroke="${s.color}" stroke-opacity="0.7"/>`,
        `<circle cx="${n(cx)}" cy="${n(cy)}" r="3.5" fill="${s.color}"><title>${formatNumber(b.count)} impressions, observed ${b.observedRate.toFixed(5)}, predicted ${b.meanPrediction.toFixed(5)}</title></circle>`,
      );
    }
  }
  return finish(f, series, 'perfect calibration', 'top-left');
}

/** ROC curve(s) with the chance diagonal; labels carry the AUC. */
export function rocCurveSvg(title: string, series: Series<RocPoint[]>[], options: PlotOptions = {}): string {
  const unit = linearScale(0, 1);
  const f = frame(title, options, { x: unit, y: unit, xLabel: 'false positive rate', yLabel: 'true positive rate' });
  f.parts.push(
    polyline(
      [
        [f.x(0), f.y(0)],
        [f.x(1), f.y(1)],
      ],
      '#999',
      true,
    ),
  );
  // The first series (the candidate) is drawn last, on top of a champion that scores the same.
  for (const s of [...series].reverse())
    f.parts.push(
      polyline(
        s.points.map((p) => [f.x(p.fpr), f.y(p.tpr)]),
        s.color,
      ),
    );
  return finish(f, series, 'chance', 'bottom-right');
}

/** One hour's live value with its standard error. */
export interface HourPoint {
  hour: Date;
  value: number;
  se: number;
}

/**
 * A live metric per hour (the monitor's calibration Σp/Σy): one line per model version, bars of ±2
 * standard errors, and the acceptable band shaded, so an hour whose whole bar leaves the band stands out.
 */
export function liveCalibrationSvg(
  title: string,
  series: Series<HourPoint[]>[],
  band: { min: number; max: number },
  options: PlotOptions = {},
): string {
  const points = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.value));
  const times = points.map((p) => p.hour.getTime());
  const t0 = times.length > 0 ? Math.min(...times) : 0;
  const t1 = times.length > 0 ? Math.max(...times) : 1;
  const span = Math.max(t1 - t0, 3_600_000);
  const step = Math.max(1, Math.ceil(span / 3_600_000 / 8)) * 3_600_000;
  const ticks: Tick[] = [];
  for (let t = t0; t <= t0 + span; t += step) {
    ticks.push({ value: t, label: `${new Date(t).toISOString().slice(5, 13).replace('T', ' ')}h` });
  }
  const x: Scale = { fraction: (v) => (v - t0) / span, ticks, lo: t0, hi: t0 + span, log: false };
  const bars = points.flatMap((p) => (Number.isFinite(p.se) ? [p.value - 2 * p.se, p.value + 2 * p.se] : [p.value]));
  const hi = Math.max(band.max * 1.2, ...bars.filter(Number.isFinite));
  const lo = Math.max(0, Math.min(band.min * 0.8, ...bars.filter(Number.isFinite)));
  const y = linearScale(lo, hi);
  const f = frame(title, options, {
    x,
    y,
    xLabel: 'hour served (UTC)',
    yLabel: 'Σ predicted / Σ clicks',
    footnote: `shaded: the guard's band [${band.min}, ${band.max}]; bars: ±2 standard errors`,
  });
  const clamp = (v: number) => Math.min(hi, Math.max(lo, v));
  f.parts.push(
    `<rect x="${M.left}" y="${n(f.y(band.max))}" width="${PW}" height="${n(f.y(band.min) - f.y(band.max))}" fill="#2e7d32" fill-opacity="0.08"/>`,
    polyline(
      [
        [f.x(t0), f.y(1)],
        [f.x(t0 + span), f.y(1)],
      ],
      '#999',
      true,
    ),
  );
  for (const s of series) {
    const ok = s.points.filter((p) => Number.isFinite(p.value));
    f.parts.push(
      polyline(
        ok.map((p) => [f.x(p.hour.getTime()), f.y(clamp(p.value))]),
        s.color,
      ),
    );
    for (const p of ok) {
      const cx = f.x(p.hour.getTime());
      if (Number.isFinite(p.se)) {
        f.parts.push(
          `<line x1="${n(cx)}" y1="${n(f.y(clamp(p.value - 2 * p.se)))}" x2="${n(cx)}" y2="${n(f.y(clamp(p.value + 2 * p.se)))}" stroke="${s.color}" stroke-opacity="0.7"/>`,
        );
      }
      f.parts.push(
        `<circle cx="${n(cx)}" cy="${n(f.y(clamp(p.value)))}" r="3" fill="${s.color}"><title>${p.hour.toISOString()}: ${p.value.toFixed(4)} ± ${p.se.toFixed(4)}</title></circle>`,
      );
    }
  }
  return finish(f, series, 'calibrated (1)', 'top-left');
}
