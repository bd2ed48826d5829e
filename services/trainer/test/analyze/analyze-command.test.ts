import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultFeatureSpec } from '@fallback-ctr/model';
import type { Env } from '@fallback-ctr/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureReportSchema } from '../../src/analyze/feature-report.js';
import { cleanUp, cli, mlflowClient, START, seedTraffic, trainerEnv, uniqueSuffix } from '../support/e2e.js';

const suffix = uniqueSuffix();
const schema = `analyze_cmd_${suffix}`;
const modelName = `analyze-cmd-${suffix}`;
const end = new Date(START.getTime() + 2 * 86_400_000);
let out: string;

function env(extra: Env = {}): Env {
  return trainerEnv(schema, modelName, {
    TRAIN_WINDOW_HOURS: '48',
    HOLDOUT_HOURS: '12',
    TRAIN_WINDOW_END: end.toISOString(),
    FEATURE_SPEC: JSON.stringify({ ...defaultFeatureSpec, hashBits: 16 }),
    ANALYZE_SAMPLE_ROWS: '6000',
    ANALYZE_HOLDOUT_ROWS: '3000',
    ANALYZE_CANDIDATE_PAIRS: '2',
    ...extra,
  });
}

beforeAll(async () => {
  await seedTraffic(schema, { days: 2, impressionsPerDay: 6_000 });
  out = await mkdtemp(join(tmpdir(), 'fctr-analyze-cmd-'));
}, 120_000);

afterAll(async () => {
  await cleanUp(modelName, [schema]);
  if (out) await rm(out, { recursive: true, force: true });
});

describe('trainer analyze (CLI)', () => {
  it('prints its own --help', async () => {
    const r = await cli(['analyze', '--help'], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: fallback-ctr-trainer analyze/);
    expect(r.stdout).toContain('--run-id');
  });

  it('exits 2 on bad flags and bad configuration, saying what is wrong', async () => {
    const bad = await cli(['analyze', '--sample-rows', 'many'], env());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--sample-rows must be an integer');
    const unknown = await cli(['analyze', '--frobnicate'], env());
    expect(unknown.code).toBe(2);
    const both = await cli(['analyze', '--run-id', 'abc', '--new-run'], env());
    expect(both.code).toBe(2);
    const config = await cli(['analyze'], env({ ANALYZE_SAMPLE_ROWS: '-3' }));
    expect(config.code).toBe(2);
    expect(config.stderr).toContain('ANALYZE_SAMPLE_ROWS');
  });

  it('analyses the trainer window and logs the report into a new MLflow run', async () => {
    const dir = join(out, 'new-run');
    const r = await cli(['analyze', '--new-run', '--out', dir, '--json'], env());
    expect(r.stderr).not.toContain('analyze failed');
    expect(r.code).toBe(0);
    const report = FeatureReportSchema.parse(JSON.parse(r.stdout));
    // The trainer's split: 48 h ending at TRAIN_WINDOW_END, the last 12 h as holdout.
    expect(report.window).toEqual({
      trainFrom: START.toISOString(),
      holdoutFrom: new Date(end.getTime() - 12 * 3_600_000).toISOString(),
      holdoutTo: end.toISOString(),
    });
    expect(report.summary.trainRows).toBeGreaterThan(8_000);
    expect(report.summary.trainSampleRows).toBe(6_000);
    expect(report.spec.hashBits).toBe(16);
    expect(r.stderr).toContain('[analyze models');
    expect(existsSync(join(dir, 'report.html'))).toBe(true);
    expect(JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'))).toEqual(JSON.parse(r.stdout));

    const logged = r.logs.find((l) => l.msg === 'feature-insight report logged to MLflow');
    expect(logged).toBeDefined();
    const mlflow = mlflowClient();
    const run = await mlflow.getRun(String(logged!.runId));
    expect(run.info.status).toBe('FINISHED');
    const files = (await mlflow.listArtifacts(run.info.artifactUri, 'feature-insight')).map((f) => f.path).sort();
    expect(files).toEqual(['feature-insight/report.html', 'feature-insight/report.json']);
    const json = await mlflow.downloadArtifact(run.info.artifactUri, 'feature-insight/report.json');
    expect(JSON.parse(json.toString('utf8'))).toEqual(JSON.parse(r.stdout));
    const html = (await mlflow.downloadArtifact(run.info.artifactUri, 'feature-insight/report.html')).toString('utf8');
    expect(html).toContain('svg');
    expect(run.data.metrics['feature_insight.full_ne']).toBeCloseTo(report.summary.fullNe, 10);
  }, 180_000);

  it('logs into an existing run with --run-id and prints the summary table', async () => {
    const mlflow = mlflowClient();
    const experiment = await mlflow.getOrCreateExperiment(modelName);
    const run = await mlflow.createRun({ experimentId: experiment.experimentId, runName: 'existing' });
    const r = await cli(['analyze', '--run-id', run.info.runId, '--out', join(out, 'existing'), '--quiet'], env());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Feature insight — holdout NE \d\.\d{4}, AUC/);
    expect(r.stdout).toMatch(/#\s+action\s+target\s+name/);
    expect(r.stderr).not.toContain('[analyze');
    const after = await mlflow.getRun(run.info.runId);
    // Not ours to finish.
    expect(after.info.status).toBe('RUNNING');
    const files = (await mlflow.listArtifacts(run.info.artifactUri, 'feature-insight')).map((f) => f.path).sort();
    expect(files).toEqual(['feature-insight/report.html', 'feature-insight/report.json']);
    expect(after.data.tags['feature_insight.drop']).toBeDefined();
    await mlflow.finishRun(run.info.runId);
  }, 180_000);

  it('runs as the last step of `run` with ANALYZE_ON_RUN=true and logs the report to the training run', async () => {
    const r = await cli(
      ['run'],
      env({ ANALYZE_ON_RUN: 'true', GATE_MIN_TRAIN_ROWS: '100', GATE_MIN_HOLDOUT_ROWS: '100' }),
    );
    expect(r.code).toBe(0);
    const logged = r.logs.find((l) => l.msg === 'feature-insight report logged to MLflow');
    expect(logged, JSON.stringify(r.logs.filter((l) => l.level !== 'info'))).toBeDefined();
    const outcome = r.logs.find((l) => typeof l.outcome === 'string' && l.outcome !== 'ERROR');
    expect(outcome).toBeDefined();
    const mlflow = mlflowClient();
    const run = await mlflow.getRun(String(logged!.runId));
    // The training run itself (it carries the trainer's params), finished after the step.
    expect(run.info.status).toBe('FINISHED');
    expect(Object.keys(run.data.params).length).toBeGreaterThan(0);
    const files = (await mlflow.listArtifacts(run.info.artifactUri, 'feature-insight')).map((f) => f.path).sort();
    expect(files).toEqual(['feature-insight/report.html', 'feature-insight/report.json']);
    expect(run.data.metrics['feature_insight.full_ne']).toBeGreaterThan(0);
    // The analysis trains with the settings the run's candidate was trained with (as the search chose them).
    const report = FeatureReportSchema.parse(
      JSON.parse((await mlflow.downloadArtifact(run.info.artifactUri, 'feature-insight/report.json')).toString('utf8')),
    );
    expect(report.training.alpha).toBe(Number(run.data.params['ftrl.alpha']));
    expect(report.training.l1).toBe(Number(run.data.params['ftrl.l1']));
    expect(report.training.l2).toBe(Number(run.data.params['ftrl.l2']));
    expect(report.training.passes).toBe(Number(run.data.params['train.passes']));
  }, 240_000);
});
