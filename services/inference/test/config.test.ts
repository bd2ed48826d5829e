import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { badVariables, configError } from '../../../test/support/config-error.js';
import { INFERENCE_ENV_NAMES, InferenceEnvSchema, loadConfig } from '../src/index.js';

const base = { MLFLOW_TRACKING_URI: 'http://mlflow:5000' };

describe('inference configuration from the environment', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(base);
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 8080,
      workers: availableParallelism(),
      modelName: 'fallback-ctr',
      modelAlias: 'champion',
      modelVersion: undefined,
      startupDeadlineMs: 120_000,
      maxBatchSize: 1000,
      bodyLimitBytes: 1_048_576,
      requestTimeoutMs: 10_000,
      maxArtifactBytes: 128 * 1024 * 1024,
      apiTokens: [],
      drainMs: 5_000,
      graceMs: 10_000,
      logLevel: 'info',
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      ...base,
      HOST: '127.0.0.1',
      PORT: '9000',
      WORKERS: '3',
      MODEL_NAME: 'm',
      MODEL_ALIAS: 'canary',
      MODEL_VERSION: '12',
      STARTUP_DEADLINE_SECONDS: '2.5',
      MAX_BATCH_SIZE: '50',
      BODY_LIMIT_BYTES: '4096',
      API_TOKENS: ' a , b ,,',
      SHUTDOWN_DRAIN_SECONDS: '0',
      SHUTDOWN_GRACE_SECONDS: '3',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 9000,
      workers: 3,
      modelName: 'm',
      modelAlias: 'canary',
      modelVersion: '12',
      startupDeadlineMs: 2500,
      maxBatchSize: 50,
      bodyLimitBytes: 4096,
      apiTokens: ['a', 'b'],
      drainMs: 0,
      graceMs: 3000,
      logLevel: 'debug',
    });
  });

  it('reports every bad variable in one error and never echoes a token', () => {
    const error = configError(() =>
      loadConfig({
        PORT: 'eighty',
        WORKERS: '0',
        MODEL_VERSION: 'latest',
        MODEL_ALIAS: 'bad alias',
        MAX_BATCH_SIZE: '-1',
        LOG_LEVEL: 'loud',
        API_TOKENS: 'sekrit',
      }),
    );
    expect(badVariables(error)).toEqual(
      ['LOG_LEVEL', 'MAX_BATCH_SIZE', 'MLFLOW_TRACKING_URI', 'MODEL_ALIAS', 'MODEL_VERSION', 'PORT', 'WORKERS'].sort(),
    );
    expect(error.message).not.toContain('sekrit');
  });

  it('shadow scoring is off unless SHADOW_ALIAS names an alias; SHADOW_SHARE is a share in [0, 1]', () => {
    expect(loadConfig(base).shadow).toBeUndefined();
    expect(loadConfig({ ...base, SHADOW_SHARE: '0.3' }).shadow).toBeUndefined();
    expect(loadConfig({ ...base, SHADOW_ALIAS: 'challenger' }).shadow).toEqual({ alias: 'challenger', share: 1 });
    expect(loadConfig({ ...base, SHADOW_ALIAS: 'challenger', SHADOW_SHARE: '0.25' }).shadow).toEqual({
      alias: 'challenger',
      share: 0.25,
    });
    for (const [variable, value] of [
      ['SHADOW_SHARE', '1.5'],
      ['SHADOW_SHARE', '-0.1'],
      ['SHADOW_ALIAS', 'two words'],
    ] as const) {
      const error = configError(
        () => loadConfig({ ...base, SHADOW_ALIAS: 'challenger', [variable]: value }),
        `${variable}=${value}`,
      );
      expect(badVariables(error), `${variable}=${value}`).toEqual([variable]);
    }
  });

  it('refuses a token list that names no token (it would silently turn auth off) and a non-http MLflow URI', () => {
    for (const [variable, value] of [
      ['API_TOKENS', ' , '],
      ['API_TOKENS', ','],
      ['MLFLOW_TRACKING_URI', 'ftp://mlflow:5000'],
      ['MLFLOW_TRACKING_URI', 'file:///tmp/mlruns'],
    ] as const) {
      const error = configError(() => loadConfig({ ...base, [variable]: value }), `${variable}=${value}`);
      expect(badVariables(error), `${variable}=${value}`).toEqual([variable]);
    }
    expect(loadConfig({ ...base, API_TOKENS: ' t ,' }).apiTokens).toEqual(['t']);
    expect(() => loadConfig({ ...base, MLFLOW_TRACKING_URI: 'https://mlflow.example' })).not.toThrow();
  });

  it('exports the variable names for the Kubernetes manifests', () => {
    expect(Object.keys(InferenceEnvSchema.shape)).toEqual(
      expect.arrayContaining([
        'PORT',
        'WORKERS',
        'MLFLOW_TRACKING_URI',
        'MODEL_NAME',
        'MODEL_ALIAS',
        'MODEL_VERSION',
        'API_TOKENS',
        'SHUTDOWN_GRACE_SECONDS',
      ]),
    );
    expect(INFERENCE_ENV_NAMES).toEqual(
      expect.arrayContaining(['PORT', 'MLFLOW_TRACKING_TOKEN', 'MLFLOW_TRACKING_USERNAME']),
    );
    expect(new Set(INFERENCE_ENV_NAMES).size).toBe(INFERENCE_ENV_NAMES.length);
  });
});
