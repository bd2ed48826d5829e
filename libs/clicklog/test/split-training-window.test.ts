import { describe, expect, it } from 'vitest';
import { ClicklogErrorCode, type ImpressionRecord, splitTrainingWindow, type TrainingRow } from '../src/index.js';
import { at, uniqueSchema, useSeededSchema } from './support.js';

const WINDOW = 30;

async function collect(stream: AsyncIterable<TrainingRow>): Promise<TrainingRow[]> {
  const rows: TrainingRow[] = [];
  for await (const row of stream) rows.push(row);
  return rows;
}

// 100 impressions one minute apart from -200 to -101, three of them sharing the instant -110,
// plus five inside the label delay (served after now - 30 min).
const impressions: ImpressionRecord[] = [];
for (let m = -200; m <= -101; m++) impressions.push({ id: `i${m}`, servedAt: at(m), impression: { ad_id: `a${m}` } });
impressions.push(
  { id: 'tie-1', servedAt: at(-110), impression: {} },
  { id: 'tie-2', servedAt: at(-110), impression: {} },
);
for (let m = -25; m < -20; m++) impressions.push({ id: `young${m}`, servedAt: at(m), impression: {} });

const { pool, schema } = useSeededSchema('split', {
  impressions,
  clicks: impressions.filter((_, i) => i % 7 === 0).map((r) => ({ impressionId: r.id, clickedAt: at(-100) })),
});

const base = { db: pool, schema, from: at(-300), to: at(0), attributionWindowMinutes: WINDOW, now: at(0) };

describe('splitTrainingWindow', () => {
  it('puts the most recent fraction in the holdout, strictly later than every training row', async () => {
    const split = await splitTrainingWindow({ ...base, holdout: { fraction: 0.1 } });
    const train = await collect(split.train.read());
    const holdout = await collect(split.holdout.read());
    expect(train.length + holdout.length).toBe(102);
    expect(split.train.rows).toBe(train.length);
    expect(split.holdout.rows).toBe(holdout.length);
    // 10% of 102 eligible rows: the cut is the served_at of row 91 (0-based), i.e. minute -110,
    // which three rows share: they all go to the holdout.
    expect(split.train.to).toEqual(at(-110));
    expect(holdout.map((r) => r.id).slice(0, 3)).toEqual(['i-110', 'tie-1', 'tie-2']);
    const lastTrain = Math.max(...train.map((r) => r.servedAt.getTime()));
    const firstHoldout = Math.min(...holdout.map((r) => r.servedAt.getTime()));
    expect(lastTrain).toBeLessThan(firstHoldout);
    expect(holdout.map((r) => r.id)).not.toContain('young-25');
    expect(split.labelCutoff).toEqual(at(-WINDOW));
    expect(split.holdout.to).toEqual(at(-WINDOW));
  });

  it('both parts label with the same "now" and attribution window', async () => {
    const split = await splitTrainingWindow({ ...base, holdout: { fraction: 0.5 } });
    const train = await collect(split.train.read());
    const holdout = await collect(split.holdout.read());
    const positives = [...train, ...holdout].filter((r) => r.label === 1).map((r) => r.id);
    // Clicks at -100 count only for impressions served in [-130, -100].
    const expected = impressions
      .filter((_, i) => i % 7 === 0)
      .filter((r) => r.servedAt >= at(-130) && r.servedAt <= at(-100))
      .map((r) => r.id);
    expect(positives.sort()).toEqual(expected.sort());
  });

  it('takes the last N minutes of the eligible window as holdout', async () => {
    const split = await splitTrainingWindow({ ...base, to: at(-150), holdout: { minutes: 20 } });
    expect(split.train.to).toEqual(at(-170));
    const holdout = await collect(split.holdout.read());
    expect(holdout.map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, k) => `i${-170 + k}`));
  });

  it('fails clearly when a part would be empty', async () => {
    await expect(splitTrainingWindow({ ...base, from: at(-1000), to: at(-900) })).rejects.toMatchObject({
      code: ClicklogErrorCode.EMPTY_WINDOW,
    });
    await expect(splitTrainingWindow({ ...base, holdout: { minutes: 1000 } })).rejects.toMatchObject({
      code: ClicklogErrorCode.EMPTY_WINDOW,
      message: expect.stringContaining('training part'),
    });
    await expect(
      splitTrainingWindow({ ...base, from: at(-110), to: at(-109), holdout: { fraction: 0.5 } }),
    ).rejects.toMatchObject({ code: ClicklogErrorCode.EMPTY_WINDOW });
  });

  it('rejects bad windows and holdouts', async () => {
    await expect(splitTrainingWindow({ ...base, from: at(0), to: at(-10) })).rejects.toMatchObject({
      code: ClicklogErrorCode.INVALID_WINDOW,
    });
    await expect(splitTrainingWindow({ ...base, holdout: { fraction: 1.5 } })).rejects.toMatchObject({
      code: ClicklogErrorCode.INVALID_OPTIONS,
    });
    await expect(splitTrainingWindow({ ...base, schema: uniqueSchema('nothing') })).rejects.toMatchObject({
      code: ClicklogErrorCode.SCHEMA_MISSING,
    });
  });
});
