import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'fctr-demo-'));

const PredictionsSchema = z.object({
  model: z.object({ name: z.string(), version: z.string() }),
  predictions: z.array(z.object({ id: z.string(), ctr: z.number().gt(0).lt(1) })),
});
const SummarySchema = z.object({
  modelName: z.string(),
  firstChampion: z.string(),
  secondChampion: z.string(),
  versions: z.array(z.object({ version: z.string(), gate: z.string().optional(), runId: z.string() })),
  predictionsBefore: PredictionsSchema,
  predictionsAfter: PredictionsSchema,
});

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('the one-command demo on embedded defaults', () => {
  it('trains version 1, serves it, trains version 2 on a new day, and serves version 2 after a restart', {
    timeout: 600_000,
  }, async () => {
    // The embedded path: no DATABASE_URL (PGlite instead) and no MLFLOW_TRACKING_URI (MLflow on SQLite).
    const { DATABASE_URL: _db, MLFLOW_TRACKING_URI: _mlflow, ...env } = process.env;
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', 'scripts/demo/demo.ts', '--exit'],
      {
        cwd: root,
        env: {
          ...env,
          DEMO_DATA_DIR: dataDir,
          DEMO_IMPRESSIONS_PER_DAY: '40000',
          DEMO_INFERENCE_PORT: '0',
          DEMO_MODEL_NAME: 'demo-e2e',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, output).toBe(0);

    const summary = SummarySchema.parse(JSON.parse(readFileSync(join(dataDir, 'summary.json'), 'utf8')));
    expect(summary.firstChampion).toBe('1');
    expect(summary.secondChampion).toBe('2');
    expect(summary.versions.map((v) => [v.version, v.gate]).sort()).toEqual([
      ['1', 'PASS'],
      ['2', 'PASS'],
    ]);
    expect(summary.predictionsBefore.model).toEqual({ name: 'demo-e2e', version: '1' });
    expect(summary.predictionsAfter.model).toEqual({ name: 'demo-e2e', version: '2' });
    expect(summary.predictionsAfter.predictions.map((p) => p.id)).toEqual(
      summary.predictionsBefore.predictions.map((p) => p.id),
    );
    // A different model scores the same impressions differently.
    expect(summary.predictionsAfter.predictions.map((p) => p.ctr)).not.toEqual(
      summary.predictionsBefore.predictions.map((p) => p.ctr),
    );
    // --exit: the closing lines say it ran and stopped, never that anything is still running.
    expect(output).toContain('ran end to end');
    expect(output).not.toMatch(/is (up|running)|Ctrl-C/);
    // Not a terminal: the log lines stay pino JSON.
    expect(output).toMatch(/^\{"level":/m);
  });
});
