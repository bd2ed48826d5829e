import { syntheticImpressions } from '@fallback-ctr/clicklog';
import { FTRL_DEFAULTS, type LabeledBatch, searchHyperparameters } from '@fallback-ctr/learn';
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

    // TRAIN_SEARCH_MAX_ROWS bounds the search (its most recent rows); the whole part stays in memory for the refit.
    const capped = await searchedWith({
      TRAIN_MIN_VALUE_COUNT: '5',
      TRAIN_RARE_RATE: '0.05',
      TRAIN_SEARCH_MAX_ROWS: '10000',
    });
    expect(capped.result.rows?.complete).toBe(true);
    expect(capped.result.rows?.batch.rows).toBe(rows.length);
    expect(capped.searched?.rows).toBe(10_000);
    const whole = cold.result.rows?.batch;
    expect(Array.from(capped.searched?.indices ?? [])).toEqual(
      Array.from(whole?.indices.subarray((rows.length - 10_000) * whole.width) ?? []),
    );

    const off = await searchedWith({ TRAIN_MIN_VALUE_COUNT: '0', TRAIN_RARE_RATE: '0' });
    expect(off.base).toMatchObject({ rareRate: 0 });
    expect(off.base?.rareTokenDraws).toBeUndefined();
    expect(off.featurizer?.vocabulary).toBeUndefined();
  });
});

/** The first `n` rows of the fixture as a training part, with their labels replaced when `labels` is given. */
function firstRows(n: number, labels?: (row: number) => 0 | 1) {
  const part: LabeledBatch = {
    length: n,
    columns: batch.columns.map((column) => column.slice(0, n)),
    contexts: batch.contexts.slice(0, n),
    labels: labels ? Uint8Array.from({ length: n }, (_, r) => labels(r)) : Uint8Array.from(batch.labels).subarray(0, n),
  } as LabeledBatch;
  return {
    rows: n,
    read: () => ({
      batches: async function* () {
        yield part;
      },
    }),
  };
}

async function choose(part: ReturnType<typeof firstRows>, env: Record<string, string> = {}) {
  vi.mocked(searchHyperparameters).mockClear();
  const config = loadTrainerConfig({ DATABASE_URL: 'x', MLFLOW_TRACKING_URI: 'http://m', ...env });
  const { chosen } = await chooseHyperparameters(part as never, {
    featureSpec: defaultFeatureSpec,
    config,
    logger: silentLogger(),
  });
  return { chosen, searched: vi.mocked(searchHyperparameters).mock.calls.length > 0 };
}

describe('the search runs only when its validation slice can rank the candidates', () => {
  it('a training part of 2,000 rows (a 400-row validation slice) keeps the FTRL defaults and says why', async () => {
    const { chosen, searched } = await choose(firstRows(2_000));
    expect(searched).toBe(false);
    expect(chosen.search).toBeNull();
    expect(chosen.ftrl).toMatchObject(FTRL_DEFAULTS);
    expect(chosen.passes).toBe(1);
    expect(chosen.skipped).toMatch(/400 rows < TRAIN_SEARCH_MIN_VALIDATION_ROWS = 1,000/);
    // The same rows are searched once the minimum allows them: the guard, not the data, stopped it.
    const lowered = await choose(firstRows(2_000), {
      TRAIN_SEARCH_MIN_VALIDATION_ROWS: '400',
      TRAIN_SEARCH_MIN_VALIDATION_CLICKS: '1',
    });
    expect(lowered.searched).toBe(true);
    expect(lowered.chosen.skipped).toBeUndefined();
  });

  it('enough validation rows with too few clicks keep the defaults too', async () => {
    // 10,000 rows, a click every 100 rows before the validation slice and 2 clicks in it (2,000 rows).
    const part = firstRows(10_000, (r) => (r % (r < 8_000 ? 100 : 1_000) === 0 ? 1 : 0));
    const few = await choose(part);
    expect(few.searched).toBe(false);
    expect(few.chosen.skipped).toMatch(/2 clicks < TRAIN_SEARCH_MIN_VALIDATION_CLICKS = 3/);
    expect(few.chosen.skipped).not.toMatch(/ROWS/);
    expect((await choose(part, { TRAIN_SEARCH_MIN_VALIDATION_CLICKS: '2' })).searched).toBe(true);
  });
});
