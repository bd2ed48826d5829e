import { describe, expect, it } from 'vitest';
import {
  ClicklogErrorCode,
  type ClickRecord,
  type ImpressionRecord,
  profileWindow,
  readTrainingRows,
} from '../src/index.js';
import { at, useSeededSchema } from './support.js';

const WINDOW = 30;

// 100 impressions one minute apart from -200 to -101; five more inside the label delay.
// Every 4th has ad_id, every 10th has context.site (one of them ""), all have country.
const impressions: ImpressionRecord[] = [];
for (let m = -200; m <= -101; m++) {
  const k = m + 200;
  impressions.push({
    id: `i${k}`,
    servedAt: at(m),
    impression: {
      country: 'de',
      ...(k % 4 === 0 ? { ad_id: `a${k}` } : {}),
      ...(k % 10 === 0 ? { context: { site: k === 0 ? '' : `s${k}`, n: k } } : { context: { n: null } }),
    },
  });
}
for (let m = -20; m < -15; m++) impressions.push({ id: `young${m}`, servedAt: at(m), impression: {} });

// Impressions 0..9 clicked in time (delay 1..10 min); 10..13 clicked late only (delay 40, 60, 80, 100 min);
// 14 clicked before it was served (ignored) and late; 15 clicked in time twice and once late.
const clicks: ClickRecord[] = [];
for (let k = 0; k < 10; k++) clicks.push({ impressionId: `i${k}`, clickedAt: at(k - 200 + k + 1) });
for (let k = 10; k < 14; k++) clicks.push({ impressionId: `i${k}`, clickedAt: at(k - 200 + 40 + (k - 10) * 20) });
clicks.push(
  { impressionId: 'i14', clickedAt: at(14 - 200 - 5) },
  { impressionId: 'i14', clickedAt: at(14 - 200 + 45) },
);
clicks.push(
  { impressionId: 'i15', clickedAt: at(15 - 200 + 2) },
  { impressionId: 'i15', clickedAt: at(15 - 200 + 3) },
  { impressionId: 'i15', clickedAt: at(15 - 200 + 50) },
  { impressionId: 'no-such-impression', clickedAt: at(-150) },
);

const { pool, schema } = useSeededSchema('profile', { impressions, clicks }, 2);

const base = { db: pool, schema, from: at(-300), to: at(0), attributionWindowMinutes: WINDOW, now: at(0) };

describe('profileWindow', () => {
  it('counts eligible rows and clicks exactly as the reader labels them', async () => {
    const p = await profileWindow(base);
    let rows = 0;
    let positives = 0;
    for await (const row of readTrainingRows(base)) {
      rows++;
      positives += row.label;
    }
    expect(p.window).toEqual({ rows, clicks: positives });
    expect(p.window).toEqual({ rows: 100, clicks: 11 });
    expect(p.pendingRows).toBe(5);
    expect(p.labelCutoff).toEqual(at(-30));
    expect(p.train).toBeNull();
    expect(p.holdout).toBeNull();
  });

  it('counts late clicks with their delay quantiles', async () => {
    const p = await profileWindow(base);
    expect(p.lateClicks).toBe(5);
    // Late first clicks: 40, 60, 80, 100 and 45 minutes.
    expect(p.lateClickDelaySeconds?.p50).toBeCloseTo(60 * 60, 6);
    expect(p.lateClickDelaySeconds?.p99).toBeGreaterThan(99 * 60);
    // All 16 first clicks: 1..10 and 2 minutes in time, 40..100 late; the median lies between 7 and 8.
    expect(p.clickDelaySeconds?.p50).toBeCloseTo(7.5 * 60, 6);
    expect(p.clickDelaySeconds?.p90).toBeGreaterThan(60 * 60);
  });

  it('counts each field present (not absent, null or empty), column or context', async () => {
    const p = await profileWindow({
      ...base,
      fields: [
        { name: 'ad_id', source: 'column' },
        { name: 'country', source: 'column' },
        { name: 'os', source: 'column' },
        { name: 'site', source: 'context' },
        { name: 'n', source: 'context' },
        { name: "x'); DROP TABLE impressions; --", source: 'context' },
      ],
    });
    expect(p.fields.map((f) => [f.name, f.present])).toEqual([
      ['ad_id', 25],
      ['country', 100],
      ['os', 0],
      ['site', 9],
      ['n', 10],
      ["x'); DROP TABLE impressions; --", 0],
    ]);
  });

  it('splits counts at the holdout start and says where the table data lies', async () => {
    const p = await profileWindow({ ...base, holdoutFrom: at(-190) });
    expect(p.holdout).toEqual({ rows: 90, clicks: 1 });
    expect(p.train).toEqual({ rows: 10, clicks: 10 });
    expect(p.table).toEqual({ firstServedAt: at(-200), lastServedAt: at(-16) });
  });

  it('profiles an empty window without failing, still saying where the data is', async () => {
    const p = await profileWindow({ ...base, from: at(-1000), to: at(-900), holdoutFrom: at(-950) });
    expect(p.window).toEqual({ rows: 0, clicks: 0 });
    expect(p.holdout).toEqual({ rows: 0, clicks: 0 });
    expect(p.clickDelaySeconds).toBeNull();
    expect(p.table.lastServedAt).toEqual(at(-16));
  });

  it('rejects a column that is not an impression column', async () => {
    await expect(
      profileWindow({ ...base, fields: [{ name: 'nope' as 'os', source: 'column' }] }),
    ).rejects.toMatchObject({ code: ClicklogErrorCode.INVALID_OPTIONS });
  });
});
