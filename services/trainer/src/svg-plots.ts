import type { ReliabilityBin } from '@fallback-ctr/learn';
import type { RocPoint } from './curves.js';

const W = 560;
const H = 440;
const M = { left: 70, right: 20, top: 40, bottom: 60 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

export interface Series<P> {
  label: string;
  color: string;
  points: P;
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const n = (v: number): string => (Math.round(v * 100) / 100).toString();
const tick = (v: number): string => (v === 0 ? '0' : v < 0.01 ? v.toExponential(1) : String(Number(v.toPrecision(2))));

interface Frame {
  x: (v: number) => number;
  y: (v: number) => number;
  parts: string[];
}

function frame(title: string, xLabel: string, yLabel: string, xMax: number, yMax: number): Frame {
  const x = (v: number) => M.left + (v / xMax) * PW;
  const y = (v: number) => M.top + PH - (v / yMax) * PH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<rect x="${M.left}" y="${M.top}" width="${PW}" height="${PH}" fill="none" stroke="#333"/>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const xv = (xMax * i) / 5;
    const yv = (yMax * i) / 5;
    parts.push(
      `<line x1="${n(x(xv))}" y1="${M.top}" x2="${n(x(xv))}" y2="${M.top + PH}" stroke="#e5e5e5"/>`,
      `<line x1="${M.left}" y1="${n(y(yv))}" x2="${M.left + PW}" y2="${n(y(yv))}" stroke="#e5e5e5"/>`,
      `<text x="${n(x(xv))}" y="${M.top + PH + 16}" text-anchor="middle">${tick(xv)}</text>`,
      `<text x="${M.left - 6}" y="${n(y(yv) + 4)}" text-anchor="end">${tick(yv)}</text>`,
    );
  }
  parts.push(
    `<text x="${M.left + PW / 2}" y="${H - 18}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(18 ${M.top + PH / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  return { x, y, parts };
}

function legend(parts: string[], entries: { label: string; color: string; dashed?: boolean }[]): void {
  entries.forEach((e, i) => {
    const ly = M.top + 16 + i * 18;
    parts.push(
      `<line x1="${M.left + 12}" y1="${ly - 4}" x2="${M.left + 36}" y2="${ly - 4}" stroke="${e.color}" stroke-width="2"${e.dashed ? ' stroke-dasharray="4 3"' : ''}/>`,
      `<text x="${M.left + 42}" y="${ly}">${esc(e.label)}</text>`,
    );
  });
}

function polyline(points: [number, number][], color: string, dashed = false): string {
  const d = points.map(([px, py]) => `${n(px)},${n(py)}`).join(' ');
  return `<polyline points="${d}" fill="none" stroke="${color}" stroke-width="2"${dashed ? ' stroke-dasharray="4 3"' : ''}/>`;
}

/**
 * Reliability (calibration) diagram: observed click rate against mean prediction per bin, with the
 * diagonal of perfect calibration; marker area grows with the bin's row count.
 */
export function reliabilityDiagramSvg(title: string, series: Series<ReliabilityBin[]>[]): string {
  let top = 0;
  for (const s of series) for (const b of s.points) top = Math.max(top, b.meanPrediction, b.observedRate);
  top = top > 0 ? top * 1.1 : 1;
  const f = frame(title, 'mean predicted CTR', 'observed CTR', top, top);
  f.parts.push(
    polyline(
      [
        [f.x(0), f.y(0)],
        [f.x(top), f.y(top)],
      ],
      '#999',
      true,
    ),
  );
  const maxCount = Math.max(1, ...series.flatMap((s) => s.points.map((b) => b.count)));
  for (const s of series) {
    f.parts.push(
      polyline(
        s.points.map((b) => [f.x(b.meanPrediction), f.y(b.observedRate)]),
        s.color,
      ),
    );
    for (const b of s.points) {
      const r = 2 + 5 * Math.sqrt(b.count / maxCount);
      f.parts.push(
        `<circle cx="${n(f.x(b.meanPrediction))}" cy="${n(f.y(b.observedRate))}" r="${n(r)}" fill="${s.color}" fill-opacity="0.6"><title>${b.count} rows</title></circle>`,
      );
    }
  }
  legend(f.parts, [
    ...series.map((s) => ({ label: s.label, color: s.color })),
    { label: 'perfect calibration', color: '#999', dashed: true },
  ]);
  f.parts.push('</svg>');
  return f.parts.join('\n');
}

/** ROC curve(s) with the chance diagonal; labels carry the AUC. */
export function rocCurveSvg(title: string, series: Series<RocPoint[]>[]): string {
  const f = frame(title, 'false positive rate', 'true positive rate', 1, 1);
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
  for (const s of series)
    f.parts.push(
      polyline(
        s.points.map((p) => [f.x(p.fpr), f.y(p.tpr)]),
        s.color,
      ),
    );
  legend(f.parts, [
    ...series.map((s) => ({ label: s.label, color: s.color })),
    { label: 'chance', color: '#999', dashed: true },
  ]);
  f.parts.push('</svg>');
  return f.parts.join('\n');
}
