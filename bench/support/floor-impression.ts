/** Impression `i` of the /predict bodies bench/inference-floor.ts sends (and bench/predict-body-scan.ts reads). */
export function floorImpression(i: number) {
  return {
    id: `imp-${i}`,
    slot_id: `slot-${i % 40}`,
    placement: ['top', 'sidebar', 'footer'][i % 3],
    ad_id: `ad-${(i * 7) % 400}`,
    campaign_id: `c-${i % 40}`,
    advertiser_id: `adv-${i % 15}`,
    device_type: ['mobile', 'desktop', 'tablet'][i % 3],
    os: ['android', 'ios', 'windows', 'macos'][i % 4],
    country: ['DE', 'FR', 'US', 'GB'][i % 4],
    context: { hour_of_day: i % 24, user_age_days: (i * 37) % 900, page_views: i % 30, site_category: 'news' },
  };
}
