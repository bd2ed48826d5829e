import { TRUE_INTERACTIONS } from '@fallback-ctr/clicklog';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeFeatures } from '../../src/analyze/analyze-features.js';
import { combinedVerdict } from '../../src/analyze/combined-recommendation.js';
import { type FeatureReport, FeatureReportSchema } from '../../src/analyze/feature-report.js';
import { isRealGain } from '../../src/analyze/recommend.js';
import { renderHtml } from '../../src/analyze/render-html.js';
import { renderSummary } from '../../src/analyze/render-summary.js';
import {
  addIpField,
  IP_FIELD,
  NOISE_FIELD,
  specWithNoise,
  syntheticSplit,
  TRAINER_FTRL,
  withIpField,
} from './synthetic-fixture.js';

const key = (fields: readonly string[]) => [...fields].sort().join('|');
const TRUE_PAIRS = new Set(TRUE_INTERACTIONS.map((t) => key(t.fields)));

/**
 * The oracle, from the generator's truth: a cross of a true interaction pair lowers NE (+ gain); a
 * field or cross made of pure noise gains nothing (0); fields with a strong direct effect that no
 * other field carries lose NE when dropped (+).
 */
const ORACLE_FIELDS_THAT_MATTER = ['placement', 'ad_id', 'device_type', 'os'];

describe('analyzeFeatures on synthetic traffic with a known truth', () => {
  let report: FeatureReport;
  beforeAll(async () => {
    const { train, holdout } = syntheticSplit({ days: 2, perDay: 40_000, holdoutFraction: 0.25 });
    report = await analyzeFeatures({
      train,
      holdout,
      spec: specWithNoise,
      training: TRAINER_FTRL,
      options: {
        sampleRows: 60_000,
        holdoutRows: 20_000,
        candidateFields: 13,
        candidatePairs: 8,
        seed: 1,
        timingImpressions: 200,
        timingRounds: 5,
      },
    });
  }, 240_000);

  it('produces a report that satisfies its schema, with the oracle NE below the model NE', () => {
    expect(FeatureReportSchema.safeParse(report).success).toBe(true);
    expect(report.fields.map((f) => f.name)).toEqual(specWithNoise.fields.map((f) => f.name));
    expect(report.summary.trainSampleRows).toBe(60_000);
    expect(report.summary.holdoutSampleRows).toBe(20_000);
    expect(report.summary.oracleNe).not.toBeNull();
    expect(report.summary.oracleNe!).toBeLessThan(report.summary.fullNe);
    expect(report.summary.fullNe).toBeLessThan(1);
    // Clearly better than the training CTR predicted everywhere: nothing to warn about.
    expect(report.summary.fullVsConstant.delta).toBeLessThan(-2 * report.summary.fullVsConstant.se);
    expect(report.summary.caveat).toBeNull();
    expect(report.summary.modelsTrained).toBe(1 + 13 + 13 + specWithNoise.crosses.length + 8 + 1);
  });

  it('measures every true interaction as a cross and ranks each above every noise cross', () => {
    const truth = report.crosses.filter((c) => TRUE_PAIRS.has(key(c.fields)));
    expect(truth.map((c) => key(c.fields)).sort()).toEqual([...TRUE_PAIRS].sort());
    const noise = report.crosses.filter((c) => c.fields.includes(NOISE_FIELD));
    expect(noise.length).toBeGreaterThan(0);
    const worstTrue = Math.max(...truth.map((c) => c.rank));
    const bestNoise = Math.min(...noise.map((c) => c.rank));
    expect(worstTrue).toBeLessThan(bestNoise);
    // The screen, over all pairs, puts the true pairs above every pair with the noise field too.
    const screenRank = (fields: readonly string[]) =>
      report.screenedPairs.findIndex((p) => key(p.fields) === key(fields));
    const trueScreen = report.screenedPairs
      .filter((p) => TRUE_PAIRS.has(key(p.fields)))
      .map((p) => screenRank(p.fields));
    const noiseScreen = report.screenedPairs
      .filter((p) => p.fields.includes(NOISE_FIELD))
      .map((p) => screenRank(p.fields));
    expect(Math.max(...trueScreen)).toBeLessThan(Math.min(...noiseScreen));
  });

  it('recommends dropping the noise field (and its cross)', () => {
    const noiseField = report.fields.find((f) => f.name === NOISE_FIELD)!;
    expect(noiseField.recommendation).toBe('drop');
    const rec = report.recommendations.find((r) => r.target === 'field' && r.name === NOISE_FIELD);
    expect(rec?.action).toBe('drop');
    expect(Number.isFinite(rec?.costNs)).toBe(true);
    expect(report.crosses.find((c) => c.name === `${NOISE_FIELD}×ad_id`)?.recommendation).toBe('drop');
  });

  it('agrees in sign with the oracle on every NE delta the truth decides', () => {
    const thresholds = { minNeGain: report.settings.minNeGain, significanceZ: report.settings.significanceZ };
    for (const c of report.crosses) {
      if (TRUE_PAIRS.has(key(c.fields))) expect(c.neGain.delta, c.name).toBeGreaterThan(0);
      if (c.fields.includes(NOISE_FIELD)) expect(isRealGain(c.neGain, thresholds), c.name).toBe(false);
    }
    const noiseField = report.fields.find((f) => f.name === NOISE_FIELD)!;
    expect(isRealGain(noiseField.dropNeChange, thresholds)).toBe(false);
    expect(noiseField.singleFieldNe).toBeGreaterThan(0.995);
    for (const name of ORACLE_FIELDS_THAT_MATTER) {
      expect(report.fields.find((f) => f.name === name)!.dropNeChange.delta, name).toBeGreaterThan(0);
    }
    // The true pairs the spec lacks are found as candidates and recommended for adding.
    const found = report.crosses.filter((x) => x.origin === 'candidate' && TRUE_PAIRS.has(key(x.fields)));
    expect(found.map((c) => key(c.fields)).sort()).toEqual(
      [key(['placement', 'hour_of_day']), key(['site_category', 'country'])].sort(),
    );
    for (const c of found) expect(c.recommendation, c.name).toBe('add');
  });

  it('flags crosses that only repeat a field the generator nests the other in', () => {
    // In the generator an ad belongs to one campaign, a campaign to one advertiser, a slot to one
    // placement and one site category.
    const nested = new Map([
      [key(['ad_id', 'campaign_id']), 'ad_id'],
      [key(['ad_id', 'advertiser_id']), 'ad_id'],
      [key(['campaign_id', 'advertiser_id']), 'campaign_id'],
      [key(['slot_id', 'placement']), 'slot_id'],
      [key(['slot_id', 'site_category']), 'slot_id'],
    ]);
    expect(report.crosses.some((c) => c.nestedIn !== null)).toBe(true);
    for (const c of report.crosses) expect(c.nestedIn, c.name).toBe(nested.get(key(c.fields)) ?? null);
    for (const r of report.recommendations.filter((x) => x.target === 'cross' && nested.has(key(x.name.split('×'))))) {
      expect(r.reason).toContain('second copy');
    }
  });

  it('measures all drops and adds together as one spec', () => {
    const a = report.allRecommendationsApplied;
    const drops = report.recommendations.filter((r) => r.action === 'drop');
    expect(a.droppedFields.sort()).toEqual(
      drops
        .filter((r) => r.target === 'field')
        .map((r) => r.name)
        .sort(),
    );
    expect(a.droppedFields).toContain(NOISE_FIELD);
    expect(a.spec!.fields.map((f) => f.name)).not.toContain(NOISE_FIELD);
    for (const c of a.spec!.crosses) for (const f of c.fields) expect(a.droppedFields).not.toContain(f);
    const adds = report.recommendations.filter((r) => r.action === 'add').map((r) => r.name);
    for (const name of a.addedCrosses) expect(adds).toContain(name);
    // The fields of every added cross stay (e.g. country and site_category for their true interaction).
    for (const c of a.spec!.crosses) for (const f of c.fields) expect(a.spec!.fields.map((x) => x.name)).toContain(f);
    expect(a.addedCrosses.length).toBe(adds.length);
    expect(a.ne).toBeCloseTo(report.summary.fullNe + a.neChange.delta, 10);
    expect(a.neChange.se).toBeGreaterThan(0);
  });

  it('ranks recommendations: adds and drops first by NE change, every item of the spec covered', () => {
    const recs = report.recommendations;
    expect(recs.map((r) => r.rank)).toEqual(recs.map((_, i) => i + 1));
    const firstKeep = recs.findIndex((r) => r.action === 'keep');
    const actions = firstKeep < 0 ? recs : recs.slice(0, firstKeep);
    expect(actions.every((r) => r.action !== 'keep')).toBe(true);
    expect(recs.slice(actions.length).every((r) => r.action === 'keep')).toBe(true);
    for (let i = 1; i < actions.length; i++)
      expect(actions[i]!.neChange).toBeGreaterThanOrEqual(actions[i - 1]!.neChange);
    const specItems = specWithNoise.fields.length + specWithNoise.crosses.length;
    expect(recs.filter((r) => r.change === 'remove')).toHaveLength(specItems);
  });
});

describe('analyzeFeatures determinism and bounds', () => {
  it('gives the same numbers for the same data and seed, other numbers for another seed', async () => {
    const { train, holdout } = syntheticSplit({ days: 1, perDay: 12_000, holdoutFraction: 0.25, seed: 3 });
    const run = (seed: number) =>
      analyzeFeatures({
        train,
        holdout,
        spec: specWithNoise,
        training: TRAINER_FTRL,
        options: {
          sampleRows: 5_000,
          holdoutRows: 2_000,
          candidatePairs: 2,
          seed,
          timingImpressions: 50,
          timingRounds: 1,
        },
      });
    const strip = (r: FeatureReport) => ({
      fields: r.fields.map((f) => [f.name, f.singleFieldNe, f.dropNeChange, f.cardinality, f.topValues]),
      crosses: r.crosses.map((c) => [c.name, c.neGain]),
      screened: r.screenedPairs,
      ne: r.summary.fullNe,
    });
    const a = await run(1);
    const b = await run(1);
    const c = await run(2);
    expect(strip(b)).toEqual(strip(a));
    expect(strip(c).ne).not.toBe(strip(a).ne);
    expect(a.summary.trainRows).toBe(9_000);
    expect(a.summary.trainSampleRows).toBe(5_000);
    expect(a.summary.holdoutRows).toBe(3_000);
  }, 120_000);

  it('refuses a holdout without clicks with an actionable error', async () => {
    const rows = Array.from({ length: 200 }, (_, i) => ({
      label: i % 10 === 0 ? 1 : 0,
      impression: { ad_id: `a${i % 7}` },
    }));
    await expect(
      analyzeFeatures({
        train: rows,
        holdout: rows.map((r) => ({ ...r, label: 0 })),
        spec: specWithNoise,
        training: TRAINER_FTRL,
      }),
    ).rejects.toMatchObject({ code: 'TRAINER_NOT_ENOUGH_DATA' });
  });
});

describe('analyzeFeatures on a sample too small to learn from', () => {
  it('says plainly that the model is no better than the training CTR and why its NE is above 1', async () => {
    // 24,000 training rows, about 320 clicks (seed 5): the model learns nothing the holdout can measure, and
    // the holdout's CTR (1.7 %) is a quarter above the training sample's (1.3 %).
    const { train, holdout } = syntheticSplit({ days: 2, perDay: 16_000, holdoutFraction: 0.25, seed: 5 });
    const report = await analyzeFeatures({
      train,
      holdout,
      spec: specWithNoise,
      training: TRAINER_FTRL,
      options: { candidatePairs: 0, timingImpressions: 50, timingRounds: 1 },
    });
    const s = report.summary;
    expect(s.fullNe).toBeGreaterThan(1);
    expect(s.constantNe).toBeGreaterThan(1);
    expect(s.trainSampleClicks).toBe(train.reduce((n, r) => n + r.label, 0));
    expect(s.holdoutSampleClicks).toBe(holdout.reduce((n, r) => n + r.label, 0));
    expect(s.fullVsConstant.delta).toBeGreaterThan(-2 * s.fullVsConstant.se);
    expect(s.caveat).toMatch(/no better than predicting the training sample's CTR/);
    expect(s.caveat).toContain(`with ${s.trainSampleClicks} clicks to learn from`);
    expect(s.caveat).toMatch(/NE 1\.\d{4} is above 1: worse than the holdout's own CTR \(1\.\d\d %\)/);
    expect(renderSummary(report)).toContain(`Read this first: ${s.caveat}`);
    // No advice from a model that learned nothing: every change is noise around it.
    expect(report.allRecommendationsApplied.verdict).toBe('withheld');
    const changes = report.recommendations.filter((r) => r.action !== 'keep');
    expect(changes.length).toBeGreaterThan(0);
    for (const r of changes) expect(r.reason).toMatch(/Not a recommendation: the full model is no better than/);
    expect(renderHtml(report)).toContain('id="caveat"');
  }, 120_000);
});

describe('analyzeFeatures on a one-field spec', () => {
  it('measures dropping the only field against the base rate, and times no empty spec', async () => {
    const { train, holdout } = syntheticSplit({ days: 1, perDay: 8_000, holdoutFraction: 0.25, seed: 4 });
    const report = await analyzeFeatures({
      train,
      holdout,
      spec: {
        version: 1,
        hashBits: 14,
        hashSeed: 0,
        fields: [{ name: 'placement', source: 'column', kind: 'categorical' }],
        crosses: [],
      },
      training: TRAINER_FTRL,
      options: { timingImpressions: 50, timingRounds: 1 },
    });
    const f = report.fields[0]!;
    // Without the field: every holdout row predicted at the training CTR (all rows are in the sample).
    const ctr = train.reduce((n, r) => n + r.label, 0) / train.length;
    const hp = holdout.reduce((n, r) => n + r.label, 0) / holdout.length;
    const loss = holdout.reduce((n, r) => n - Math.log(r.label === 1 ? ctr : 1 - ctr), 0) / holdout.length;
    const constantNe = loss / -(hp * Math.log(hp) + (1 - hp) * Math.log(1 - hp));
    expect(f.dropNeChange.delta).toBeCloseTo(constantNe - report.summary.fullNe, 10);
    expect(f.dropNeChange.se).toBeGreaterThan(0);
    expect(f.dropCostNs).toBe(0);
    expect(report.crosses).toEqual([]);
    // Applying every recommendation leaves no spec exactly when the only field is to be dropped.
    expect(report.allRecommendationsApplied.spec === null).toBe(f.recommendation === 'drop');
  }, 60_000);
});

describe('analyzeFeatures flags ID-like fields', () => {
  it('flags a field whose distinct values come close to its impressions, and no other, whatever it advises', async () => {
    const { train, holdout } = syntheticSplit({ days: 1, perDay: 20_000, holdoutFraction: 0.25, seed: 6 });
    addIpField(train);
    addIpField(holdout, 12);
    const report = await analyzeFeatures({
      train,
      holdout,
      spec: withIpField(specWithNoise),
      training: TRAINER_FTRL,
      options: { sampleRows: 6_000, holdoutRows: 3_000, candidatePairs: 0, timingImpressions: 50, timingRounds: 1 },
    });
    const ip = report.fields.find((f) => f.name === IP_FIELD)!;
    expect(ip.idLike).toBe(true);
    expect(ip.distinctShare).toBeGreaterThan(0.4);
    expect(ip.distinctShare).toBeLessThan(0.6);
    // ad_id has thousands of values too, but each is seen many times in this window.
    for (const f of report.fields.filter((x) => x.name !== IP_FIELD)) expect(f.idLike, f.name).toBe(false);
    const rec = report.recommendations.find((r) => r.target === 'field' && r.name === IP_FIELD)!;
    expect(rec.reason).toMatch(/ID-like: [\d,]+ distinct values in 15,000 impressions \(\d+%/);
  }, 60_000);
});

describe('combinedVerdict', () => {
  const bar = { minNeGain: 0.0005, significanceZ: 2 };
  it('withholds a combination its own measurement shows worse than the bar, with the number', () => {
    const v = combinedVerdict({ delta: 0.004, se: 0.001 }, 3, bar);
    expect(v.verdict).toBe('withheld');
    expect(v.reason).toContain('+0.0040 ± 0.0010 NE');
    expect(v.reason).toContain('one at a time');
  });
  it('recommends it when the loss is within the bar (small, or within the noise), and says when nothing changes', () => {
    expect(combinedVerdict({ delta: 0.0004, se: 0.0001 }, 2, bar).verdict).toBe('apply');
    expect(combinedVerdict({ delta: 0.003, se: 0.002 }, 2, bar).verdict).toBe('apply');
    expect(combinedVerdict({ delta: -0.01, se: 0.001 }, 1, bar).verdict).toBe('apply');
    expect(combinedVerdict({ delta: 0, se: 0 }, 0, bar).verdict).toBe('no-change');
  });
});
