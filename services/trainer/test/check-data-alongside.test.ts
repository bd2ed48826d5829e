import type { TrainingSplit } from '@fallback-ctr/clicklog';
import { defaultFeatureSpec, type FeatureSpec } from '@fallback-ctr/model';
import { silentLogger } from '@fallback-ctr/runtime';
import { describe, expect, it } from 'vitest';
import { loadTrainerConfig } from '../src/config.js';
import { loadAndCheckData } from '../src/pipeline/check-data.js';
import { windowBounds } from '../src/pipeline/load-window.js';
import { trainerEnv } from './support/e2e.js';
import { useSeededSchema } from './support/seeded-schema.js';

const { schema, pool } = useSeededSchema('check_alongside');
const config = loadTrainerConfig(trainerEnv(schema, 'unused'));

/** Work started on the split that ends only when aborted, or when `release` is called. */
function watched() {
  const seen: { split?: TrainingSplit; signal?: AbortSignal; settled: boolean } = { settled: false };
  let release: (value: string) => void = () => undefined;
  const alongside = (split: TrainingSplit, signal: AbortSignal) => {
    seen.split = split;
    seen.signal = signal;
    return new Promise<string>((resolve, reject) => {
      release = resolve;
      signal.addEventListener('abort', () => reject(signal.reason));
    }).finally(() => {
      seen.settled = true;
    });
  };
  return { seen, alongside, release: (value: string) => release(value) };
}

const check = (spec: FeatureSpec, alongside: ReturnType<typeof watched>['alongside']) =>
  loadAndCheckData(config, pool, spec, windowBounds(config.window), silentLogger(), async () => undefined, alongside);

describe('loadAndCheckData with work alongside the checks', () => {
  it('hands back the work started on the split when the checks say TRAIN, still running', async () => {
    const w = watched();
    const data = await check(defaultFeatureSpec, w.alongside);
    expect(data.outcome).toBe('TRAIN');
    if (data.outcome !== 'TRAIN') return;
    expect(w.seen.split).toBe(data.split);
    expect(w.seen.signal?.aborted).toBe(false);
    expect(w.seen.settled).toBe(false);
    w.release('rows');
    await expect(data.alongside).resolves.toBe('rows');
  });

  it('aborts it and waits for it to end when the checks fail', async () => {
    const w = watched();
    const spec = { ...defaultFeatureSpec, fields: [{ name: 'banner_pos', source: 'context', kind: 'categorical' }] };
    await expect(check(spec as FeatureSpec, w.alongside)).rejects.toMatchObject({ code: 'TRAINER_DATA_COVERAGE' });
    expect(w.seen.signal?.aborted).toBe(true);
    expect(w.seen.settled).toBe(true);
  });
});
