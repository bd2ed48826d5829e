import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { FeaturizedBatch } from '../../src/index.js';

const run = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** The project's Python (venv with scikit-learn). */
export function pythonPath(): string {
  return process.env.FALLBACK_CTR_PYTHON ?? path.join(REPO, '.venv/bin/python');
}

export interface SklearnLrResult {
  C: number;
  holdout_logloss: number;
  holdout_auc: number;
  fit_seconds: number;
  train_rows_per_second: number;
}

function bytesOf(a: Uint32Array | Uint8Array | Float64Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Fits scikit-learn LogisticRegression on the same hashed rows for each C; returns per-C results and the best. */
export async function sklearnLogisticRegression(
  train: FeaturizedBatch,
  holdout: FeaturizedBatch,
  size: number,
  cs: number[],
  solver = 'lbfgs',
): Promise<{ results: SklearnLrResult[]; best: SklearnLrResult }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fctr-sklearn-lr-'));
  try {
    await writeFile(
      path.join(dir, 'meta.json'),
      JSON.stringify({ width: train.width, size, cs, solver, max_iter: 500 }),
    );
    await writeFile(path.join(dir, 'train_indices.u32'), bytesOf(train.indices));
    await writeFile(path.join(dir, 'train_labels.u8'), bytesOf(train.labels));
    await writeFile(path.join(dir, 'holdout_indices.u32'), bytesOf(holdout.indices));
    await writeFile(path.join(dir, 'holdout_labels.u8'), bytesOf(holdout.labels));
    const { stdout } = await run(pythonPath(), [path.join(REPO, 'bench/python/learn-sklearn-lr.py'), dir], {
      maxBuffer: 1 << 24,
    });
    return JSON.parse(stdout) as { results: SklearnLrResult[]; best: SklearnLrResult };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** scikit-learn roc_auc_score and log_loss for each named case. */
export async function sklearnMetrics(
  cases: Record<string, { predictions: Float64Array; labels: Uint8Array }>,
): Promise<Array<{ case: string; auc: number; logloss: number }>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fctr-sklearn-metrics-'));
  try {
    await writeFile(path.join(dir, 'cases.json'), JSON.stringify(Object.keys(cases)));
    for (const [name, c] of Object.entries(cases)) {
      await writeFile(path.join(dir, `${name}.f64`), bytesOf(c.predictions));
      await writeFile(path.join(dir, `${name}.u8`), bytesOf(c.labels));
    }
    const { stdout } = await run(pythonPath(), [path.join(REPO, 'bench/python/learn-sklearn-metrics.py'), dir]);
    return JSON.parse(stdout) as Array<{ case: string; auc: number; logloss: number }>;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
