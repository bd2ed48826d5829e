import { VersionTag } from '@fallback-ctr/model';
import type { LoadedModel } from './model-holder.js';
import type { ModelInfoResponse } from './predict-schemas.js';

/** GET /model: training-time metrics from the artifact plus the holdout metrics the trainer tagged. */
export function modelInfo(model: LoadedModel): ModelInfoResponse {
  const trainingMetrics: Record<string, number> = { ...model.artifact.training.metrics };
  for (const [key, value] of Object.entries(model.tags)) {
    const metric = VersionTag.holdoutMetric(key);
    const n = Number(value);
    if (metric !== undefined && value.trim() !== '' && Number.isFinite(n)) trainingMetrics[key] = n;
  }
  const { metrics: _metrics, ...trainingMetadata } = model.artifact.training;
  return {
    name: model.name,
    version: model.version,
    resolvedFrom: model.resolvedFrom,
    runId: model.runId,
    formatVersion: model.artifact.formatVersion,
    sha256: model.artifact.sha256,
    loadedAt: model.loadedAt.toISOString(),
    featureSpec: model.artifact.featureSpec,
    trainingMetrics,
    trainingMetadata,
  };
}
