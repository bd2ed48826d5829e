import type { FeatureSpec } from '@fallback-ctr/model';
import type { Ablations } from './ablations.js';
import type { AnalyzeOptions } from './analyze-options.js';
import { type BaselineFacts, baselineCaveat, modelLearned } from './baseline-caveat.js';
import type { CandidateCrosses } from './candidate-crosses.js';
import type { CombinedRecommendation } from './combined-recommendation.js';
import {
  type CrossReport,
  FEATURE_REPORT_VERSION,
  type FeatureReport,
  type FieldReport,
  type NeDelta,
} from './feature-report.js';
import { distinctValues, idLikeNote } from './id-like.js';
import type { ModelBench } from './model-bench.js';
import { type ModelFit, neOfPredictions } from './model-fit.js';
import { nestedCrossDetector } from './nested-crosses.js';
import type { Samples } from './read-samples.js';
import { type Candidate, isRealGain, recommend } from './recommend.js';
import type { VariantCosts } from './variant-costs.js';

export interface ReportParts {
  spec: FeatureSpec;
  options: AnalyzeOptions;
  training: FeatureReport['training'];
  window: FeatureReport['window'];
  generatedAt: Date;
  elapsedMs: number;
  samples: Samples;
  bench: ModelBench;
  ablations: Ablations;
  candidates: CandidateCrosses;
  combined: CombinedRecommendation;
  costs: VariantCosts;
}

const NOT_LEARNED = 'the full model is no better than the training CTR on this sample (see the note at the top)';

/** Stage 6 — the measurements as the report: field and cross rows, ranked recommendations, summary. */
export function assembleReport(p: ReportParts): FeatureReport {
  const { spec, samples, bench, ablations, candidates, combined, costs } = p;
  const thresholds = { minNeGain: p.options.minNeGain, significanceZ: p.options.significanceZ };
  const fields = fieldRows(p);
  const crosses = crossRows(p, thresholds);
  const full = ablations.full;
  const baseline = baselineFacts(bench, full);
  const learned = modelLearned(baseline, thresholds);
  // A model that learned nothing measurable makes every change look like noise around it: no advice from it.
  const verdict =
    learned || combined.verdict.verdict === 'no-change'
      ? combined.verdict
      : { verdict: 'withheld' as const, reason: `${NOT_LEARNED}: none of these changes is recommended` };
  const recommendations = recommend(recommendationItems(fields, crosses, samples.profile.rows), thresholds).map((r) =>
    r.action === 'keep' || verdict.verdict !== 'withheld'
      ? r
      : {
          ...r,
          reason: learned
            ? `${r.reason}. Made together with the other drops and adds the model is worse: make this change on its own`
            : `${r.reason}. Not a recommendation: ${NOT_LEARNED}`,
        },
  );
  const holdout = bench.holdoutBatch;
  const profile = samples.profile;
  return {
    reportVersion: FEATURE_REPORT_VERSION,
    generatedAt: p.generatedAt.toISOString(),
    window: p.window,
    settings: p.options,
    training: p.training,
    spec,
    summary: {
      trainRows: profile.rows,
      trainClicks: profile.clicks,
      trainSampleRows: samples.train.length,
      holdoutRows: samples.holdoutRowsRead,
      holdoutSampleRows: samples.holdout.length,
      holdoutBaseRate: bench.baseRate,
      fullNe: full.ne,
      fullAuc: ablations.fullQuality.auc,
      fullCalibration: ablations.fullQuality.calibration,
      trainSampleClicks: baseline.trainSampleClicks,
      holdoutSampleClicks: baseline.holdoutSampleClicks,
      constantNe: baseline.constantNe,
      fullVsConstant: baseline.fullVsConstant,
      caveat: baselineCaveat(baseline, thresholds),
      oracleNe: holdout.trueCtr ? neOfPredictions(holdout.trueCtr, holdout.labels, bench.entropy) : null,
      scorerNsPerImpression: costs.baseNs,
      distinctFeatures: profile.distinctFeatures,
      bucketsUsed: profile.bucketsUsed,
      hashBuckets: 2 ** spec.hashBits,
      modelsTrained: bench.trained,
      elapsedMs: p.elapsedMs,
    },
    fields,
    crosses,
    allRecommendationsApplied: {
      verdict: verdict.verdict,
      verdictReason: verdict.reason,
      spec: combined.spec.fields.length > 0 ? combined.spec : null,
      droppedFields: [...combined.droppedFields],
      droppedCrosses: spec.crosses.filter((_, j) => !combined.keepCross[j]).map((c) => c.fields.join('×')),
      addedCrosses: candidates.candidates.filter((_, c) => combined.addCandidate[c]).map((f) => f.join('×')),
      ne: combined.fit.ne,
      neChange: combined.neChange,
      costNs: costs.combined ?? -costs.baseNs,
    },
    screenedPairs: candidates.screened.map((s, i) => ({
      name: s.fields.join('×'),
      fields: s.fields,
      screenNeGain: s.estimate,
      measured: i < candidates.candidates.length,
    })),
    recommendations,
  };
}

function fieldRows({ spec, samples, ablations, combined, costs }: ReportParts): FieldReport[] {
  return spec.fields.map((f, k) => {
    const profile = samples.profile.fields[k]!;
    const distinct = distinctValues(f.kind, profile, samples.profile.rows);
    return {
      name: f.name,
      source: f.source,
      kind: f.kind,
      coverage: profile.coverage,
      cardinality: profile.cardinality,
      cardinalityIsLowerBound: profile.cardinalityIsLowerBound,
      collisionRate: profile.collisionRate,
      trafficCollisionRate: profile.trafficCollisionRate,
      distinctShare: distinct.share,
      idLike: distinct.idLike,
      topValues: profile.topValues,
      singleFieldNe: ablations.singleNe[k] as number,
      dropNeChange: ablations.dropField[k] as NeDelta,
      dropCostNs: costs.withoutField(f.name),
      crossesDroppedWith: spec.crosses.filter((c) => c.fields.includes(f.name)).map((c) => c.fields.join('×')),
      recommendation: combined.droppedFields.has(f.name) ? 'drop' : 'keep',
      requiredBy: combined.requiredBy.get(f.name) ?? [],
    };
  });
}

function crossRows(p: ReportParts, thresholds: { minNeGain: number; significanceZ: number }): CrossReport[] {
  const { spec, samples, ablations, candidates, costs } = p;
  const nestedIn = nestedCrossDetector(spec, p.bench.trainBatch);
  const nf = spec.fields.length;
  const rows: Omit<CrossReport, 'rank'>[] = [
    ...spec.crosses.map((c, j) => {
      const gain = ablations.dropCross[j] as NeDelta;
      const { name: _name, fields: _fields, ...profile } = samples.profile.crosses[j]!;
      return {
        name: c.fields.join('×'),
        fields: [...c.fields],
        origin: 'spec' as const,
        neGain: gain,
        costNs: -costs.withoutCross(j),
        profile,
        nestedIn: nestedIn(c.fields, nf + j),
        recommendation: isRealGain(gain, thresholds) ? ('keep' as const) : ('drop' as const),
      };
    }),
    ...candidates.candidates.map((fields, c) => {
      const gain = candidates.addCross[c] as NeDelta;
      return {
        name: fields.join('×'),
        fields,
        origin: 'candidate' as const,
        neGain: gain,
        costNs: costs.withCandidate(c),
        nestedIn: nestedIn(fields, candidates.columns[c] as number),
        recommendation: isRealGain(gain, thresholds) ? ('add' as const) : ('skip' as const),
      };
    }),
  ];
  rows.sort((a, b) => b.neGain.delta - a.neGain.delta || a.name.localeCompare(b.name));
  return rows.map((c, i) => ({ ...c, rank: i + 1 }));
}

function recommendationItems(
  fields: readonly FieldReport[],
  crosses: readonly CrossReport[],
  trainRows: number,
): Candidate[] {
  return [
    ...fields.map((f) => ({
      target: 'field' as const,
      name: f.name,
      origin: 'spec' as const,
      gain: f.dropNeChange,
      costNs: -f.dropCostNs,
      requiredBy: f.requiredBy,
      ...(f.idLike ? { note: idLikeNote(distinctValues(f.kind, f, trainRows)) } : {}),
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
}

/** The full model against the training CTR predicted everywhere, on the same holdout rows. */
function baselineFacts(bench: ModelBench, full: ModelFit): BaselineFacts {
  const clicks = (labels: ArrayLike<number>) => {
    let n = 0;
    for (let r = 0; r < labels.length; r++) n += labels[r] as number;
    return n;
  };
  const train = bench.trainBatch;
  const constant = bench.constant();
  const trainSampleClicks = clicks(train.labels);
  return {
    fullNe: full.ne,
    constantNe: constant.ne,
    fullVsConstant: bench.delta(constant, full),
    trainSampleClicks,
    holdoutSampleClicks: clicks(bench.holdoutBatch.labels),
    trainSampleCtr: train.rows > 0 ? trainSampleClicks / train.rows : 0,
    holdoutCtr: bench.baseRate,
  };
}
