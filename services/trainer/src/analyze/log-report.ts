import type { MlflowClient } from '@fallback-ctr/mlflow';
import type { FeatureReport } from './feature-report.js';

/** Run artifact directory the report goes into (the MLflow UI previews both files). */
export const REPORT_ARTIFACT_DIR = 'feature-insight';
export const REPORT_HTML_FILE = 'report.html';
export const REPORT_JSON_FILE = 'report.json';

export interface LoggedReport {
  artifactUri: string;
  files: string[];
}

/** The report as pretty JSON text (the same document the HTML was rendered from). */
export function reportJson(report: FeatureReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/**
 * Logs the report to an MLflow run: `feature-insight/report.html` and `feature-insight/report.json` as
 * artifacts, headline metrics (`feature_insight.*`) and the advice as tags (`feature_insight.drop`,
 * `feature_insight.add`, `feature_insight.id_like`: comma-separated names; `feature_insight.combined`: the
 * verdict on all changes made together).
 */
export async function logFeatureReport(
  mlflow: MlflowClient,
  runId: string,
  report: FeatureReport,
  html: string,
): Promise<LoggedReport> {
  const run = await mlflow.getRun(runId);
  const artifactUri = run.info.artifactUri;
  const htmlPath = `${REPORT_ARTIFACT_DIR}/${REPORT_HTML_FILE}`;
  const jsonPath = `${REPORT_ARTIFACT_DIR}/${REPORT_JSON_FILE}`;
  await mlflow.uploadArtifact(artifactUri, htmlPath, Buffer.from(html, 'utf8'));
  await mlflow.uploadArtifact(artifactUri, jsonPath, Buffer.from(reportJson(report), 'utf8'));
  const s = report.summary;
  const metrics: Record<string, number> = {
    'feature_insight.full_ne': s.fullNe,
    'feature_insight.full_auc': s.fullAuc,
    'feature_insight.constant_ne': s.constantNe,
    'feature_insight.scorer_ns_per_impression': s.scorerNsPerImpression,
    'feature_insight.drop_count': report.recommendations.filter((r) => r.action === 'drop').length,
    'feature_insight.add_count': report.recommendations.filter((r) => r.action === 'add').length,
    'feature_insight.elapsed_seconds': s.elapsedMs / 1000,
  };
  if (s.oracleNe !== null) metrics['feature_insight.oracle_ne'] = s.oracleNe;
  const names = (action: string) =>
    report.recommendations
      .filter((r) => r.action === action)
      .map((r) => r.name)
      .join(', ') || '(none)';
  await mlflow.logBatch(runId, {
    metrics: Object.entries(metrics).map(([key, value]) => ({ key, value })),
    tags: {
      'feature_insight.drop': names('drop'),
      'feature_insight.add': names('add'),
      'feature_insight.combined': report.allRecommendationsApplied.verdict,
      ...(s.caveat === null ? {} : { 'feature_insight.caveat': s.caveat }),
      'feature_insight.id_like':
        report.fields
          .filter((f) => f.idLike)
          .map((f) => f.name)
          .join(', ') || '(none)',
    },
  });
  return { artifactUri, files: [htmlPath, jsonPath] };
}
