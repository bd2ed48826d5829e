import type { RawImpression } from '@fallback-ctr/model';
import { createPrng } from '../../src/prng.js';

/** One synthetic row: the impression, its true click probability and a label drawn from it. */
export interface SyntheticRow {
  label: 0 | 1;
  impression: RawImpression;
  trueCtr: number;
}

export interface SyntheticOptions {
  rows: number;
  seed?: number;
  /** Intercept of the true logit (≈ log-odds of the base rate). */
  intercept?: number;
}

function gaussian(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/**
 * A small in-process click-log generator for unit-level checks (libs/clicklog has the real one): the true
 * CTR is a logistic model in the default feature spec's fields, with interactions only where it has
 * crosses (ad × device, placement × hour, site × country), so a hashed
 * logistic regression can get close to the oracle. The world (effects) depends on `seed` only; rows are
 * drawn from a PRNG seeded with seed + 1.
 */
export function* syntheticRows(options: SyntheticOptions): Generator<SyntheticRow> {
  const seed = options.seed ?? 1;
  const w = createPrng(seed);
  const effects = (n: number, sd: number) => Float64Array.from({ length: n }, () => sd * gaussian(w));
  const N = { ads: 400, slots: 150, campaigns: 60, advertisers: 20, countries: 12, sites: 10 };
  const ad = effects(N.ads, 0.5);
  const slot = effects(N.slots, 0.3);
  const placement = effects(4, 0.3);
  const device = effects(3, 0.4);
  const os = effects(5, 0.2);
  const country = effects(N.countries, 0.25);
  const site = effects(N.sites, 0.3);
  const adDevice = effects(N.ads * 3, 0.3);
  const placementHour = effects(4 * 24, 0.2);
  const siteCountry = effects(N.sites * N.countries, 0.25);
  const adCampaign = Array.from({ length: N.ads }, () => Math.floor(w() * N.campaigns));
  const campaignAdvertiser = Array.from({ length: N.campaigns }, () => Math.floor(w() * N.advertisers));
  const intercept = options.intercept ?? -3.4;
  const r = createPrng(seed + 1);
  const skewed = (n: number) => Math.min(n - 1, Math.floor(n * r() * r()));
  for (let i = 0; i < options.rows; i++) {
    const a = skewed(N.ads);
    const s = skewed(N.slots);
    const p = Math.floor(r() * 4);
    const d = Math.floor(r() * 3);
    const o = Math.min(4, d * 2 + Math.floor(r() * 2));
    const c = skewed(N.countries);
    const st = Math.floor(r() * N.sites);
    const hour = Math.floor(r() * 24);
    const age = Math.exp(gaussian(r) * 1.5 + 4);
    const pv = Math.floor(-Math.log(1 - r()) * 6);
    let logit =
      intercept +
      (ad[a] as number) +
      (slot[s] as number) +
      (placement[p] as number) +
      (device[d] as number) +
      (os[o] as number) +
      (country[c] as number) +
      (site[st] as number) +
      (adDevice[a * 3 + d] as number) +
      (placementHour[p * 24 + hour] as number) +
      (siteCountry[st * N.countries + c] as number) +
      0.25 * Math.sin((2 * Math.PI * hour) / 24) -
      0.08 * Math.log1p(age) +
      (pv >= 3 && pv < 13 ? 0.2 : 0);
    if (logit > 5) logit = 5;
    const trueCtr = 1 / (1 + Math.exp(-logit));
    const siteMissing = r() < 0.03;
    const impression: RawImpression = {
      slot_id: `slot-${s}`,
      placement: `pl-${p}`,
      ad_id: `ad-${a}`,
      campaign_id: `cmp-${adCampaign[a]}`,
      advertiser_id: `adv-${campaignAdvertiser[adCampaign[a] as number]}`,
      device_type: ['mobile', 'desktop', 'tablet'][d] as string,
      os: `os-${o}`,
      country: `c${c}`,
      context: {
        hour_of_day: hour,
        user_age_days: age,
        page_views: pv,
        site_category: siteMissing ? null : `site-${st}`,
      },
    };
    yield { label: r() < trueCtr ? 1 : 0, impression, trueCtr };
  }
}
