import { describe, expect, it } from 'vitest';
import { rocCurve } from '../src/curves.js';
import { svgToPng } from '../src/png.js';
import { reliabilityDiagramSvg, rocCurveSvg } from '../src/svg-plots.js';

describe('rocCurve', () => {
  it('runs from (0,0) to (1,1) and hugs the top-left corner when the scores separate the classes', () => {
    const roc = rocCurve([0.9, 0.8, 0.3, 0.2], [1, 1, 0, 0]);
    expect(roc[0]).toEqual({ fpr: 0, tpr: 0 });
    expect(roc).toContainEqual({ fpr: 0, tpr: 1 });
    expect(roc.at(-1)).toEqual({ fpr: 1, tpr: 1 });
  });

  it('groups tied scores into one step', () => {
    const roc = rocCurve([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0]);
    expect(roc).toEqual([
      { fpr: 0, tpr: 0 },
      { fpr: 1, tpr: 1 },
    ]);
  });

  it('thins long curves but keeps both ends and stays monotone', () => {
    const n = 20_000;
    const scores = Array.from({ length: n }, (_, i) => (i * 7919) % n);
    const labels = scores.map((s) => (s % 3 === 0 ? 1 : 0));
    const roc = rocCurve(scores, labels, 100);
    expect(roc).toHaveLength(100);
    expect(roc[0]).toEqual({ fpr: 0, tpr: 0 });
    expect(roc.at(-1)).toEqual({ fpr: 1, tpr: 1 });
    for (let i = 1; i < roc.length; i++) {
      expect(roc[i]!.fpr).toBeGreaterThanOrEqual(roc[i - 1]!.fpr);
      expect(roc[i]!.tpr).toBeGreaterThanOrEqual(roc[i - 1]!.tpr);
    }
  });

  it('degenerates to the diagonal with one class only', () => {
    expect(rocCurve([0.1, 0.2], [0, 0])).toEqual([
      { fpr: 0, tpr: 0 },
      { fpr: 1, tpr: 1 },
    ]);
  });
});

describe('SVG and PNG plots', () => {
  const bins = [
    { minPrediction: 0, maxPrediction: 0.01, count: 100, meanPrediction: 0.005, observedRate: 0.006 },
    { minPrediction: 0.01, maxPrediction: 0.05, count: 50, meanPrediction: 0.03, observedRate: 0.025 },
  ];

  it('draws a reliability diagram with one marker per bin, a diagonal and an escaped legend', () => {
    const svg = reliabilityDiagramSvg('Reliability <holdout>', [{ label: 'a & b', color: '#123456', points: bins }]);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    expect(svg.match(/<circle /g)).toHaveLength(2);
    expect(svg).toContain('2 bins of 50–100 impressions');
    expect(svg).toContain('Reliability &lt;holdout&gt;');
    expect(svg).toContain('a &amp; b');
    expect(svg).toContain('perfect calibration');
    expect(svg).not.toContain('NaN');
  });

  it('draws ROC curves with every point of every series', () => {
    const svg = rocCurveSvg('ROC', [
      { label: 'candidate', color: '#1f77b4', points: rocCurve([0.9, 0.1, 0.8, 0.3], [1, 0, 0, 1]) },
      { label: 'champion', color: '#ff7f0e', points: rocCurve([0.9, 0.1, 0.8, 0.3], [1, 0, 1, 0]) },
    ]);
    const polylines = svg.match(/<polyline points="[^"]*"/g) ?? [];
    expect(polylines).toHaveLength(3); // chance diagonal + two series
    expect(polylines[1]!.replace('<polyline points="', '').split(' ')).toHaveLength(5);
  });

  it('renders a PNG without native dependencies', async () => {
    const { png } = await svgToPng(rocCurveSvg('ROC', [{ label: 'x', color: '#000', points: [] }]), 1);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBe(640); // IHDR width
    expect(png.readUInt32BE(20)).toBe(520); // IHDR height
  });
});

describe('axes of the reliability diagram', () => {
  const tickLabels = (svg: string) =>
    [...svg.matchAll(/<text x="[\d.]+" y="[\d.]+" text-anchor="(?:middle|end)">([^<]*)<\/text>/g)].map((m) => m[1]);
  const bin = (meanPrediction: number, observedRate: number, count = 1000) => ({
    minPrediction: meanPrediction,
    maxPrediction: meanPrediction,
    count,
    meanPrediction,
    observedRate,
  });

  it('uses a log axis with 1-2-5 ticks when the CTRs span more than a decade', () => {
    const svg = reliabilityDiagramSvg('r', [
      { label: 'c', color: '#000', points: [bin(0.004, 0.005), bin(0.02, 0.018), bin(0.15, 0.16)] },
    ]);
    expect(svg).toContain('mean predicted CTR (log scale)');
    expect(tickLabels(svg)).toEqual(expect.arrayContaining(['0.002', '0.005', '0.01', '0.02', '0.05', '0.1', '0.2']));
  });

  it('labels linear ticks with the decimals their step needs, never rounded to two digits', () => {
    const svg = reliabilityDiagramSvg('r', [
      { label: 'c', color: '#000', points: [bin(0.1, 0.11), bin(0.104, 0.108)] },
    ]);
    expect(svg).not.toContain('(log scale)');
    const values = [...new Set(tickLabels(svg))].map(Number).filter((v) => !Number.isNaN(v));
    const step = values[1]! - values[0]!;
    expect(values.length).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < values.length; i++) expect(values[i]! - values[i - 1]!).toBeCloseTo(step, 12);
  });

  it('puts the subtitle (the holdout) under the title', () => {
    const svg = rocCurveSvg('ROC', [], { subtitle: 'holdout: 12,000 impressions' });
    expect(svg).toContain('holdout: 12,000 impressions');
  });
});
