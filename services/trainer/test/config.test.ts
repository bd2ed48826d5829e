import { describe, expect, it } from 'vitest';
import { badVariables, configError } from '../../../test/support/config-error.js';
import { loadTrainerConfig, TRAINER_ENV_NAMES, TrainerEnvSchema } from '../src/config.js';

const base = { DATABASE_URL: 'postgres://u:p@localhost/db', MLFLOW_TRACKING_URI: 'http://mlflow:5000/' };

describe('loadTrainerConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadTrainerConfig(base);
    expect(c.mlflow).toMatchObject({
      modelName: 'fallback-ctr',
      experimentName: 'fallback-ctr',
    });
    expect(c.window).toEqual({ trainWindowHours: 168, holdoutHours: 24, attributionWindowMinutes: 60, end: undefined });
    expect(c.rollout).toMatchObject({ mode: 'none', deployment: 'fallback-ctr-inference', timeoutMs: 600_000 });
    expect(c.schedule).toEqual({ cron: '0 3 * * *', timeZone: 'UTC' });
    expect(c.gate.minAuc).toBe(0.6);
    expect(c.gate.calibrationMin).toBeLessThan(c.gate.calibrationMax);
    expect(c.featureSpecSource).toBeUndefined();
    expect(c.passes).toBe(1);
  });

  it('reads every value it is given', () => {
    const c = loadTrainerConfig({
      ...base,
      MODEL_NAME: 'm1',
      MLFLOW_EXPERIMENT_NAME: 'exp',
      TRAIN_WINDOW_END: '2026-01-02T03:04:05Z',
      FTRL_ALPHA: '0.1',
      TRAIN_PASSES: '3',
      GATE_MAX_AUC_DROP: '0.01',
      ROLLOUT_MODE: 'kubernetes',
      K8S_NAMESPACE: 'ads',
      ROLLOUT_TIMEOUT_SECONDS: '5',
      SCHEDULE: '*/5 * * * *',
      SCHEDULE_TIMEZONE: 'Europe/Berlin',
      LOCK_WAIT_SECONDS: '2',
    });
    expect(c.mlflow.experimentName).toBe('exp');
    expect(c.window.end?.toISOString()).toBe('2026-01-02T03:04:05.000Z');
    expect(c.ftrl.alpha).toBe(0.1);
    expect(c.passes).toBe(3);
    expect(c.gate.maxAucDrop).toBe(0.01);
    expect(c.rollout).toMatchObject({ mode: 'kubernetes', namespace: 'ads', timeoutMs: 5000 });
    expect(c.schedule).toEqual({ cron: '*/5 * * * *', timeZone: 'Europe/Berlin' });
    expect(c.lockWaitMs).toBe(2000);
  });

  it('lists every bad variable in one error', () => {
    const error = configError(() =>
      loadTrainerConfig({
        MLFLOW_TRACKING_URI: 'not a url',
        FTRL_ALPHA: '-1',
        ROLLOUT_MODE: 'helm',
        SCHEDULE: 'every day',
        SCHEDULE_TIMEZONE: 'Mars/Olympus',
        CLICKLOG_SCHEMA: 'drop table;',
        K8S_ANNOTATION_KEY: 'bad key!',
      }),
    );
    expect(badVariables(error)).toEqual(
      [
        'CLICKLOG_SCHEMA',
        'DATABASE_URL',
        'FTRL_ALPHA',
        'K8S_ANNOTATION_KEY',
        'MLFLOW_TRACKING_URI',
        'ROLLOUT_MODE',
        'SCHEDULE',
        'SCHEDULE_TIMEZONE',
      ].sort(),
    );
  });

  it('rejects a holdout as long as the window and an inverted calibration band', () => {
    expect(() => loadTrainerConfig({ ...base, TRAIN_WINDOW_HOURS: '24', HOLDOUT_HOURS: '24' })).toThrow(
      /HOLDOUT_HOURS/,
    );
    expect(() => loadTrainerConfig({ ...base, GATE_CALIBRATION_MIN: '1.2', GATE_CALIBRATION_MAX: '1.1' })).toThrow(
      /GATE_CALIBRATION_MIN/,
    );
  });

  it('refuses durations too large to be meant (they overflow dates and timers later)', () => {
    for (const variable of [
      'TRAIN_WINDOW_HOURS',
      'ATTRIBUTION_WINDOW_MINUTES',
      'ROLLOUT_TIMEOUT_SECONDS',
      'ROLLOUT_POLL_SECONDS',
      'LOCK_WAIT_SECONDS',
      'PROGRESS_INTERVAL_SECONDS',
    ]) {
      const error = configError(() => loadTrainerConfig({ ...base, [variable]: '1e308' }), variable);
      expect(badVariables(error), variable).toEqual([variable]);
    }
  });

  it('refuses a window end later than now minus the attribution window (its labels are not final)', () => {
    const now = new Date('2026-06-01T12:00:00Z');
    const at =
      (end: string, extra: Record<string, string> = {}) =>
      () =>
        loadTrainerConfig({ ...base, TRAIN_WINDOW_END: end, ...extra }, { clock: () => now });
    expect(at('2026-06-01T13:00:00Z')).toThrow(/TRAIN_WINDOW_END: expected a time at or before 2026-06-01T11:00:00/);
    expect(at('2026-06-01T11:30:00Z')).toThrow(/TRAIN_WINDOW_END/);
    expect(at('2026-06-01T11:30:00Z', { ATTRIBUTION_WINDOW_MINUTES: '15' })().window.end?.toISOString()).toBe(
      '2026-06-01T11:30:00.000Z',
    );
    expect(at('2026-06-01T11:00:00Z')().window.end?.toISOString()).toBe('2026-06-01T11:00:00.000Z');
  });

  it('exports the variable names for manifests', () => {
    expect(TRAINER_ENV_NAMES).toContain('DATABASE_URL');
    expect(TRAINER_ENV_NAMES).toContain('K8S_DEPLOYMENT');
    expect(TRAINER_ENV_NAMES).toEqual(Object.keys(TrainerEnvSchema.shape));
    expect(new Set(TRAINER_ENV_NAMES).size).toBe(TRAINER_ENV_NAMES.length);
  });
});
