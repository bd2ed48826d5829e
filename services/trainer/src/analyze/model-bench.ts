import { type FeaturizedBatch, FeaturizedBatchBuilder, type LabeledImpression } from '@fallback-ctr/learn';
import { createFeaturizer, type FeatureSpec } from '@fallback-ctr/model';
import { appendColumns, selectColumns } from './column-matrix.js';
import type { NeDelta } from './feature-report.js';
import {
  type AnalysisTrainOptions,
  constantFit,
  fitAndEvaluate,
  holdoutEntropy,
  type ModelFit,
  pairedNeDelta,
} from './model-fit.js';

/** Both samples featurised with a spec, as one batch each (a column per field, then one per cross). */
export function featurize(rows: readonly LabeledImpression[], spec: FeatureSpec): FeaturizedBatch {
  const b = new FeaturizedBatchBuilder(createFeaturizer(spec), rows.length);
  for (const r of rows) b.add(r);
  return b.build();
}

export interface BenchProgress {
  trained: number;
  planned: number;
  label: string;
  ne: number;
}

/**
 * Where every model of an analysis is trained and scored: the training and holdout samples featurised
 * once with the spec (candidate crosses appended as extra columns), so a model is a choice of columns,
 * trained with the same settings on the same rows and scored on the same holdout rows. Counts the
 * models planned and trained for the progress lines.
 */
export class ModelBench {
  readonly spec: FeatureSpec;
  /** Holdout CTR and its entropy: the NE denominator shared by every model. */
  readonly baseRate: number;
  readonly entropy: number;
  private train: FeaturizedBatch;
  private holdout: FeaturizedBatch;
  private readonly trainRows: readonly LabeledImpression[];
  private readonly holdoutRows: readonly LabeledImpression[];
  private readonly training: AnalysisTrainOptions;
  private readonly onFit: (progress: BenchProgress) => void;
  private readonly signal: AbortSignal | undefined;
  private trainedCount = 0;
  private plannedCount = 0;

  constructor(o: {
    spec: FeatureSpec;
    trainRows: readonly LabeledImpression[];
    holdoutRows: readonly LabeledImpression[];
    training: AnalysisTrainOptions;
    onFit: (progress: BenchProgress) => void;
    signal: AbortSignal | undefined;
  }) {
    this.spec = o.spec;
    this.trainRows = o.trainRows;
    this.holdoutRows = o.holdoutRows;
    this.training = o.training;
    this.onFit = o.onFit;
    this.signal = o.signal;
    this.train = featurize(o.trainRows, o.spec);
    this.holdout = featurize(o.holdoutRows, o.spec);
    const { baseRate, entropy } = holdoutEntropy(this.holdout);
    this.baseRate = baseRate;
    this.entropy = entropy;
  }

  /** Columns of the spec: its fields, then its crosses. */
  get specColumns(): number[] {
    return Array.from({ length: this.spec.fields.length + this.spec.crosses.length }, (_, k) => k);
  }

  get trained(): number {
    return this.trainedCount;
  }

  /** The training sample's featurised batch (e.g. for counting a column's distinct values). */
  get trainBatch(): FeaturizedBatch {
    return this.train;
  }

  get holdoutBatch(): FeaturizedBatch {
    return this.holdout;
  }

  /** Announces `count` more models (the denominator of the progress lines). */
  plan(count: number): void {
    this.plannedCount += count;
  }

  /** Trains a model on these columns and scores it on the holdout. */
  fit(columns: readonly number[], label: string): ModelFit {
    this.signal?.throwIfAborted();
    const f = fitAndEvaluate(
      selectColumns(this.train, columns),
      selectColumns(this.holdout, columns),
      this.spec.hashBits,
      this.training,
      this.entropy,
    );
    this.trainedCount++;
    this.onFit({ trained: this.trainedCount, planned: this.plannedCount, label, ne: f.ne });
    return f;
  }

  /** The model without features: the training sample's CTR. */
  constant(): ModelFit {
    return constantFit(this.train, this.holdout, this.entropy);
  }

  /** NE(b) − NE(a) on the holdout rows, with its paired standard error. */
  delta(a: ModelFit, b: ModelFit): NeDelta {
    return pairedNeDelta(a, b, this.entropy);
  }

  /** Appends a column per cross (featurised from the samples' rows); returns their column numbers. */
  appendCrosses(crosses: readonly (readonly string[])[]): number[] {
    if (crosses.length === 0) return [];
    const nf = this.spec.fields.length;
    const first = this.train.width;
    const crossSpec: FeatureSpec = { ...this.spec, crosses: crosses.map((fields) => ({ fields: [...fields] })) };
    const columns = crosses.map((_, c) => nf + c);
    this.train = appendColumns(this.train, selectColumns(featurize(this.trainRows, crossSpec), columns));
    this.holdout = appendColumns(this.holdout, selectColumns(featurize(this.holdoutRows, crossSpec), columns));
    return crosses.map((_, c) => first + c);
  }
}
