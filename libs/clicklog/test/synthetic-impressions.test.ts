import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { pageViewsEffect } from '../src/generator/traffic-world.js';
import {
  ClicklogErrorCode,
  SYNTHETIC_CONTEXT_FIELDS,
  SYNTHETIC_FIELDS,
  type SyntheticImpression,
  type SyntheticTrafficOptionsInput,
  syntheticImpressions,
  TRUE_INTERACTIONS,
  TRUE_NUMERIC_EFFECTS,
} from '../src/index.js';

const start = new Date('2026-02-01T00:00:00Z');
const small: SyntheticTrafficOptionsInput = { seed: 42, days: 2, impressionsPerDay: 20_000, start };

/** Deep equality for large arrays (node's is much faster than the matcher's). */
function same(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(a, b);
}

function take(options: SyntheticTrafficOptionsInput): SyntheticImpression[] {
  return [...syntheticImpressions(options)];
}

/** AUC of scores against labels (rank statistic, ties averaged). */
function auc(scores: number[], labels: number[]): number {
  const order = scores.map((s, i) => [s, labels[i]!] as const).sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  let positives = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && order[j]![0] === order[i]![0]) j++;
    const rank = (i + j + 1) / 2;
    for (let k = i; k < j; k++)
      if (order[k]![1] === 1) {
        rankSum += rank;
        positives++;
      }
    i = j;
  }
  const negatives = order.length - positives;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

const clean = take(small);

describe('syntheticImpressions', () => {
  it('is deterministic from the seed', () => {
    expect(same(take({ ...small, days: 1 }), clean.slice(0, 20_000))).toBe(true);
    const other = take({ ...small, seed: 43, days: 1 }).slice(0, 500);
    expect(other.map((r) => r.impression.ad_id)).not.toEqual(clean.slice(0, 500).map((r) => r.impression.ad_id));
    expect(new Set(clean.map((r) => r.id)).size).toBe(clean.length);
  });

  it('is time-ordered within the requested days, clicks after their impression', () => {
    let outOfOrder = 0;
    for (let i = 1; i < clean.length; i++) {
      if (clean[i]!.servedAt.getTime() < clean[i - 1]!.servedAt.getTime()) outOfOrder++;
    }
    expect(outOfOrder).toBe(0);
    expect(clean[0]!.servedAt.getTime()).toBeGreaterThanOrEqual(start.getTime());
    expect(clean.at(-1)!.servedAt.getTime()).toBeLessThan(start.getTime() + 2 * 86_400_000);
    expect(clean.filter((r) => r.day === 1)).toHaveLength(20_000);
    expect(clean.filter((r) => r.clickedAt && r.clickedAt.getTime() <= r.servedAt.getTime())).toEqual([]);
    expect(clean.some((r) => r.clickedAt)).toBe(true);
  });

  it('has a base CTR in 0.5%..3%, matching the observed clicks, near the asked base rate', () => {
    const mean = clean.reduce((s, r) => s + r.trueCtr, 0) / clean.length;
    const observed = clean.filter((r) => r.clickedAt).length / clean.length;
    expect(mean).toBeGreaterThan(0.012);
    expect(mean).toBeLessThan(0.018);
    expect(Math.abs(observed - mean)).toBeLessThan(0.003);
    const low = take({ ...small, days: 1, baseCtr: 0.005 });
    expect(low.reduce((s, r) => s + r.trueCtr, 0) / low.length).toBeCloseTo(0.005, 3);
  });

  it('has realistic cardinalities with a long tail of popularity', () => {
    const counts = new Map<string, number>();
    for (const r of clean) counts.set(r.impression.ad_id!, (counts.get(r.impression.ad_id!) ?? 0) + 1);
    expect(counts.size).toBeGreaterThan(1_500);
    const sorted = [...counts.values()].sort((a, b) => b - a);
    const top1pct = sorted.slice(0, 30).reduce((s, c) => s + c, 0);
    expect(top1pct / clean.length).toBeGreaterThan(0.15);
    expect(new Set(clean.map((r) => r.impression.slot_id)).size).toBeGreaterThan(1_000);
  });

  it('fills every column and the contract context fields with the right types', () => {
    for (const r of clean.slice(0, 2_000)) {
      for (const f of SYNTHETIC_FIELDS) {
        const v = (SYNTHETIC_CONTEXT_FIELDS as readonly string[]).includes(f)
          ? r.impression.context?.[f]
          : r.impression[f as 'ad_id'];
        expect(v, f).toBeDefined();
      }
      const ctx = r.impression.context!;
      expect(
        Number.isInteger(ctx.hour_of_day) && (ctx.hour_of_day as number) >= 0 && (ctx.hour_of_day as number) < 24,
      ).toBe(true);
      expect(Number.isInteger(ctx.page_views) && (ctx.page_views as number) >= 0).toBe(true);
      expect(ctx.user_age_days as number).toBeGreaterThanOrEqual(0);
      expect(typeof ctx.site_category).toBe('string');
    }
    const ages = clean.map((r) => r.impression.context!.user_age_days as number).sort((a, b) => a - b);
    const median = ages[Math.floor(ages.length / 2)]!;
    const p99 = ages[Math.floor(ages.length * 0.99)]!;
    expect(p99 / Math.max(1, median)).toBeGreaterThan(20); // heavy tail: needs log1p
  });

  it('truth carries signal: the true CTR ranks clicks well (oracle AUC)', () => {
    const value = auc(
      clean.map((r) => r.trueCtr),
      clean.map((r) => (r.clickedAt ? 1 : 0)),
    );
    expect(value).toBeGreaterThan(0.7);
  });

  it('has the declared interactions: ad x device moves the CTR beyond the separate effects', () => {
    expect(TRUE_INTERACTIONS.map((i) => i.fields.join('x'))).toEqual([
      'ad_idxdevice_type',
      'placementxhour_of_day',
      'site_categoryxcountry',
    ]);
    for (const i of TRUE_INTERACTIONS) for (const f of i.fields) expect(SYNTHETIC_FIELDS).toContain(f);
    // For the most popular ad, mobile vs desktop log-odds differ from the population's mobile vs desktop gap.
    const logit = (p: number) => Math.log(p / (1 - p));
    const byAd = new Map<string, SyntheticImpression[]>();
    for (const r of clean) {
      const list = byAd.get(r.impression.ad_id!);
      if (list) list.push(r);
      else byAd.set(r.impression.ad_id!, [r]);
    }
    const gaps = [...byAd.values()]
      .filter((rows) => rows.length > 300)
      .map((rows) => {
        const m = (d: string) => {
          const sel = rows.filter((r) => r.impression.device_type === d && r.impression.context?.page_views === 5);
          return sel.length ? sel.reduce((s, r) => s + logit(r.trueCtr), 0) / sel.length : Number.NaN;
        };
        return m('mobile') - m('desktop');
      })
      .filter((g) => !Number.isNaN(g));
    const spread = Math.max(...gaps) - Math.min(...gaps);
    expect(gaps.length).toBeGreaterThan(3);
    expect(spread).toBeGreaterThan(0.5);
  });

  it('drift leaves day 0 alone and moves the truth of later days', () => {
    const drifted = take({ ...small, drift: 0.5 });
    expect(same(drifted.slice(0, 20_000), clean.slice(0, 20_000))).toBe(true);
    const day1 = (rows: SyntheticImpression[]) => rows.slice(20_000, 20_100);
    expect(day1(drifted).map((r) => r.impression)).toEqual(day1(clean).map((r) => r.impression));
    expect(day1(drifted).map((r) => r.trueCtr)).not.toEqual(day1(clean).map((r) => r.trueCtr));
  });

  it('shuffled labels keep the base rate but decouple labels from the truth', () => {
    const shuffled = take({ ...small, degrade: { mode: 'shuffled-labels' } });
    expect(
      same(
        shuffled.map((r) => r.trueCtr),
        clean.map((r) => r.trueCtr),
      ),
    ).toBe(true);
    const rate = shuffled.filter((r) => r.clickedAt).length / shuffled.length;
    expect(rate).toBeGreaterThan(0.01);
    expect(rate).toBeLessThan(0.02);
    const value = auc(
      shuffled.map((r) => r.trueCtr),
      shuffled.map((r) => (r.clickedAt ? 1 : 0)),
    );
    expect(value).toBeGreaterThan(0.44);
    expect(value).toBeLessThan(0.58);
  });

  it('a broken feature changes only that field, only from the given day', () => {
    const broken = take({
      ...small,
      degrade: { mode: 'broken-feature', field: 'device_type', kind: 'scrambled', fromDay: 1 },
    });
    expect(same(broken.slice(0, 20_000), clean.slice(0, 20_000))).toBe(true);
    const later = broken.slice(20_000);
    const ref = clean.slice(20_000);
    expect(
      same(
        later.map((r) => r.clickedAt),
        ref.map((r) => r.clickedAt),
      ),
    ).toBe(true);
    expect(
      same(
        later.map((r) => r.impression.ad_id),
        ref.map((r) => r.impression.ad_id),
      ),
    ).toBe(true);
    const changed = later.filter((r, i) => r.impression.device_type !== ref[i]!.impression.device_type).length;
    expect(changed / later.length).toBeGreaterThan(0.4);
    const missing = take({
      ...small,
      days: 1,
      degrade: { mode: 'broken-feature', field: 'page_views', kind: 'missing' },
    });
    expect(missing.every((r) => r.impression.context && !('page_views' in r.impression.context))).toBe(true);
    const constant = take({
      ...small,
      days: 1,
      degrade: { mode: 'broken-feature', field: 'country', kind: 'constant' },
    });
    expect(new Set(constant.map((r) => r.impression.country))).toEqual(new Set(['unknown']));
  });

  it('declares the numeric step boundaries the truth really uses', () => {
    const pv = TRUE_NUMERIC_EFFECTS.find((e) => e.field === 'page_views');
    if (!pv || !('boundaries' in pv)) throw new Error('page_views boundaries missing');
    const bounds: readonly number[] = pv.boundaries;
    for (const b of bounds) expect(pageViewsEffect(b), `step at ${b}`).not.toBe(pageViewsEffect(b - 1));
    for (let v = 0; v < 200; v++) {
      if (!bounds.includes(v + 1)) expect(pageViewsEffect(v + 1), `no step at ${v + 1}`).toBe(pageViewsEffect(v));
    }
  });

  it('rejects bad options at call time', () => {
    expect(() => syntheticImpressions({ baseCtr: 0.2 })).toThrow(
      expect.objectContaining({ code: ClicklogErrorCode.INVALID_OPTIONS }),
    );
    expect(() => syntheticImpressions({ degrade: { mode: 'broken-feature', field: 'nope' as 'ad_id' } })).toThrow(
      /degrade/,
    );
  });
});
