import type { FeatureSpecInput } from '@fallback-ctr/model';

/** Where a real sample lies in time: the end of the training window, its length and the holdout's. */
export interface SampleWindow {
  end: string;
  hours: number;
  holdoutHours: number;
}

/** An imported real sample as a user's `trainer run` sees it. */
export interface RealSampleTarget {
  databaseUrl: string;
  trackingUri: string;
  schema: string;
  modelName: string;
  window: SampleWindow;
  featureSpec: FeatureSpecInput;
}

/**
 * The environment of a user's `trainer run` on a real sample: where the data is, which window, which
 * fields. Everything else is a default unless `extra` sets it.
 */
export function realSampleEnv(t: RealSampleTarget, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: t.databaseUrl,
    MLFLOW_TRACKING_URI: t.trackingUri,
    CLICKLOG_SCHEMA: t.schema,
    MODEL_NAME: t.modelName,
    TRAIN_WINDOW_END: t.window.end,
    TRAIN_WINDOW_HOURS: String(t.window.hours),
    HOLDOUT_HOURS: String(t.window.holdoutHours),
    FEATURE_SPEC: JSON.stringify(t.featureSpec),
    ...extra,
  };
}
