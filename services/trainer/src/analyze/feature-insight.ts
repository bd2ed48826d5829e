import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SplitPart } from '@fallback-ctr/clicklog';
import type { MlflowClient } from '@fallback-ctr/mlflow';
import type { FeatureSpec } from '@fallback-ctr/model';
import type { Logger } from '@fallback-ctr/runtime';
import { learnTrainOptions, type TrainingSettings } from '../pipeline/train-options.js';
import { type AnalyzeProgress, analyzeFeatures } from './analyze-features.js';
import type { AnalyzeOptionsInput } from './analyze-options.js';
import type { FeatureReport } from './feature-report.js';
import { type LoggedReport, logFeatureReport, REPORT_HTML_FILE, REPORT_JSON_FILE, reportJson } from './log-report.js';
import { renderHtml } from './render-html.js';

export interface FeatureInsightInput {
  /** The trainer's time split (from loadWindow): the same rows `run` trains and evaluates on. */
  split: { train: Pick<SplitPart, 'read' | 'from' | 'to'>; holdout: Pick<SplitPart, 'read' | 'from' | 'to'> };
  spec: FeatureSpec;
  /** The FTRL settings and passes to train with: those the run's candidate was trained with. */
  training: TrainingSettings;
  options: AnalyzeOptionsInput;
  logger: Logger;
  /** Log the report to this MLflow run. */
  mlflow?: { client: MlflowClient; runId: string };
  /** Also write report.html and report.json into this directory. */
  outDir?: string;
  onProgress?: (p: AnalyzeProgress) => void;
  signal?: AbortSignal;
}

export interface FeatureInsightResult {
  report: FeatureReport;
  html: string;
  /** Files written under outDir. */
  files: string[];
  logged: LoggedReport | null;
}

/**
 * The feature-insight analysis over the trainer's split, rendered and delivered: HTML + JSON on disk
 * and/or as MLflow run artifacts. Used by `trainer analyze` and by the optional step of `run`.
 */
export async function runFeatureInsight(input: FeatureInsightInput): Promise<FeatureInsightResult> {
  const { split, signal } = input;
  const readOpts = { signal };
  const report = await analyzeFeatures({
    train: split.train.read(readOpts),
    holdout: split.holdout.read(readOpts),
    spec: input.spec,
    training: learnTrainOptions(input.training),
    options: input.options,
    window: { trainFrom: split.train.from, holdoutFrom: split.holdout.from, holdoutTo: split.holdout.to },
    logger: input.logger,
    onProgress: input.onProgress,
    signal,
  });
  const html = renderHtml(report);
  const files: string[] = [];
  if (input.outDir !== undefined) {
    await mkdir(input.outDir, { recursive: true });
    const htmlPath = join(input.outDir, REPORT_HTML_FILE);
    const jsonPath = join(input.outDir, REPORT_JSON_FILE);
    await writeFile(htmlPath, html, 'utf8');
    await writeFile(jsonPath, reportJson(report), 'utf8');
    files.push(htmlPath, jsonPath);
  }
  let logged: LoggedReport | null = null;
  if (input.mlflow) {
    logged = await logFeatureReport(input.mlflow.client, input.mlflow.runId, report, html);
    input.logger.info({ runId: input.mlflow.runId, files: logged.files }, 'feature-insight report logged to MLflow');
  }
  return { report, html, files, logged };
}
