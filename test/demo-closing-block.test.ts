import { describe, expect, it } from 'vitest';
import { closingBlock, type DemoOutcome } from '../scripts/demo/closing-block.js';
import { demoOptions } from '../scripts/demo/demo-env.js';

const outcome: DemoOutcome = {
  seconds: 61,
  stopped: false,
  color: false,
  root: '/home/me/fallback-ctr',
  dataDir: '.data/demo',
  logs: ['.data/demo/logs.jsonl', '.data/demo/mlflow/mlflow.log'],
  localMlflow: true,
  trackingUri: 'http://127.0.0.1:40001',
  experimentId: '1',
  modelName: 'fallback-ctr',
  firstChampion: '1',
  secondChampion: '2',
  inferenceUrl: 'http://127.0.0.1:8080',
  databaseUrl: 'postgres://postgres@127.0.0.1:40002/postgres',
};

describe("the demo's options", () => {
  it('--exit or DEMO_EXIT=true stops everything at the end; without either it keeps running', () => {
    expect(demoOptions({ DEMO_EXIT: 'false' }, ['--exit'], true).exitAtEnd).toBe(true);
    expect(demoOptions({ DEMO_EXIT: 'true' }, [], true).exitAtEnd).toBe(true);
    expect(demoOptions({ DEMO_EXIT: 'false' }, [], true).exitAtEnd).toBe(false);
  });

  it('readable lines on a terminal, JSON lines when the output is not one, and DEMO_LOG_FORMAT wins', () => {
    expect(demoOptions({ DEMO_EXIT: 'false' }, [], true).format).toBe('pretty');
    expect(demoOptions({ DEMO_EXIT: 'false' }, [], false).format).toBe('json');
    expect(demoOptions({ DEMO_EXIT: 'false', DEMO_LOG_FORMAT: 'json' }, [], true).format).toBe('json');
    expect(demoOptions({ DEMO_EXIT: 'false', DEMO_LOG_FORMAT: 'pretty' }, [], false).format).toBe('pretty');
  });
});

describe("the demo's closing block", () => {
  it('while everything runs: every URL, the env to paste and how to stop', () => {
    const block = closingBlock(outcome);
    expect(block).toContain('fallback-ctr is up (61 s).');
    expect(block).toContain('http://127.0.0.1:40001/#/experiments/1');
    expect(block).toContain('http://127.0.0.1:40001/#/models/fallback-ctr/versions/2');
    expect(block).toContain('http://127.0.0.1:8080/docs');
    expect(block).toContain(
      'export DATABASE_URL=postgres://postgres@127.0.0.1:40002/postgres MLFLOW_TRACKING_URI=http://127.0.0.1:40001 MODEL_NAME=fallback-ctr',
    );
    expect(block).toContain('Press Ctrl-C to stop everything');
  });

  it('after --exit: says it has stopped and claims nothing is running (no URL, no command that needs it)', () => {
    const block = closingBlock({ ...outcome, stopped: true });
    expect(block).toContain('fallback-ctr ran end to end in 61 s and has stopped (--exit).');
    expect(block).toContain(
      "what it left in .data/demo: summary.json, logs (.data/demo/logs.jsonl, .data/demo/mlflow/mlflow.log), MLflow's SQLite database and artifacts",
    );
    expect(block).not.toMatch(/https?:\/\//);
    expect(block).not.toMatch(/\bis up\b|Ctrl-C|export |npm run|curl/);
  });

  it('colours only on a terminal', () => {
    expect(closingBlock({ ...outcome, color: true })).toContain('\x1b[1m');
    expect(closingBlock(outcome)).not.toContain('\x1b[');
  });
});
