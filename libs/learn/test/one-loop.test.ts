import { createFeaturizer, defaultFeatureSpec, parseFeatureSpec, RAW_COLUMNS } from '@fallback-ctr/model';
import { describe, expect, it } from 'vitest';
import {
  appendColumns,
  FeaturizedBatchBuilder,
  FTRL_DEFAULTS,
  featurizeBatches,
  featurizeRows,
  type LabeledBatch,
  type LabeledImpression,
  parseTrainOptions,
  selectColumns,
  trainOnBatch,
  trainOnBatches,
  trainOnFeaturizedRows,
  trainOnRows,
  ValueCounter,
} from '../src/index.js';
import { syntheticRows } from './support/synthetic.js';

const rows = Array.from(syntheticRows({ rows: 12_000, seed: 9 }));
const featurizer = createFeaturizer(defaultFeatureSpec);
const same = (a: Float64Array, b: Float64Array) => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));

/** The rows by column, in batches of `size`, as the click-log reader hands them over. */
function toBatches(source: readonly LabeledImpression[], size: number): LabeledBatch[] {
  const out: LabeledBatch[] = [];
  for (let start = 0; start < source.length; start += size) {
    const part = source.slice(start, start + size);
    out.push({
      length: part.length,
      labels: Uint8Array.from(part, (r) => r.label),
      servedAtMs: Float64Array.from(part, (r, i) => r.servedAt?.getTime() ?? start + i),
      columns: RAW_COLUMNS.map((c) => part.map((r) => r.impression[c] ?? null)),
      contexts: part.map((r) => r.impression.context),
    });
  }
  return out;
}

describe('one training loop', () => {
  it("trains column batches exactly as it trains the rows as objects (the reader's batch path)", async () => {
    const opts = { hashBits: 20, passes: 2, negativeSamplingRate: 0.5, seed: 3, missingRate: 0.05, rareRate: 0.03 };
    const batches = toBatches(rows, 1_000);
    const fromBatches = await trainOnBatches(() => batches, featurizer, opts);
    const fromRows = await trainOnRows(() => rows, featurizer, opts);
    expect(same(fromBatches.ftrl.weights(), fromRows.ftrl.weights())).toBe(true);
    expect(fromBatches.ftrl.bias()).toBe(fromRows.ftrl.bias());
    expect(fromBatches.passes).toEqual(fromRows.passes);
    const featurized = await featurizeBatches(batches, featurizer);
    const featurizedRows = await featurizeRows(rows, featurizer);
    expect(featurized.indices).toEqual(featurizedRows.indices);
    expect(featurized.labels).toEqual(featurizedRows.labels);
  });

  it('with negatives sampled upstream, draws nothing and keeps the rate for re-calibration', async () => {
    const rate = 0.25;
    const kept = rows.filter((r, i) => r.label === 1 || i % 4 === 0);
    const upstream = await trainOnBatches(toBatches(kept, 2_000), featurizer, {
      hashBits: 20,
      negativeSamplingRate: rate,
      negativesSampledUpstream: true,
    });
    const asGiven = await trainOnRows(kept, featurizer, { hashBits: 20 });
    // Every row it was given was learned (no second draw), the model is that of the rows as given...
    expect(upstream.passes[0]!.rows).toBe(kept.length);
    expect(same(upstream.ftrl.weights(), asGiven.ftrl.weights())).toBe(true);
    // ...and the rate travels to the artifact, where the scorer re-calibrates by it.
    expect(upstream.options.negativeSamplingRate).toBe(rate);
  });

  it('trains a batch with missingRate and rareRate exactly as it trains the raw rows (analyze = run)', async () => {
    const opts = { hashBits: 20, passes: 2, negativeSamplingRate: 0.5, seed: 3, missingRate: 0.05, rareRate: 0.03 };
    const batch = await featurizeRows(rows, featurizer);
    const fromBatch = trainOnBatch(batch, opts);
    const fromRows = await trainOnRows(() => rows, featurizer, opts);
    expect(same(fromBatch.ftrl.weights(), fromRows.ftrl.weights())).toBe(true);
    expect(fromBatch.ftrl.bias()).toBe(fromRows.ftrl.bias());
    expect(fromBatch.passes).toEqual(fromRows.passes);
    // The overrides change the model: missingRate is no longer ignored by the batch path.
    const plain = trainOnBatch(batch, { ...opts, missingRate: 0, rareRate: 0 });
    expect(same(plain.ftrl.weights(), fromBatch.ftrl.weights())).toBe(false);
  });

  it('draws rare-token rows per value the same way in every entry point, and differently from per impression', async () => {
    const counter = new ValueCounter(featurizer);
    for (const r of rows) counter.add(r.impression);
    const withVocabulary = createFeaturizer(defaultFeatureSpec, { vocabulary: counter.vocabulary(5) });
    const opts = {
      hashBits: 20,
      passes: 2,
      seed: 3,
      missingRate: 0.02,
      rareRate: 0.05,
      rareTokenDraws: counter.rareTokenDraws(5, 0.05),
    };
    const fromBatch = trainOnBatch(await featurizeRows(rows, withVocabulary), opts);
    const fromRows = await trainOnRows(() => rows, withVocabulary, opts);
    const fromBatches = await trainOnBatches(() => toBatches(rows, 1_000), withVocabulary, opts);
    expect(same(fromBatch.ftrl.weights(), fromRows.ftrl.weights())).toBe(true);
    expect(same(fromBatches.ftrl.weights(), fromRows.ftrl.weights())).toBe(true);
    const { rareTokenDraws: _perValue, ...perImpression } = opts;
    expect(
      same(
        trainOnBatch(await featurizeRows(rows, withVocabulary), perImpression).ftrl.weights(),
        fromBatch.ftrl.weights(),
      ),
    ).toBe(false);
    // Counted over other fields than the rows have: refused.
    const fieldsOnly = createFeaturizer(
      parseFeatureSpec({ ...defaultFeatureSpec, fields: defaultFeatureSpec.fields.slice(0, 3), crosses: [] }),
    );
    await expect(trainOnRows(rows, fieldsOnly, opts)).rejects.toMatchObject({ code: 'LEARN_OPTIONS_INVALID' });
  });

  it('keeps lineage through selectColumns and appendColumns: a column subset trains like a smaller spec', async () => {
    const opts = { hashBits: 20, seed: 1, missingRate: 0.1 };
    const batch = await featurizeRows(rows, featurizer);
    const nf = defaultFeatureSpec.fields.length;
    // Fields only (no crosses), as a spec of its own and as a column subset of the full batch.
    const fieldsOnly = parseFeatureSpec({ ...defaultFeatureSpec, crosses: [] });
    const subset = selectColumns(
      batch,
      Array.from({ length: nf }, (_, i) => i),
    );
    const viaSubset = trainOnBatch(subset, opts);
    const viaSpec = await trainOnRows(rows, createFeaturizer(fieldsOnly), opts);
    expect(same(viaSubset.ftrl.weights(), viaSpec.ftrl.weights())).toBe(true);
    // Appending the crosses back gives the full model.
    const crosses = selectColumns(
      batch,
      defaultFeatureSpec.crosses.map((_, j) => nf + j),
    );
    const full = trainOnBatch(appendColumns(subset, crosses), opts);
    expect(same(full.ftrl.weights(), trainOnBatch(batch, opts).ftrl.weights())).toBe(true);
  });

  it('refuses field overrides where rows cannot be featurised again, naming the way out', async () => {
    const batch = await featurizeRows(rows.slice(0, 100), featurizer);
    const { lineage: _dropped, ...bare } = batch;
    expect(() => trainOnBatch(bare, { hashBits: 20, missingRate: 0.1 })).toThrow(/FeaturizedBatchBuilder/);
    await expect(
      trainOnFeaturizedRows([{ indices: new Uint32Array(20), label: 0 }], { hashBits: 20, rareRate: 0.1 }),
    ).rejects.toMatchObject({ code: 'LEARN_OPTIONS_INVALID' });
    expect(() => parseTrainOptions({ hashBits: 20, missingRate: 0.3, rareRate: 0.3 })).toThrow(/at most 0.5/);
  });

  it('reads the FTRL defaults from one exported place', () => {
    const o = parseTrainOptions({ hashBits: 20 });
    expect({ alpha: o.alpha, beta: o.beta, l1: o.l1, l2: o.l2 }).toEqual({ ...FTRL_DEFAULTS });
    expect(new FeaturizedBatchBuilder(featurizer).rows).toBe(0);
  });
});
