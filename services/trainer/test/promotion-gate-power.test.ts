import { createPrng, metricEstimates, pairedEstimates, trainOnRows } from '@fallback-ctr/learn';
import {
  categoricalFields,
  createFeaturizer,
  type FeatureSpec,
  parseFeatureSpec,
  type RawImpression,
  sigmoid,
} from '@fallback-ctr/model';
import { describe, expect, it } from 'vitest';
import { loadTrainerConfig } from '../src/config.js';
import { decidePromotion, type GateMetrics } from '../src/promotion-gate.js';

/**
 * The gate's defaults on the size of log the issue names: 100k impressions at ~0.2 % CTR, split by
 * time as the trainer does (the last day of a week is the holdout: ~14k rows, ~28 clicks). A model
 * fitted to the real labels must be able to pass; one fitted to shuffled labels must never.
 */
const spec: FeatureSpec = parseFeatureSpec({
  version: 1,
  hashBits: 16,
  fields: categoricalFields('column', ['ad_id', 'slot_id', 'device_type', 'country']),
});
const thresholds = loadTrainerConfig({ DATABASE_URL: 'x', MLFLOW_TRACKING_URI: 'http://m' }).gate;
const ROWS = 100_000;
const HOLDOUT_FROM = Math.round((ROWS * 6) / 7);
const ftrl = { alpha: 0.5, beta: 1, l1: 0, l2: 1, passes: 3, hashBits: spec.hashBits };

interface Row {
  impression: RawImpression;
  label: number;
}

function simulateLog(seed: number): Row[] {
  const r = createPrng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const effects = (n: number, sd: number) => Array.from({ length: n }, () => sd * gauss());
  const fields = [
    { name: 'ad_id', effect: effects(100, 1) },
    { name: 'slot_id', effect: effects(20, 0.8) },
    { name: 'device_type', effect: effects(3, 0.5) },
    { name: 'country', effect: effects(10, 0.3) },
  ] as const;
  const drawn = Array.from({ length: ROWS }, () => fields.map((f) => Math.floor(r() ** 1.5 * f.effect.length)));
  const margins = drawn.map((values) => values.reduce((z, v, k) => z + fields[k]!.effect[v]!, 0));
  // The intercept that puts the log's CTR at 0.2 %, whatever effects were drawn.
  let lo = -20;
  let hi = 5;
  for (let k = 0; k < 50; k++) {
    const mid = (lo + hi) / 2;
    const ctr = margins.reduce((s, m) => s + sigmoid(mid + m), 0) / ROWS;
    if (ctr < 0.002) lo = mid;
    else hi = mid;
  }
  return drawn.map((values, i) => ({
    impression: Object.fromEntries(values.map((v, k) => [fields[k]!.name, `${fields[k]!.name}${v}`])),
    label: r() < sigmoid(lo + margins[i]!) ? 1 : 0,
  }));
}

async function fitAndScore(train: Row[], holdout: Row[]): Promise<Float64Array> {
  const featurizer = createFeaturizer(spec);
  const model = await trainOnRows(train, featurizer, ftrl);
  const buf = new Uint32Array(featurizer.maxIndices);
  return Float64Array.from(holdout, (row) => {
    const width = featurizer.featurize(row.impression, buf);
    return sigmoid(model.ftrl.margin(buf, 0, width));
  });
}

function gateMetrics(scores: Float64Array, labels: Uint8Array): GateMetrics {
  return metricEstimates(scores, labels);
}

function shuffledLabels(rows: Row[], seed: number): Row[] {
  const r = createPrng(seed);
  const labels = rows.map((row) => row.label);
  for (let i = labels.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [labels[i], labels[j]] = [labels[j]!, labels[i]!];
  }
  return rows.map((row, i) => ({ impression: row.impression, label: labels[i]! }));
}

const count = (rows: Row[]) => ({ rows: rows.length, clicks: rows.reduce((s, row) => s + row.label, 0) });

// CPU-bound (eleven 100k-row fits): ~15 s on an idle machine, minutes when the cores are shared.
describe('promotion gate defaults on a 100k-impression log at 0.2 % CTR', { timeout: 900_000 }, () => {
  it('passes a model fitted to the labels and never a model fitted to shuffled labels', async () => {
    const outcomes: { good: string; shuffled: string; holdoutClicks: number; reasons: string[] }[] = [];
    for (const seed of [1, 2, 3, 4, 5]) {
      const log = simulateLog(seed);
      const train = log.slice(0, HOLDOUT_FROM);
      const holdout = log.slice(HOLDOUT_FROM);
      const labels = Uint8Array.from(holdout, (row) => row.label);
      const training = count(train);
      expect(training.clicks / training.rows).toBeGreaterThan(0.0015);
      expect(training.clicks / training.rows).toBeLessThan(0.003);

      const good = decidePromotion({
        training,
        holdout: count(holdout),
        candidate: gateMetrics(await fitAndScore(train, holdout), labels),
        champion: null,
        thresholds,
      });
      const shuffled = decidePromotion({
        training,
        holdout: count(holdout),
        candidate: gateMetrics(await fitAndScore(shuffledLabels(train, seed), holdout), labels),
        champion: null,
        thresholds,
      });
      outcomes.push({
        good: good.outcome,
        shuffled: shuffled.outcome,
        holdoutClicks: count(holdout).clicks,
        reasons: good.reasons,
      });
    }
    expect(outcomes.map((o) => o.shuffled)).toEqual(['FAIL', 'FAIL', 'FAIL', 'FAIL', 'FAIL']);
    // "Can pass": a world whose holdout draws few clicks may lack the evidence, and says so.
    const passed = outcomes.filter((o) => o.good === 'PASS').length;
    expect(passed, JSON.stringify(outcomes)).toBeGreaterThanOrEqual(4);
  });

  it('keeps a retrained model of the same quality against its champion, and rejects a shuffled one', async () => {
    const log = simulateLog(11);
    const holdout = log.slice(HOLDOUT_FROM);
    const labels = Uint8Array.from(holdout, (row) => row.label);
    const firstHalf = log.slice(0, HOLDOUT_FROM);
    // The champion saw the same week minus its last day; the candidate all of it.
    const champion = await fitAndScore(firstHalf.slice(0, Math.round(firstHalf.length * 0.85)), holdout);
    const candidate = await fitAndScore(firstHalf, holdout);
    const shuffled = await fitAndScore(shuffledLabels(firstHalf, 11), holdout);
    const decide = (scores: Float64Array) =>
      decidePromotion({
        training: count(firstHalf),
        holdout: count(holdout),
        candidate: gateMetrics(scores, labels),
        champion: {
          version: '1',
          metrics: gateMetrics(champion, labels),
          difference: pairedEstimates(scores, champion, labels),
        },
        thresholds,
      });
    const kept = decide(candidate);
    expect(kept.outcome, JSON.stringify(kept.checks, null, 1)).toBe('PASS');
    const worse = decide(shuffled);
    expect(worse.outcome).toBe('FAIL');
    expect(worse.checks.find((c) => c.name === 'auc_vs_champion')?.outcome).toBe('FAIL');
  });
});
