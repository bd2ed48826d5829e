import type { RawImpression } from '@fallback-ctr/model';
import { ClicklogError, ClicklogErrorCode } from '../errors.js';
import { parseOptions } from '../parse-options.js';
import {
  type Degrade,
  type SyntheticField,
  type SyntheticTrafficOptions,
  type SyntheticTrafficOptionsInput,
  SyntheticTrafficOptionsSchema,
} from './options.js';
import { cyrb128, Prng } from './prng.js';
import { COUNTRIES, DEVICE_TYPES, OS_BY_DEVICE, PLACEMENTS, SITE_CATEGORIES, TrafficWorld } from './traffic-world.js';

/** One generated impression with its truth and (maybe) its click. */
export interface SyntheticImpression {
  id: string;
  servedAt: Date;
  /** 0-based day index from the start. */
  day: number;
  impression: RawImpression;
  /** True click probability (before any degrade). */
  trueCtr: number;
  /** When a click happened, after a random delay; null for no click. */
  clickedAt: Date | null;
}

/** The same, with epoch milliseconds (no Date objects on the hot path). */
export interface SyntheticRow {
  id: string;
  servedAtMs: number;
  day: number;
  impression: RawImpression;
  trueCtr: number;
  /** NaN when there was no click. */
  clickedAtMs: number;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const SHUFFLE_RING = 4096;
const ALL_OS = [...new Set(OS_BY_DEVICE.flatMap((list) => list.map(([name]) => name)))];

export function parseTrafficOptions(input: SyntheticTrafficOptionsInput): SyntheticTrafficOptions {
  return parseOptions(SyntheticTrafficOptionsSchema, input, 'synthetic traffic');
}

/**
 * First day at UTC midnight: the given start, else `days` days before today, else (with `until`)
 * `days - 1` days before the day holding `until`.
 */
export function startOfTraffic(
  options: Pick<SyntheticTrafficOptions, 'start' | 'days' | 'firstDay' | 'until'>,
  today = new Date(),
): Date {
  const daysBack = options.firstDay + options.days - (options.until ? 1 : 0);
  const base = options.start ?? new Date((options.until ?? today).getTime() - daysBack * DAY_MS);
  if (Number.isNaN(base.getTime())) {
    throw new ClicklogError(
      ClicklogErrorCode.INVALID_OPTIONS,
      'Invalid synthetic traffic options: start is not a date',
    );
  }
  return new Date(Math.floor(base.getTime() / DAY_MS) * DAY_MS);
}

function drawUserAgeDays(prng: Prng): number {
  return Math.min(5000, Math.floor(Math.exp(3.3 + 1.9 * prng.normal())));
}

function drawPageViews(prng: Prng): number {
  return Math.max(0, Math.floor(Math.exp(1.4 + 1.1 * prng.normal())) - 1);
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Sets the bias so the mean true CTR over a sample of traffic equals baseCtr. */
function calibrateBias(world: TrafficWorld, seed: number | string, baseCtr: number): void {
  const prng = Prng.stream(seed, 'calibration');
  const logits = new Float64Array(20_000);
  for (let i = 0; i < logits.length; i++) {
    const utcHour = world.hourSampler.pick(prng.float());
    const slot = world.slotSampler.pick(prng.float());
    const ad = world.adSampler.pick(prng.float());
    const device = world.deviceSampler.pick(prng.float());
    const os = world.osSamplers[device]!.pick(prng.float());
    const country = world.countrySampler.pick(prng.float());
    const hour = (utcHour + COUNTRIES[country]![1] + 24) % 24;
    logits[i] = world.logit(ad, slot, device, os, country, hour, drawUserAgeDays(prng), drawPageViews(prng));
  }
  let lo = -20;
  let hi = 5;
  for (let iter = 0; iter < 60; iter++) {
    const mid = (lo + hi) / 2;
    let sum = 0;
    for (const z of logits) sum += sigmoid(mid + z);
    if (sum / logits.length > baseCtr) hi = mid;
    else lo = mid;
  }
  world.bias = (lo + hi) / 2;
}

/** A value of `field` drawn at random from what the generator writes there: a scrambled field's value. */
function scrambledValue(field: SyntheticField, world: TrafficWorld, prng: Prng): string | number {
  const pick = <T>(list: readonly T[]): T => list[prng.int(list.length)]!;
  const draw: Record<SyntheticField, () => string | number> = {
    slot_id: () => pick(world.slotIds),
    placement: () => pick(PLACEMENTS),
    ad_id: () => pick(world.adIds),
    campaign_id: () => pick(world.campaignIds),
    advertiser_id: () => pick(world.advertiserIds),
    device_type: () => pick(DEVICE_TYPES),
    os: () => pick(ALL_OS),
    country: () => pick(COUNTRIES)[0],
    hour_of_day: () => prng.int(24),
    user_age_days: () => drawUserAgeDays(prng),
    page_views: () => drawPageViews(prng),
    site_category: () => pick(SITE_CATEGORIES),
  };
  return draw[field]();
}

/** Writes a wrong value for the broken field (or removes it); the click still follows the truth. */
function breakField(
  impression: RawImpression,
  degrade: Extract<Degrade, { mode: 'broken-feature' }>,
  world: TrafficWorld,
  prng: Prng,
): void {
  const field: SyntheticField = degrade.field;
  const isContext =
    field === 'hour_of_day' || field === 'user_age_days' || field === 'page_views' || field === 'site_category';
  const numeric = field === 'hour_of_day' || field === 'user_age_days' || field === 'page_views';
  let value: string | number | undefined;
  if (degrade.kind === 'missing') value = undefined;
  else if (degrade.kind === 'constant') value = numeric ? 0 : 'unknown';
  else value = scrambledValue(field, world, prng);
  if (isContext) {
    const context = impression.context!;
    if (value === undefined) delete context[field];
    else context[field] = value;
  } else if (value === undefined) delete (impression as Record<string, unknown>)[field];
  else (impression as Record<string, unknown>)[field] = value;
}

/**
 * The generator's core: rows in served_at order, one day after another, each day from its own
 * PRNG streams, so the output depends only on the options. Degrades draw from separate streams:
 * a degraded run has exactly the clean run's traffic except the degraded part.
 */
export function* syntheticRows(options: SyntheticTrafficOptions, start: Date): Generator<SyntheticRow> {
  const world = new TrafficWorld(options);
  calibrateBias(world, options.seed, options.baseCtr);
  const tag = cyrb128(String(options.seed))[0].toString(36);
  const { degrade, impressionsPerDay: n } = options;
  const delayMedianMs = options.clickDelay.medianSeconds * 1000;
  const ring = new Float64Array(SHUFFLE_RING);

  const { churn } = options;
  for (let day = 0; day < options.firstDay + options.days; day++) {
    if (day > 0 && options.drift > 0) world.applyDrift(options.drift, Prng.stream(options.seed, `drift/${day}`));
    if (day > 0 && churn.adsPerDay > 0) world.addEntities(churn, day, Prng.stream(options.seed, `churn/${day}`));
    if (day < options.firstDay) continue;
    const freshPick = Prng.stream(options.seed, `fresh/${day}`);
    const prng = Prng.stream(options.seed, `traffic/${day}`);
    const spoil = Prng.stream(options.seed, `degrade/${day}`);
    const degraded = degrade !== undefined && day >= degrade.fromDay ? degrade : undefined;
    const shifted = options.shift !== undefined && day >= options.shift.fromDay ? options.shift : undefined;
    const dayStart = start.getTime() + day * DAY_MS;
    let filled = 0;
    // Ascending uniform order statistics, one at a time: O(1) memory however many rows a day has.
    let remaining = 1;
    for (let k = 0; k < n; k++) {
      remaining *= prng.floatOpen() ** (1 / (n - k));
      const offsetMs = Math.floor(world.hourSampler.invert(Math.min(1 - remaining, 0.9999999999)) * HOUR_MS);
      const servedAtMs = dayStart + Math.min(offsetMs, DAY_MS - 1);
      const utcHour = Math.floor((servedAtMs - dayStart) / HOUR_MS);
      const slot = world.slotSampler.pick(prng.float());
      let ad = world.adSampler.pick(prng.float());
      if (churn.adsPerDay > 0 && freshPick.float() < churn.freshTraffic) {
        ad = world.pickFreshAd(day, freshPick.float()) ?? ad;
      }
      const deviceU = prng.float();
      // u² piles the draws towards the first device type; the draw itself is the same as unshifted.
      const device = world.deviceSampler.pick(shifted?.deviceMix ? deviceU * deviceU : deviceU);
      const os = world.osSamplers[device]!.pick(prng.float());
      const country = world.countrySampler.pick(prng.float());
      const userAgeDays = drawUserAgeDays(prng);
      const pageViews = drawPageViews(prng);
      const clickU = prng.float();
      const delayZ = prng.normal();

      const [countryCode, utcOffset] = COUNTRIES[country]!;
      const hour = (utcHour + utcOffset + 24) % 24;
      const modelCtr = sigmoid(world.bias + world.logit(ad, slot, device, os, country, hour, userAgeDays, pageViews));
      const trueCtr = shifted ? Math.min(1, modelCtr * shifted.ctrFactor) : modelCtr;
      let labelCtr = trueCtr;
      if (degraded?.mode === 'shuffled-labels') {
        ring[filled % SHUFFLE_RING] = trueCtr;
        filled++;
        labelCtr = ring[spoil.int(Math.min(filled, SHUFFLE_RING))]!;
      }
      const campaign = world.adCampaign[ad]!;
      const impression: RawImpression = {
        slot_id: world.slotIds[slot]!,
        placement: PLACEMENTS[world.slotPlacement[slot]!]!,
        ad_id: world.adIds[ad]!,
        campaign_id: world.campaignIds[campaign]!,
        advertiser_id: world.advertiserIds[world.campaignAdvertiser[campaign]!]!,
        device_type: DEVICE_TYPES[device]!,
        os: OS_BY_DEVICE[device]![os]![0],
        country: countryCode,
        context: {
          hour_of_day: hour,
          user_age_days: userAgeDays,
          page_views: pageViews,
          site_category: SITE_CATEGORIES[world.slotSite[slot]!]!,
        },
      };
      if (degraded?.mode === 'broken-feature') breakField(impression, degraded, world, spoil);
      const clickedAtMs =
        clickU < labelCtr
          ? servedAtMs + Math.max(1000, Math.round(delayMedianMs * Math.exp(options.clickDelay.sigma * delayZ)))
          : Number.NaN;
      // Zero-padded so ids only grow: index inserts append to the right-most B-tree page.
      yield {
        id: `${tag}-${String(day).padStart(3, '0')}-${String(k).padStart(8, '0')}`,
        servedAtMs,
        day,
        impression,
        trueCtr,
        clickedAtMs,
      };
    }
  }
}

/**
 * Pure, deterministic generator (no database): the rows generateTraffic writes, in served_at order.
 * Options are validated at call time. Pass `start` for output that does not depend on today's date.
 */
export function syntheticImpressions(input: SyntheticTrafficOptionsInput = {}): Generator<SyntheticImpression> {
  const options = parseTrafficOptions(input);
  return toPublic(syntheticRows(options, startOfTraffic(options)));
}

function* toPublic(rows: Generator<SyntheticRow>): Generator<SyntheticImpression> {
  for (const row of rows) {
    yield {
      id: row.id,
      servedAt: new Date(row.servedAtMs),
      day: row.day,
      impression: row.impression,
      trueCtr: row.trueCtr,
      clickedAt: Number.isNaN(row.clickedAtMs) ? null : new Date(row.clickedAtMs),
    };
  }
}
