import {
  type FeaturizedBatch,
  FeaturizedBatchBuilder,
  FTRL_DEFAULTS,
  type LabeledImpression,
} from '@fallback-ctr/learn';
import { createFeaturizer, type FeatureSpec, parseFeatureSpec, type RawImpression } from '@fallback-ctr/model';
import { type Logger, silentLogger } from '@fallback-ctr/runtime';
import { TrainerError, TrainerErrorCode } from '../errors.js';
import { type AnalyzeOptions, type AnalyzeOptionsInput, AnalyzeOptionsSchema } from './analyze-options.js';
import { appendColumns, selectColumns } from './column-matrix.js';
import {
  type CrossReport,
  FEATURE_REPORT_VERSION,
  type FeatureReport,
  FeatureReportSchema,
  type FieldReport,
  type NeDelta,
} from './feature-report.js';
import { FieldProfiler } from './field-profile.js';
import {
  type AnalysisTrainOptions,
  constantFit,
  fitAndEvaluate,
  fitQuality,
  holdoutEntropy,
  type ModelFit,
  neOfPredictions,
  pairedNeDelta,
} from './model-fit.js';
import { screenCrosses } from './pair-screen.js';
import { type Candidate, isRealGain, recommend } from './recommend.js';
import { ReservoirSample } from './reservoir-sample.js';
import { type CostVariant, measureServingCost } from './serving-cost.js';

type Rows = Iterable<LabeledImpression> | AsyncIterable<LabeledImpression>;

export type AnalyzeStage = 'profile' | 'holdout' | 'models' | 'serving-cost' | 'done';

export interface AnalyzeProgress {
  stage: AnalyzeStage;
  done: number;
  /** Unknown (0) while streaming rows. */
  total: number;
  message: string;
}

export interface AnalyzeFeaturesInput {
  /** The training part of the window, time-ordered (streamed once). */
  train: Rows;
  /** The holdout part, strictly later (streamed once). */
  holdout: Rows;
  spec: FeatureSpec;
  /** The trainer's FTRL settings (hashBits comes from the spec). */
  training: AnalysisTrainOptions;
  options?: AnalyzeOptionsInput;
  /** The window the rows came from, for the report. */
  window?: { trainFrom: Date; holdoutFrom: Date; holdoutTo: Date };
  logger?: Logger;
  onProgress?: (progress: AnalyzeProgress) => void;
  signal?: AbortSignal;
  clock?: () => Date;
}

const ROW_PROGRESS_EVERY = 100_000;

function crossKey(fields: readonly string[]): string {
  return [...fields].sort().join('\u0000');
}

function pairsAmong(fields: readonly string[], existing: Set<string>): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < fields.length; i++) {
    for (let j = i + 1; j < fields.length; j++) {
      const pair = [fields[i] as string, fields[j] as string];
      if (!existing.has(crossKey(pair))) out.push(pair);
    }
  }
  return out;
}

const SCREEN_CHUNK = 32;

/** Screen estimates (NE units) of each pair, featurised in chunks to bound memory. */
function screenPairs(
  pairs: readonly string[][],
  spec: FeatureSpec,
  rows: readonly LabeledImpression[],
  predictions: Float64Array,
  entropy: number,
): number[] {
  const out: number[] = [];
  const nf = spec.fields.length;
  for (let start = 0; start < pairs.length; start += SCREEN_CHUNK) {
    const chunk = pairs.slice(start, start + SCREEN_CHUNK);
    const batch = featurize(rows, { ...spec, crosses: chunk.map((fields) => ({ fields })) });
    out.push(
      ...screenCrosses(
        batch,
        chunk.map((_, c) => nf + c),
        predictions,
        2 ** spec.hashBits,
        entropy,
      ),
    );
  }
  return out;
}

function featurize(rows: readonly LabeledImpression[], spec: FeatureSpec): FeaturizedBatch {
  const b = new FeaturizedBatchBuilder(createFeaturizer(spec), rows.length);
  for (const r of rows) b.add(r);
  return b.build();
}

/**
 * The feature-insight analysis: which fields and crosses earn their keep on the holdout, and what each
 * costs to serve. Streams the training part once (profile of every field and cross + a uniform sample)
 * and the holdout once (a sample), then trains FTRL with the trainer's settings on the sample for: the
 * full spec, each field alone, the spec without each field (and its crosses), without each cross, and
 * with each candidate cross among the strongest fields; every model is scored on the same holdout rows.
 */
export async function analyzeFeatures(input: AnalyzeFeaturesInput): Promise<FeatureReport> {
  const started = Date.now();
  const options: AnalyzeOptions = AnalyzeOptionsSchema.parse(input.options ?? {});
  const spec = parseFeatureSpec(input.spec);
  const logger = input.logger ?? silentLogger();
  const progress = (p: AnalyzeProgress) => {
    input.onProgress?.(p);
    const fields = { stage: p.stage, done: p.done, total: p.total };
    if (p.stage === 'models') logger.debug(fields, p.message);
    else logger.info(fields, p.message);
  };
  const { signal } = input;

  // 1. Profile the training part and sample it.
  const profiler = new FieldProfiler(spec, {
    topValues: options.topValues,
    maxTrackedValues: options.maxTrackedValues,
  });
  const trainSample = new ReservoirSample<LabeledImpression>(options.sampleRows, options.seed);
  for await (const row of input.train) {
    profiler.add(row);
    trainSample.offer(row);
    if (trainSample.offered % ROW_PROGRESS_EVERY === 0) {
      signal?.throwIfAborted();
      progress({
        stage: 'profile',
        done: trainSample.offered,
        total: 0,
        message: `profiled ${trainSample.offered} training rows`,
      });
    }
  }
  const profile = profiler.result();
  progress({
    stage: 'profile',
    done: profile.rows,
    total: profile.rows,
    message: `profiled ${profile.rows} training rows`,
  });

  // 2. Sample the holdout.
  const holdoutSample = new ReservoirSample<LabeledImpression>(options.holdoutRows, options.seed + 1);
  for await (const row of input.holdout) {
    holdoutSample.offer(row);
    if (holdoutSample.offered % ROW_PROGRESS_EVERY === 0) signal?.throwIfAborted();
  }
  const trainRows = trainSample.items();
  const holdoutRows = holdoutSample.items();
  progress({
    stage: 'holdout',
    done: holdoutSample.offered,
    total: holdoutSample.offered,
    message: `read ${holdoutSample.offered} holdout rows`,
  });
  checkEnough(trainRows, holdoutRows);

  // 3. Featurise both samples once with the spec; every model below is a choice of columns.
  const nf = spec.fields.length;
  const nc = spec.crosses.length;
  let trainBatch = featurize(trainRows, spec);
  let holdoutBatch = featurize(holdoutRows, spec);
  const { baseRate: holdoutBaseRate, entropy } = holdoutEntropy(holdoutBatch);
  const all = Array.from({ length: nf + nc }, (_, k) => k);
  const crossesOf = (field: string) =>
    spec.crosses
      .map((c, j) => ({ c, j }))
      .filter(({ c }) => c.fields.includes(field))
      .map(({ j }) => nf + j);

  let modelsTrained = 0;
  let modelsPlanned = 1 + nf + (nf > 1 ? nf : 0) + nc;
  const fit = (columns: number[], label: string): ModelFit => {
    signal?.throwIfAborted();
    const f = fitAndEvaluate(
      selectColumns(trainBatch, columns),
      selectColumns(holdoutBatch, columns),
      spec.hashBits,
      { ...input.training, seed: input.training.seed ?? options.seed },
      entropy,
    );
    modelsTrained++;
    progress({
      stage: 'models',
      done: modelsTrained,
      total: modelsPlanned,
      message: `model ${modelsTrained}/${modelsPlanned} ${label}: NE ${f.ne.toFixed(4)}`,
    });
    return f;
  };

  const full = fit(all, 'full spec');
  const fullQuality = fitQuality(full, holdoutBatch);
  const singleNe = spec.fields.map((f, k) => fit([k], `${f.name} alone`).ne);
  const dropField: NeDelta[] = spec.fields.map((f, k) => {
    // Without its only field the model is the base rate of the training sample.
    if (nf === 1) return pairedNeDelta(full, constantFit(trainBatch, holdoutBatch, entropy), entropy);
    const gone = new Set([k, ...crossesOf(f.name)]);
    return pairedNeDelta(
      full,
      fit(
        all.filter((c) => !gone.has(c)),
        `without ${f.name}`,
      ),
      entropy,
    );
  });
  const dropCross: NeDelta[] = spec.crosses.map((c, j) =>
    pairedNeDelta(
      full,
      fit(
        all.filter((k) => k !== nf + j),
        `without ${c.fields.join('×')}`,
      ),
      entropy,
    ),
  );

  // 4. Candidate crosses: screen the pairs among the strongest fields that the spec does not cross, then
  // train and measure the screen's best few.
  const strongest = spec.fields
    .map((f, k) => ({ name: f.name, ne: singleNe[k] as number, k }))
    .sort((a, b) => a.ne - b.ne || a.k - b.k)
    .slice(0, options.candidateFields)
    .sort((a, b) => a.k - b.k)
    .map((x) => x.name);
  const pairs = pairsAmong(strongest, new Set(spec.crosses.map((c) => crossKey(c.fields))));
  const screenEstimates = screenPairs(pairs, spec, trainRows, full.predict(selectColumns(trainBatch, all)), entropy);
  const screened = pairs
    .map((fields, i) => ({ fields, estimate: screenEstimates[i] as number, i }))
    .sort((a, b) => b.estimate - a.estimate || a.i - b.i);
  const candidates = screened.slice(0, options.candidatePairs).map((s) => s.fields);
  modelsPlanned += candidates.length + 1;
  const addCross: NeDelta[] = [];
  if (candidates.length > 0) {
    const candSpec: FeatureSpec = { ...spec, crosses: candidates.map((fields) => ({ fields })) };
    const candColumns = candidates.map((_, c) => nf + c);
    trainBatch = appendColumns(trainBatch, selectColumns(featurize(trainRows, candSpec), candColumns));
    holdoutBatch = appendColumns(holdoutBatch, selectColumns(featurize(holdoutRows, candSpec), candColumns));
    candidates.forEach((pair, c) => {
      const added = fit([...all, nf + nc + c], `with ${pair.join('×')}`);
      // Gain of having the cross = NE(full) − NE(full + cross).
      addCross.push(pairedNeDelta(added, full, entropy));
    });
  }

  // 5. Every recommendation applied at once: one-at-a-time deltas need not add up, so measure the
  // combined spec too.
  const thresholds = { minNeGain: options.minNeGain, significanceZ: options.significanceZ };
  const keepCross = spec.crosses.map((_, j) => isRealGain(dropCross[j] as NeDelta, thresholds));
  const addCandidate = candidates.map((_, c) => isRealGain(addCross[c] as NeDelta, thresholds));
  // A field stays while a kept or added cross needs it, whatever its own ablation says.
  const requiredBy = new Map<string, string[]>();
  const require = (fields: readonly string[]) => {
    for (const f of fields) requiredBy.set(f, [...(requiredBy.get(f) ?? []), fields.join('×')]);
  };
  for (const [j, c] of spec.crosses.entries()) if (keepCross[j]) require(c.fields);
  for (const [c, fields] of candidates.entries()) if (addCandidate[c]) require(fields);
  const droppedFields = new Set(
    spec.fields
      .filter((f, k) => !isRealGain(dropField[k] as NeDelta, thresholds) && !requiredBy.has(f.name))
      .map((f) => f.name),
  );
  const keptCrosses = spec.crosses.map((c, j) => ({ c, j })).filter(({ j }) => keepCross[j]);
  const addedCrosses = candidates.map((fields, c) => ({ fields, c })).filter(({ c }) => addCandidate[c]);
  const recommendedSpec: FeatureSpec = {
    ...spec,
    fields: spec.fields.filter((f) => !droppedFields.has(f.name)),
    crosses: [...keptCrosses.map(({ c }) => c), ...addedCrosses.map(({ fields }) => ({ fields }))],
  };
  const recommendedColumns = [
    ...spec.fields
      .map((f, k) => ({ f, k }))
      .filter(({ f }) => !droppedFields.has(f.name))
      .map(({ k }) => k),
    ...keptCrosses.map(({ j }) => nf + j),
    ...addedCrosses.map(({ c }) => nf + nc + c),
  ];
  const recommendedFit =
    recommendedColumns.length > 0
      ? fit(recommendedColumns, 'all recommendations applied')
      : constantFit(trainBatch, holdoutBatch, entropy);
  if (recommendedColumns.length === 0) modelsPlanned--;
  const recommendedDelta = pairedNeDelta(full, recommendedFit, entropy);

  const oracleNe = holdoutBatch.trueCtr ? neOfPredictions(holdoutBatch.trueCtr, holdoutBatch.labels, entropy) : null;

  // 6. Serving cost, measured with the scorer inference runs.
  const variants: CostVariant[] = [
    ...spec.fields.map((f) => ({
      key: `field:${f.name}`,
      spec: {
        ...spec,
        fields: spec.fields.filter((g) => g.name !== f.name),
        crosses: spec.crosses.filter((c) => !c.fields.includes(f.name)),
      },
    })),
    ...spec.crosses.map((_c, j) => ({
      key: `cross:${j}`,
      spec: { ...spec, crosses: spec.crosses.filter((_, i) => i !== j) },
    })),
    ...candidates.map((fields, c) => ({
      key: `candidate:${c}`,
      spec: { ...spec, crosses: [...spec.crosses, { fields }] },
    })),
    { key: 'recommended', spec: recommendedSpec },
  ].filter((v) => v.spec.fields.length > 0);
  progress({
    stage: 'serving-cost',
    done: 0,
    total: variants.length + 1,
    message: `timing ${variants.length + 1} scorers`,
  });
  const timing: RawImpression[] = holdoutRows.slice(0, options.timingImpressions).map((r) => r.impression);
  const weights = Float32Array.from(full.weights());
  const cost = measureServingCost(spec, variants, timing, weights, {
    rounds: options.timingRounds,
    seed: options.seed,
  });
  const costOf = (key: string) => cost.deltaNs.get(key) ?? 0;

  // 7. Assemble.
  const fields: FieldReport[] = spec.fields.map((f, k) => {
    const p = profile.fields[k]!;
    const drop = dropField[k] as NeDelta;
    return {
      name: f.name,
      source: f.source,
      kind: f.kind,
      coverage: p.coverage,
      cardinality: p.cardinality,
      cardinalityIsLowerBound: p.cardinalityIsLowerBound,
      collisionRate: p.collisionRate,
      trafficCollisionRate: p.trafficCollisionRate,
      topValues: p.topValues,
      singleFieldNe: singleNe[k] as number,
      dropNeChange: drop,
      dropCostNs: costOf(`field:${f.name}`),
      crossesDroppedWith: spec.crosses.filter((c) => c.fields.includes(f.name)).map((c) => c.fields.join('×')),
      recommendation: droppedFields.has(f.name) ? 'drop' : 'keep',
      requiredBy: requiredBy.get(f.name) ?? [],
    };
  });
  // A 2-field cross whose values are as many as one field's (in the sample) only repeats that field.
  const distinct = new Map<number, number>();
  const distinctOf = (col: number): number => {
    let n = distinct.get(col);
    if (n === undefined) {
      const seen = new Set<number>();
      for (let r = 0, off = col; r < trainBatch.rows; r++, off += trainBatch.width)
        seen.add(trainBatch.indices[off] as number);
      n = seen.size;
      distinct.set(col, n);
    }
    return n;
  };
  const fieldIndex = new Map(spec.fields.map((f, k) => [f.name, k]));
  const nestedIn = (fields: readonly string[], col: number): string | null => {
    if (fields.length !== 2) return null;
    const [a, b] = fields as [string, string];
    const da = distinctOf(fieldIndex.get(a) as number);
    const db = distinctOf(fieldIndex.get(b) as number);
    const finer = da >= db ? a : b;
    return distinctOf(col) <= Math.max(da, db) * 1.02 + 1 ? finer : null;
  };
  const crossRows: Omit<CrossReport, 'rank'>[] = [
    ...spec.crosses.map((c, j) => {
      const gain = dropCross[j] as NeDelta;
      return {
        name: c.fields.join('×'),
        fields: [...c.fields],
        origin: 'spec' as const,
        neGain: gain,
        costNs: -costOf(`cross:${j}`),
        profile: stripName(profile.crosses[j]!),
        nestedIn: nestedIn(c.fields, nf + j),
        recommendation: isRealGain(gain, thresholds) ? ('keep' as const) : ('drop' as const),
      };
    }),
    ...candidates.map((fieldsOfPair, c) => {
      const gain = addCross[c] as NeDelta;
      return {
        name: fieldsOfPair.join('×'),
        fields: fieldsOfPair,
        origin: 'candidate' as const,
        neGain: gain,
        costNs: costOf(`candidate:${c}`),
        nestedIn: nestedIn(fieldsOfPair, nf + nc + c),
        recommendation: isRealGain(gain, thresholds) ? ('add' as const) : ('skip' as const),
      };
    }),
  ];
  crossRows.sort((a, b) => b.neGain.delta - a.neGain.delta || a.name.localeCompare(b.name));
  const crosses: CrossReport[] = crossRows.map((c, i) => ({ ...c, rank: i + 1 }));

  const items: Candidate[] = [
    ...fields.map((f) => ({
      target: 'field' as const,
      name: f.name,
      origin: 'spec' as const,
      gain: f.dropNeChange,
      costNs: -f.dropCostNs,
      requiredBy: f.requiredBy,
    })),
    ...crosses.map((c) => ({
      target: 'cross' as const,
      name: c.name,
      origin: c.origin,
      gain: c.neGain,
      costNs: c.costNs,
      ...(c.nestedIn
        ? {
            note: `${c.nestedIn} determines the other field here, so this cross is a second copy of ${c.nestedIn}: a gain means the learner under-fits ${c.nestedIn} (try a larger FTRL_ALPHA or more passes) rather than a true interaction`,
          }
        : {}),
    })),
  ];
  const recommendations = recommend(items, thresholds);
  const generatedAt = (input.clock ?? (() => new Date()))();
  const report: FeatureReport = {
    reportVersion: FEATURE_REPORT_VERSION,
    generatedAt: generatedAt.toISOString(),
    window: input.window
      ? {
          trainFrom: input.window.trainFrom.toISOString(),
          holdoutFrom: input.window.holdoutFrom.toISOString(),
          holdoutTo: input.window.holdoutTo.toISOString(),
        }
      : null,
    settings: options,
    training: {
      alpha: input.training.alpha ?? FTRL_DEFAULTS.alpha,
      beta: input.training.beta ?? FTRL_DEFAULTS.beta,
      l1: input.training.l1 ?? FTRL_DEFAULTS.l1,
      l2: input.training.l2 ?? FTRL_DEFAULTS.l2,
      passes: input.training.passes ?? 1,
      negativeSamplingRate: input.training.negativeSamplingRate ?? 1,
    },
    spec,
    summary: {
      trainRows: profile.rows,
      trainClicks: profile.clicks,
      trainSampleRows: trainRows.length,
      holdoutRows: holdoutSample.offered,
      holdoutSampleRows: holdoutRows.length,
      holdoutBaseRate,
      fullNe: full.ne,
      fullAuc: fullQuality.auc,
      fullCalibration: fullQuality.calibration,
      oracleNe,
      scorerNsPerImpression: cost.baseNs,
      distinctFeatures: profile.distinctFeatures,
      bucketsUsed: profile.bucketsUsed,
      hashBuckets: 2 ** spec.hashBits,
      modelsTrained,
      elapsedMs: Date.now() - started,
    },
    fields,
    crosses,
    allRecommendationsApplied: {
      spec: recommendedSpec.fields.length > 0 ? recommendedSpec : null,
      droppedFields: [...droppedFields],
      droppedCrosses: spec.crosses.filter((_, j) => !keptCrosses.some((k) => k.j === j)).map((c) => c.fields.join('×')),
      addedCrosses: addedCrosses.map(({ fields }) => fields.join('×')),
      ne: recommendedFit.ne,
      neChange: recommendedDelta,
      costNs: recommendedSpec.fields.length > 0 ? costOf('recommended') : -cost.baseNs,
    },
    screenedPairs: screened.map((p, i) => ({
      name: p.fields.join('×'),
      fields: p.fields,
      screenNeGain: p.estimate,
      measured: i < candidates.length,
    })),
    recommendations,
  };
  progress({
    stage: 'done',
    done: 1,
    total: 1,
    message: `feature analysis done in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  });
  return FeatureReportSchema.parse(report);
}

function stripName<T extends { name: string; fields: string[] }>(p: T): Omit<T, 'name' | 'fields'> {
  const { name: _name, fields: _fields, ...rest } = p;
  return rest;
}

function checkEnough(train: readonly LabeledImpression[], holdout: readonly LabeledImpression[]): void {
  const clicks = (rows: readonly LabeledImpression[]) => rows.reduce((s, r) => s + (r.label === 1 ? 1 : 0), 0);
  const tc = clicks(train);
  const hc = clicks(holdout);
  if (train.length === 0 || tc === 0 || holdout.length === 0 || hc === 0 || hc === holdout.length) {
    throw new TrainerError(
      TrainerErrorCode.NOT_ENOUGH_DATA,
      `Feature analysis needs clicks and non-clicks in both parts: training sample ${train.length} rows / ${tc} clicks, ` +
        `holdout sample ${holdout.length} rows / ${hc} clicks; widen the window or raise the sample sizes`,
    );
  }
}
