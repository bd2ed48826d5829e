import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshot } from '../../../test/support/browser.js';
import { ExitCode } from '../src/cli.js';
import { mlflowLinks } from '../src/mlflow-links.js';
import { cleanUp, cli, mlflowClient, seedTraffic, trackingUri, trainerEnv, uniqueSuffix } from './support/e2e.js';
import { mlflowUi } from './support/mlflow-ui.js';

const suffix = uniqueSuffix();
const modelName = `trainer-ui-${suffix}`;
const schema = `trainer_ui_${suffix}`;
const mlflow = mlflowClient();
let browser: Browser;
let page: Page;
let experimentId: string;
const runIds: string[] = [];

let ui: ReturnType<typeof mlflowUi>;

describe('the MLflow UI as an engineer reads it (real MLflow, headless Chromium)', () => {
  beforeAll(async () => {
    await seedTraffic(schema);
    for (let i = 0; i < 2; i++) {
      const { code, logs } = await cli(['run'], trainerEnv(schema, modelName, { ROLLOUT_MODE: 'none' }));
      expect(code, JSON.stringify(logs.at(-1))).toBe(ExitCode.OK);
      runIds.push(String(logs.at(-1)?.runId));
    }
    experimentId = (await mlflow.getExperimentByName(modelName))!.experimentId;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    ui = mlflowUi(page);
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    if (!process.env.UX_KEEP) await cleanUp(modelName, [schema]);
  });

  it('opens the experiment in the classic machine-learning view, runs named after their outcome', {
    timeout: 300_000,
  }, async () => {
    const experiment = await mlflow.getExperimentByName(modelName);
    expect(experiment?.tags['mlflow.experimentKind']).toBe('custom_model_development');
    await ui.open(mlflowLinks.experiment(trackingUri(), experimentId));
    await ui.visible('v2 PROMOTED');
    await ui.visible('v1 PROMOTED');
    await ui.closeAssistant();
    await screenshot(page, 'mlflow-experiment');
    expect(await page.getByText('Evaluations', { exact: true }).count()).toBe(0);
  });

  it('shows a run with its gate outcome first, its source and user, and both plots', { timeout: 300_000 }, async () => {
    await ui.open(mlflowLinks.run(trackingUri(), experimentId, runIds[1]!));
    await ui.visible(/Outcome: PASS/);
    await ui.visible('fallback-ctr-trainer run');
    await ui.closeAssistant();
    await screenshot(page, 'mlflow-run', { fullPage: true });
    for (const plot of ['reliability', 'roc']) {
      await ui.openImageArtifact(mlflowLinks.run(trackingUri(), experimentId, runIds[1]!), `plots/${plot}.png`);
      await ui.closeAssistant();
      await screenshot(page, `mlflow-run-plot-${plot}`);
    }
  });

  it('shows a version with its alias, gate tags, rounded holdout numbers and input schema', {
    timeout: 300_000,
  }, async () => {
    await ui.open(mlflowLinks.version(trackingUri(), modelName, '2'));
    await ui.visible('champion');
    await ui.visible('gate.outcome');
    await ui.visible(/Gate PASS/);
    await ui.closeAssistant();
    await screenshot(page, 'mlflow-version', { fullPage: true });
    // MLflow's tag table scrolls inside a 280 px box, alphabetically: the holdout and promotion tags are
    // below its fold, where a person scrolls to.
    await page.getByText('holdout.auc', { exact: true }).first().scrollIntoViewIfNeeded({ timeout: 60_000 });
    await ui.visible('promotion.by');
    await screenshot(page, 'mlflow-version-tags');
    const version = await mlflow.getModelVersion(modelName, '2');
    expect(version.tags['holdout.auc']).toMatch(/^0\.\d{4}$/);
    expect(version.tags['holdout.logloss']).toMatch(/^0\.\d{6}$/);
    const first = await mlflow.getModelVersion(modelName, '1');
    expect(first.tags).toMatchObject({ promotion: 'superseded', 'promotion.by': `v2 (run ${runIds[1]})` });
  });
});
