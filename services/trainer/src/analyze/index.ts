export { ANALYZE_ENV_NAMES, AnalyzeEnvSchema, type AnalyzeSettings, loadAnalyzeSettings } from './analyze-env.js';
export {
  type AnalyzeFeaturesInput,
  type AnalyzeProgress,
  type AnalyzeStage,
  analyzeFeatures,
} from './analyze-features.js';
export {
  type AnalyzeOptions,
  type AnalyzeOptionsInput,
  AnalyzeOptionsSchema,
} from './analyze-options.js';
export { type FeatureInsightInput, type FeatureInsightResult, runFeatureInsight } from './feature-insight.js';
export {
  type CrossReport,
  FEATURE_REPORT_VERSION,
  type FeatureReport,
  FeatureReportSchema,
  type FieldReport,
  type Recommendation,
} from './feature-report.js';
export {
  type LoggedReport,
  logFeatureReport,
  REPORT_ARTIFACT_DIR,
  REPORT_HTML_FILE,
  REPORT_JSON_FILE,
} from './log-report.js';
export { renderHtml } from './render-html.js';
export { renderSummary } from './render-summary.js';
