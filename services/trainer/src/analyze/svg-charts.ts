/** Small, dependency-free SVG charts for the self-contained HTML report. */
import { linearTicks } from '../nice-ticks.js';

export const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const r2 = (v: number): string => String(Math.round(v * 100) / 100);

export interface Bar {
  label: string;
  value: number;
  /** Half-width of a whisker around the value (e.g. 2 standard errors). */
  err?: number;
  color: string;
}

/** Horizontal bars around a zero line (values may be negative), one row per item. */
export function barChart(opts: {
  id: string;
  title: string;
  xLabel: string;
  bars: readonly Bar[];
  width?: number;
}): string {
  const width = opts.width ?? 760;
  const rowH = 20;
  const left = 230;
  const right = 30;
  const top = 40;
  const bottom = 46;
  const height = top + bottom + Math.max(1, opts.bars.length) * rowH;
  let lo = 0;
  let hi = 0;
  for (const b of opts.bars) {
    lo = Math.min(lo, b.value - (b.err ?? 0));
    hi = Math.max(hi, b.value + (b.err ?? 0));
  }
  if (hi === lo) hi = lo + 1;
  const pad = (hi - lo) * 0.04;
  lo -= lo < 0 ? pad : 0;
  hi += pad;
  const pw = width - left - right;
  const x = (v: number) => left + ((v - lo) / (hi - lo)) * pw;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" data-chart="${esc(opts.id)}" role="img" aria-label="${esc(opts.title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<title>${esc(opts.title)}</title>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600">${esc(opts.title)}</text>`,
  ];
  for (const { value: t, label } of linearTicks(lo, hi, 6)) {
    parts.push(
      `<line x1="${r2(x(t))}" y1="${top}" x2="${r2(x(t))}" y2="${height - bottom}" stroke="${t === 0 ? '#555' : '#e3e3e3'}"/>`,
      `<text x="${r2(x(t))}" y="${height - bottom + 16}" text-anchor="middle" fill="#444">${label}</text>`,
    );
  }
  parts.push(
    `<text x="${left + pw / 2}" y="${height - 8}" text-anchor="middle" fill="#222">${esc(opts.xLabel)}</text>`,
  );
  opts.bars.forEach((b, i) => {
    const y = top + i * rowH;
    const x0 = x(Math.min(0, b.value));
    const x1 = x(Math.max(0, b.value));
    parts.push(
      `<text x="${left - 8}" y="${y + rowH / 2 + 4}" text-anchor="end">${esc(b.label)}</text>`,
      `<rect x="${r2(x0)}" y="${y + 3}" width="${r2(Math.max(1, x1 - x0))}" height="${rowH - 6}" fill="${b.color}"><title>${esc(`${b.label}: ${b.value.toPrecision(4)}${b.err ? ` ± ${b.err.toPrecision(2)}` : ''}`)}</title></rect>`,
    );
    if (b.err && b.err > 0) {
      const ym = y + rowH / 2;
      parts.push(
        `<line x1="${r2(x(b.value - b.err))}" y1="${ym}" x2="${r2(x(b.value + b.err))}" y2="${ym}" stroke="#222"/>`,
        `<line x1="${r2(x(b.value - b.err))}" y1="${ym - 4}" x2="${r2(x(b.value - b.err))}" y2="${ym + 4}" stroke="#222"/>`,
        `<line x1="${r2(x(b.value + b.err))}" y1="${ym - 4}" x2="${r2(x(b.value + b.err))}" y2="${ym + 4}" stroke="#222"/>`,
      );
    }
  });
  parts.push('</svg>');
  return parts.join('');
}

export interface Point {
  x: number;
  y: number;
  label: string;
  color: string;
}

/** A scatter plot with labelled points and both zero lines. */
export function scatterChart(opts: {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  points: readonly Point[];
  width?: number;
  height?: number;
  /** How many points get a text label (default 12). */
  maxLabels?: number;
}): string {
  const width = opts.width ?? 760;
  const height = opts.height ?? 460;
  const m = { left: 80, right: 30, top: 40, bottom: 50 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  let x0 = 0;
  let x1 = 0;
  let y0 = 0;
  let y1 = 0;
  for (const p of opts.points) {
    x0 = Math.min(x0, p.x);
    x1 = Math.max(x1, p.x);
    y0 = Math.min(y0, p.y);
    y1 = Math.max(y1, p.y);
  }
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) y1 = y0 + 1;
  const px = (x1 - x0) * 0.06;
  const py = (y1 - y0) * 0.06;
  x0 -= px;
  x1 += px;
  y0 -= py;
  y1 += py;
  const sx = (v: number) => m.left + ((v - x0) / (x1 - x0)) * pw;
  const sy = (v: number) => m.top + ph - ((v - y0) / (y1 - y0)) * ph;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" data-chart="${esc(opts.id)}" role="img" aria-label="${esc(opts.title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<title>${esc(opts.title)}</title>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600">${esc(opts.title)}</text>`,
    `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`,
  ];
  for (const { value: t, label } of linearTicks(x0, x1, 6)) {
    parts.push(
      `<line x1="${r2(sx(t))}" y1="${m.top}" x2="${r2(sx(t))}" y2="${m.top + ph}" stroke="${t === 0 ? '#555' : '#eee'}"/>`,
      `<text x="${r2(sx(t))}" y="${m.top + ph + 16}" text-anchor="middle" fill="#444">${label}</text>`,
    );
  }
  for (const { value: t, label } of linearTicks(y0, y1, 6)) {
    parts.push(
      `<line x1="${m.left}" y1="${r2(sy(t))}" x2="${m.left + pw}" y2="${r2(sy(t))}" stroke="${t === 0 ? '#555' : '#eee'}"/>`,
      `<text x="${m.left - 6}" y="${r2(sy(t) + 4)}" text-anchor="end" fill="#444">${label}</text>`,
    );
  }
  parts.push(
    `<text x="${m.left + pw / 2}" y="${height - 10}" text-anchor="middle" fill="#222">${esc(opts.xLabel)}</text>`,
    `<text x="16" y="${m.top + ph / 2}" text-anchor="middle" fill="#222" transform="rotate(-90 16 ${m.top + ph / 2})">${esc(opts.yLabel)}</text>`,
  );
  // Only the points furthest from the origin get a text label (the rest would overlap); all have a tooltip.
  const labelled = new Set(
    [...opts.points]
      .sort(
        (a, b) =>
          Math.abs(b.y) / (y1 - y0) + Math.abs(b.x) / (x1 - x0) - Math.abs(a.y) / (y1 - y0) - Math.abs(a.x) / (x1 - x0),
      )
      .slice(0, opts.maxLabels ?? 12),
  );
  for (const p of opts.points) {
    parts.push(
      `<circle cx="${r2(sx(p.x))}" cy="${r2(sy(p.y))}" r="5" fill="${p.color}" fill-opacity="0.85"><title>${esc(`${p.label}: ${p.y.toPrecision(3)} NE, ${Math.round(p.x)} ns`)}</title></circle>`,
    );
    if (labelled.has(p))
      parts.push(`<text x="${r2(sx(p.x) + 7)}" y="${r2(sy(p.y) - 6)}" fill="#333">${esc(p.label)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

export interface IntervalRow {
  label: string;
  value: number;
  low: number;
  high: number;
}

/** Point estimates with intervals on a shared axis from 0 (e.g. CTR with its Wilson interval). */
export function intervalChart(opts: {
  id: string;
  title: string;
  xLabel: string;
  rows: readonly IntervalRow[];
  reference?: number;
  width?: number;
}): string {
  const width = opts.width ?? 560;
  const rowH = 18;
  const left = 180;
  const right = 24;
  const top = 34;
  const bottom = 40;
  const height = top + bottom + Math.max(1, opts.rows.length) * rowH;
  let hi = opts.reference ?? 0;
  for (const r of opts.rows) hi = Math.max(hi, r.high);
  if (hi <= 0) hi = 1;
  hi *= 1.05;
  const pw = width - left - right;
  const x = (v: number) => left + (v / hi) * pw;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" data-chart="${esc(opts.id)}" role="img" aria-label="${esc(opts.title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<title>${esc(opts.title)}</title>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="13" font-weight="600">${esc(opts.title)}</text>`,
  ];
  for (const { value: t, label } of linearTicks(0, hi, 5)) {
    parts.push(
      `<line x1="${r2(x(t))}" y1="${top}" x2="${r2(x(t))}" y2="${height - bottom}" stroke="#eee"/>`,
      `<text x="${r2(x(t))}" y="${height - bottom + 14}" text-anchor="middle" fill="#444">${label}</text>`,
    );
  }
  if (opts.reference !== undefined) {
    parts.push(
      `<line x1="${r2(x(opts.reference))}" y1="${top - 4}" x2="${r2(x(opts.reference))}" y2="${height - bottom}" stroke="#c0392b" stroke-dasharray="4 3"/>`,
    );
  }
  parts.push(
    `<text x="${left + pw / 2}" y="${height - 8}" text-anchor="middle" fill="#222">${esc(opts.xLabel)}</text>`,
  );
  opts.rows.forEach((r, i) => {
    const y = top + i * rowH + rowH / 2;
    parts.push(
      `<text x="${left - 6}" y="${y + 4}" text-anchor="end">${esc(r.label)}</text>`,
      `<line x1="${r2(x(r.low))}" y1="${y}" x2="${r2(x(r.high))}" y2="${y}" stroke="#2c6fbb" stroke-width="2"/>`,
      `<circle cx="${r2(x(r.value))}" cy="${y}" r="3.5" fill="#1b4f8a"><title>${esc(`${r.label}: ${r.value.toPrecision(3)} [${r.low.toPrecision(3)}, ${r.high.toPrecision(3)}]`)}</title></circle>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
