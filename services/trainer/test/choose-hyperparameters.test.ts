import { syntheticImpressions } from '@fallback-ctr/clicklog';
import { type LabeledBatch, searchHyperparameters } from '@fallback-ctr/learn';
import { defaultFeatureSpec, RAW_COLUMNS } from '@fallback-ctr/model';
import { silentLogger } from '@fallback-ctr/runtime';
import { describe, expect, it, vi } from 'vitest';
import { loadTrainerConfig } from '../src/config.js';
import { chooseHyperparameters } from '../src/pipeline/choose-hyperparameters.js';

// The real search, watched: which rows and options its candidates were trained with.
vi.mock('@fallback-ctr/learn', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@fallback-ctr/learn')>();
  return { ...actual, searchHyperparameters: vi.fn(actual.searchHyperparameters) };
});

const rows = Array.from(
  syntheticImpressions({
    seed: 5,
    days: 2,
    impressionsPerDay: 15_000,
    start: new Date('2026-11-01T00:00:00Z'),
    churn: { adsPerDay: 100, freshTraffic: 0.15 },
  }),
);
const batch: LabeledBatch = {
  length: rows.length,
  columns: RAW_COLUMNS.map((c) => rows.map((r) => (r.impression[c] === undefined ? null : String(r.impression[c])))),
  contexts: rows.map((r) => r.impression.context),
  labels: Uint8Array.from(rows, (r) => (r.clickedAt ? 1 : 0)),
} as LabeledBatch;
const train = {
  rows: rows.length,
  read: () => ({
    batches: async function* () {
      yield batch;
    },
  }),
};

async function searchedWith(env: Record<string, string>) {
  vi.mocked(searchHyperparameters).mockClear();
  const config = loadTrainerConfig({ DATABASE_URL: 'x', MLFLOW_TRACKING_URI: 'http://m', FTRL_L2: '1', ...env });
  const result = await chooseHyperparameters(train as never, {
    featureSpec: defaultFeatureSpec,
    config,
    logger: silentLogger(),
  });
  const [searched, base] = vi.mocked(searchHyperparameters).mock.calls[0] ?? [];
  return { featurizer: searched?.lineage?.segments[0]?.featurizer, base, searched, result };
}

describe('the hyper-parameter search trains its candidates as the model will be trained', () => {
  it('with the vocabulary of TRAIN_MIN_VALUE_COUNT and the rare tokens of TRAIN_RARE_RATE', async () => {
    const cold = await searchedWith({ TRAIN_MIN_VALUE_COUNT: '5', TRAIN_RARE_RATE: '0.05' });
    expect(cold.base).toMatchObject({ rareRate: 0.05, missingRate: 0.02 });
    // Rare-token rows drawn per value, as the train stage draws them; its refit gets the same rows.
    expect(cold.base?.rareTokenDraws?.rareRate).toBe(0.05);
    expect(cold.result.rows?.batch).toBe(cold.searched);
    expect(cold.result.rows?.counts?.rareTokenDraws).toBe(cold.base?.rareTokenDraws);
    expect(cold.featurizer?.vocabulary?.minCount).toBe(5);
    // Values seen fewer than 5 times (the day's new ads among them) are not in it.
    const ads = cold.featurizer?.vocabulary?.fields.ad_id;
    expect(ads?.length).toBeGreaterThan(0);
    expect(ads?.length).toBeLessThan(new Set(rows.map((r) => r.impression.ad_id)).size);

    const off = await searchedWith({ TRAIN_MIN_VALUE_COUNT: '0', TRAIN_RARE_RATE: '0' });
    expect(off.base).toMatchObject({ rareRate: 0 });
    expect(off.base?.rareTokenDraws).toBeUndefined();
    expect(off.featurizer?.vocabulary).toBeUndefined();
  });
});
