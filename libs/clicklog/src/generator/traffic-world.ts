import type { Churn, SyntheticTrafficOptions } from './options.js';
import { Prng, WeightedSampler, zipfWeights } from './prng.js';

/** Vocabularies of the small categorical fields. */
export const PLACEMENTS = [
  'banner_top',
  'sidebar',
  'in_article',
  'native_feed',
  'interstitial',
  'footer',
  'sticky_bottom',
  'video_preroll',
] as const;
const PLACEMENT_SHARE = [0.22, 0.16, 0.17, 0.18, 0.06, 0.09, 0.08, 0.04];

export const SITE_CATEGORIES = [
  'news',
  'sports',
  'finance',
  'tech',
  'entertainment',
  'gaming',
  'travel',
  'food',
  'health',
  'autos',
  'fashion',
  'home',
  'education',
  'music',
  'weather',
  'parenting',
  'real_estate',
  'science',
  'pets',
  'jobs',
] as const;

export const DEVICE_TYPES = ['mobile', 'desktop', 'tablet', 'ctv'] as const;
const DEVICE_SHARE = [0.56, 0.33, 0.08, 0.03];
const DEVICE_EFFECT = [0.1, -0.12, 0.05, -0.55];

/** Operating systems by device type, with shares. */
export const OS_BY_DEVICE: readonly (readonly [string, number][])[] = [
  [
    ['android', 0.62],
    ['ios', 0.38],
  ],
  [
    ['windows', 0.7],
    ['macos', 0.22],
    ['linux', 0.08],
  ],
  [
    ['ios', 0.55],
    ['android', 0.45],
  ],
  [
    ['tizen', 0.4],
    ['webos', 0.3],
    ['android_tv', 0.3],
  ],
];

/** Country codes with their UTC offset in hours (the local hour of serving depends on it). */
export const COUNTRIES: readonly (readonly [string, number])[] = [
  ['US', -5],
  ['GB', 0],
  ['DE', 1],
  ['FR', 1],
  ['IN', 5],
  ['BR', -3],
  ['JP', 9],
  ['CA', -5],
  ['IT', 1],
  ['ES', 1],
  ['MX', -6],
  ['AU', 10],
  ['NL', 1],
  ['PL', 1],
  ['TR', 3],
  ['ID', 7],
  ['KR', 9],
  ['SE', 1],
  ['AR', -3],
  ['ZA', 2],
  ['NG', 1],
  ['EG', 2],
  ['PH', 8],
  ['VN', 7],
  ['TH', 7],
  ['BE', 1],
  ['CH', 1],
  ['AT', 1],
  ['PT', 0],
  ['NZ', 12],
];

/** Share of traffic by UTC hour (the sum does not matter). */
const UTC_HOUR_TRAFFIC = Array.from({ length: 24 }, (_, h) => 1 + 0.55 * Math.sin((2 * Math.PI * (h - 9)) / 24));

/** Spreads (standard deviations, logit units) of the random effects. */
const SD = {
  advertiser: 0.3,
  campaign: 0.3,
  ad: 0.5,
  slot: 0.4,
  placement: 0.35,
  site: 0.3,
  country: 0.25,
  os: 0.12,
  adDevice: 0.45,
  placementHour: 0.4,
  siteCountry: 0.45,
} as const;

/** True effect of user_age_days: fresh users click more, a dip around a month, a small rise for old users. */
export function userAgeEffect(days: number): number {
  const x = Math.log1p(days);
  return 0.45 * Math.exp(-x) - 0.3 * Math.exp(-((x - 3.4) ** 2) / 0.6) + 0.15 / (1 + Math.exp(-3 * (x - 6.2)));
}

/** True effect of page_views: a step function, so only explicit bucket boundaries recover it. */
export function pageViewsEffect(pv: number): number {
  if (pv === 0) return -0.35;
  if (pv <= 2) return -0.05;
  if (pv <= 10) return 0.3;
  if (pv <= 50) return 0.05;
  return -0.45;
}

export function hourEffect(hour: number): number {
  return 0.3 * Math.sin((2 * Math.PI * (hour - 15)) / 24);
}

function normals(prng: Prng, n: number, sd: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = sd * prng.normal();
  return out;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** The fixed identities of one synthetic market: entities, popularity and the true effects. */
export class TrafficWorld {
  readonly adIds: string[];
  /** Growable (new entities append): plain arrays rather than typed ones. */
  readonly adCampaign: number[];
  readonly campaignIds: string[];
  readonly campaignAdvertiser: number[];
  readonly advertiserIds: string[];
  readonly slotIds: string[];
  readonly slotPlacement: Int32Array;
  readonly slotSite: Int32Array;

  readonly adSampler: WeightedSampler;
  readonly slotSampler: WeightedSampler;
  readonly deviceSampler = new WeightedSampler(DEVICE_SHARE);
  readonly osSamplers = OS_BY_DEVICE.map((list) => new WeightedSampler(list.map(([, share]) => share)));
  readonly countrySampler: WeightedSampler;
  readonly hourSampler = new WeightedSampler(UTC_HOUR_TRAFFIC);

  // Effects; mutated day by day when drift > 0.
  bias = 0;
  readonly adEffect: number[];
  readonly campaignEffect: number[];
  readonly advertiserEffect: number[];
  readonly slotEffect: Float64Array;
  readonly placementEffect: Float64Array;
  readonly siteEffect: Float64Array;
  readonly countryEffect: Float64Array;
  readonly osEffect: Float64Array[];
  readonly adDevice: number[];
  /** Ads introduced by churn, by day: index range [start, end) into adIds. */
  readonly freshAds = new Map<number, { start: number; end: number }>();
  readonly placementHour: Float64Array;
  readonly siteCountry: Float64Array;

  constructor(options: Pick<SyntheticTrafficOptions, 'seed' | 'cardinality'>) {
    const { ads, campaigns, advertisers, slots } = options.cardinality;
    const prng = Prng.stream(options.seed, 'world');
    this.advertiserIds = Array.from({ length: advertisers }, (_, i) => `adv_${pad(i, 4)}`);
    this.campaignIds = Array.from({ length: campaigns }, (_, i) => `cmp_${pad(i, 5)}`);
    this.adIds = Array.from({ length: ads }, (_, i) => `ad_${pad(i, 6)}`);
    this.slotIds = Array.from({ length: slots }, (_, i) => `slot_${pad(i, 6)}`);

    const advertiserPick = new WeightedSampler(zipfWeights(advertisers, 0.9, prng));
    this.campaignAdvertiser = Array.from({ length: campaigns }, () => advertiserPick.pick(prng.float()));
    const campaignPick = new WeightedSampler(zipfWeights(campaigns, 0.8, prng));
    this.adCampaign = Array.from({ length: ads }, () => campaignPick.pick(prng.float()));
    this.adSampler = new WeightedSampler(zipfWeights(ads, 1.05, prng));

    const placementPick = new WeightedSampler(PLACEMENT_SHARE);
    const sitePick = new WeightedSampler(zipfWeights(SITE_CATEGORIES.length, 0.8, prng));
    this.slotPlacement = Int32Array.from({ length: slots }, () => placementPick.pick(prng.float()));
    this.slotSite = Int32Array.from({ length: slots }, () => sitePick.pick(prng.float()));
    this.slotSampler = new WeightedSampler(zipfWeights(slots, 1.1, prng));
    this.countrySampler = new WeightedSampler(COUNTRIES.map((_, i) => 1 / (i + 1) ** 1.2));

    this.advertiserEffect = Array.from(normals(prng, advertisers, SD.advertiser));
    this.campaignEffect = Array.from(normals(prng, campaigns, SD.campaign));
    this.adEffect = Array.from(normals(prng, ads, SD.ad));
    this.slotEffect = normals(prng, slots, SD.slot);
    this.placementEffect = normals(prng, PLACEMENTS.length, SD.placement);
    this.siteEffect = normals(prng, SITE_CATEGORIES.length, SD.site);
    this.countryEffect = normals(prng, COUNTRIES.length, SD.country);
    this.osEffect = OS_BY_DEVICE.map((list) => normals(prng, list.length, SD.os));
    this.adDevice = Array.from(normals(prng, ads * DEVICE_TYPES.length, SD.adDevice));
    this.placementHour = normals(prng, PLACEMENTS.length * 24, SD.placementHour);
    this.siteCountry = normals(prng, SITE_CATEGORIES.length * COUNTRIES.length, SD.siteCountry);
  }

  /** Log-odds of a click without the bias. */
  logit(
    ad: number,
    slot: number,
    device: number,
    os: number,
    country: number,
    hour: number,
    userAgeDays: number,
    pageViews: number,
  ): number {
    const campaign = this.adCampaign[ad]!;
    const placement = this.slotPlacement[slot]!;
    const site = this.slotSite[slot]!;
    return (
      this.adEffect[ad]! +
      this.campaignEffect[campaign]! +
      this.advertiserEffect[this.campaignAdvertiser[campaign]!]! +
      this.slotEffect[slot]! +
      this.placementEffect[placement]! +
      this.siteEffect[site]! +
      this.countryEffect[country]! +
      DEVICE_EFFECT[device]! +
      this.osEffect[device]![os]! +
      hourEffect(hour) +
      this.adDevice[ad * DEVICE_TYPES.length + device]! +
      this.placementHour[placement * 24 + hour]! +
      this.siteCountry[site * COUNTRIES.length + country]! +
      userAgeEffect(userAgeDays) +
      pageViewsEffect(pageViews)
    );
  }

  /**
   * Adds the day's new ads (and maybe campaigns and advertisers), effects drawn from the same priors;
   * ids carry the day (`ad_d003_00012`) so they never collide with the original ones.
   */
  addEntities(churn: Churn, day: number, prng: Prng): void {
    const start = this.adIds.length;
    for (let i = 0; i < churn.adsPerDay; i++) {
      let campaign: number;
      if (prng.float() < churn.newCampaignShare) {
        let advertiser: number;
        if (prng.float() < churn.newAdvertiserShare) {
          advertiser = this.advertiserIds.length;
          this.advertiserIds.push(`adv_d${pad(day, 3)}_${pad(i, 5)}`);
          this.advertiserEffect.push(SD.advertiser * prng.normal());
        } else advertiser = prng.int(this.advertiserIds.length);
        campaign = this.campaignIds.length;
        this.campaignIds.push(`cmp_d${pad(day, 3)}_${pad(i, 5)}`);
        this.campaignAdvertiser.push(advertiser);
        this.campaignEffect.push(SD.campaign * prng.normal());
      } else campaign = prng.int(this.campaignIds.length);
      this.adIds.push(`ad_d${pad(day, 3)}_${pad(i, 5)}`);
      this.adCampaign.push(campaign);
      this.adEffect.push(SD.ad * prng.normal());
      for (let d = 0; d < DEVICE_TYPES.length; d++) this.adDevice.push(SD.adDevice * prng.normal());
    }
    this.freshAds.set(day, { start, end: this.adIds.length });
  }

  /** An ad introduced on `day` or the day before, uniformly; undefined when there is none. */
  pickFreshAd(day: number, u: number): number | undefined {
    const today = this.freshAds.get(day);
    const yesterday = this.freshAds.get(day - 1);
    const nToday = today ? today.end - today.start : 0;
    const nYesterday = yesterday ? yesterday.end - yesterday.start : 0;
    const n = nToday + nYesterday;
    if (n === 0) return undefined;
    const k = Math.min(n - 1, Math.floor(u * n));
    return k < nToday ? (today as { start: number }).start + k : (yesterday as { start: number }).start + k - nToday;
  }

  /** One day of random-walk drift: every effect moves by `drift` times its spread (scaled noise). */
  applyDrift(drift: number, prng: Prng): void {
    const walk = (values: Float64Array | number[], sd: number) => {
      for (let i = 0; i < values.length; i++) values[i]! += drift * sd * prng.normal();
    };
    walk(this.adEffect, SD.ad);
    walk(this.campaignEffect, SD.campaign);
    walk(this.slotEffect, SD.slot);
    walk(this.placementEffect, SD.placement);
    walk(this.siteEffect, SD.site);
    walk(this.countryEffect, SD.country);
    walk(this.adDevice, SD.adDevice);
    walk(this.placementHour, SD.placementHour);
    walk(this.siteCountry, SD.siteCountry);
    this.bias += drift * 0.15 * prng.normal();
  }
}
