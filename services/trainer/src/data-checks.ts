import type { DelayQuantiles, WindowProfile } from '@fallback-ctr/clicklog';
import type { FieldSpec } from '@fallback-ctr/model';

export interface DataCheckThresholds {
  /** A feature-spec field present in fewer eligible impressions than this share fails the run. */
  minFieldCoverage: number;
  /** Fewer eligible impressions in the window end the run SKIPPED. */
  minRows: number;
  /** Above this share of clicked impressions clicked only after the attribution window, warn. */
  maxLateClickShare: number;
}

/** The window the run asked for, for messages that name what to change. */
export interface CheckedWindow {
  from: Date;
  to: Date;
  attributionWindowMinutes: number;
  holdoutHours: number;
}

export interface FieldCoverage {
  name: string;
  source: FieldSpec['source'];
  present: number;
  /** present / eligible impressions of the window. */
  coverage: number;
}

interface Common {
  /** Finite numbers only, ready to log as MLflow metrics. */
  metrics: Record<string, number>;
  warnings: string[];
  coverage: FieldCoverage[];
}

export type DataCheckResult =
  | (Common & { outcome: 'PASS' })
  | (Common & { outcome: 'SKIP'; reason: string })
  | (Common & { outcome: 'FAIL'; reason: string; failedFields: FieldCoverage[] });

const percent = (share: number): string => `${(share * 100).toFixed(share < 0.1 ? 2 : 1)} %`;
const count = (n: number): string => n.toLocaleString('en-US');

function duration(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 2 * 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 2 * 86_400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

/** A window end that includes the table's last impression: the next whole hour after it. */
function windowEndAfter(last: Date): string {
  const hour = 3_600_000;
  return new Date(Math.floor(last.getTime() / hour) * hour + hour).toISOString().replace('.000Z', 'Z');
}

function whereTheDataIs(profile: WindowProfile, window: CheckedWindow): string {
  const { firstServedAt, lastServedAt } = profile.table;
  if (!firstServedAt || !lastServedAt) {
    return 'the impressions table is empty: load click logs first (clicklog import, or clicklog generate for synthetic ones)';
  }
  const span = `the table holds impressions served from ${firstServedAt.toISOString()} to ${lastServedAt.toISOString()}`;
  const pending =
    profile.pendingRows > 0
      ? `; ${count(profile.pendingRows)} impressions of the window are younger than ATTRIBUTION_WINDOW_MINUTES = ${window.attributionWindowMinutes} and not labelled yet`
      : '';
  return `${span}${pending}: set TRAIN_WINDOW_END=${windowEndAfter(lastServedAt)} (or widen TRAIN_WINDOW_HOURS) to train on them`;
}

function quantileMetrics(prefix: string, q: DelayQuantiles | null): Record<string, number> {
  if (!q) return {};
  return {
    [`${prefix}_p50_minutes`]: q.p50 / 60,
    [`${prefix}_p90_minutes`]: q.p90 / 60,
    [`${prefix}_p99_minutes`]: q.p99 / 60,
  };
}

function lateClickNote(profile: WindowProfile, window: CheckedWindow): string {
  const late = profile.lateClickDelaySeconds;
  const all = profile.clickDelaySeconds;
  const delays = late ? ` (their delay: median ${duration(late.p50)}, p90 ${duration(late.p90)})` : '';
  const suggestion = all ? `; ATTRIBUTION_WINDOW_MINUTES=${Math.ceil(all.p99 / 60)} would count 99 % of them` : '';
  return (
    `${count(profile.lateClicks)} clicked impressions got their first click after the ` +
    `${window.attributionWindowMinutes}-minute attribution window and count as non-clicks${delays}: ` +
    `raise ATTRIBUTION_WINDOW_MINUTES if those clicks belong to the impression${suggestion}`
  );
}

/**
 * The data checks before training, a pure function of the window's profile: an empty window, too few
 * rows or no clicks SKIP the run (nothing to learn or measure, and nothing to register); a feature-spec
 * field absent from the data FAILS it (a model on absent fields is silently worse); many late clicks warn.
 * `split` is false when the window could not be split into a training part and a holdout.
 */
export function checkWindowData(input: {
  profile: WindowProfile;
  fields: readonly Pick<FieldSpec, 'name' | 'source'>[];
  thresholds: DataCheckThresholds;
  window: CheckedWindow;
  split: boolean;
}): DataCheckResult {
  const { profile, thresholds: t, window } = input;
  const rows = profile.window.rows;
  const clicked = profile.window.clicks + profile.lateClicks;
  const metrics: Record<string, number> = {
    data_rows: rows,
    data_clicks: profile.window.clicks,
    data_pending_rows: profile.pendingRows,
    late_clicks: profile.lateClicks,
    ...(clicked > 0 ? { late_click_share: profile.lateClicks / clicked } : {}),
    ...quantileMetrics('click_delay', profile.clickDelaySeconds),
    ...quantileMetrics('late_click_delay', profile.lateClickDelaySeconds),
  };
  if (profile.train && profile.holdout) {
    Object.assign(metrics, {
      data_train_rows: profile.train.rows,
      data_train_clicks: profile.train.clicks,
      data_holdout_rows: profile.holdout.rows,
      data_holdout_clicks: profile.holdout.clicks,
    });
  }
  const coverage: FieldCoverage[] = input.fields.map((f) => {
    const present = profile.fields.find((p) => p.name === f.name && p.source === f.source)?.present ?? 0;
    return { name: f.name, source: f.source, present, coverage: rows > 0 ? present / rows : 0 };
  });
  if (rows > 0) for (const c of coverage) metrics[`coverage.${c.name}`] = c.coverage;

  const warnings: string[] = [];
  const lateShare = clicked > 0 ? profile.lateClicks / clicked : 0;
  if (lateShare > t.maxLateClickShare) {
    warnings.push(
      `${percent(lateShare)} of clicked impressions were clicked late (above DATA_MAX_LATE_CLICK_SHARE = ${percent(t.maxLateClickShare)}): ${lateClickNote(profile, window)}`,
    );
  }
  const common = { metrics, warnings, coverage };
  const skip = (reason: string): DataCheckResult => ({ ...common, outcome: 'SKIP', reason });

  const asked = `[${window.from.toISOString()}, ${window.to.toISOString()})`;
  if (rows === 0) {
    return skip(`no labelled impressions in the window ${asked}; ${whereTheDataIs(profile, window)}`);
  }
  if (!input.split || !profile.train || !profile.holdout) {
    return skip(
      `the window ${asked} has ${count(rows)} labelled impressions, but the training part or the holdout ` +
        `(its last HOLDOUT_HOURS = ${window.holdoutHours} h) has none; ${whereTheDataIs(profile, window)}`,
    );
  }

  const failedFields = coverage.filter((c) => c.coverage < t.minFieldCoverage);
  if (failedFields.length > 0) {
    const list = failedFields.map((c) => `${c.name} (${c.source}) ${percent(c.coverage)}`).join(', ');
    return {
      ...common,
      outcome: 'FAIL',
      failedFields,
      reason:
        `feature-spec fields present in fewer than DATA_MIN_FIELD_COVERAGE = ${percent(t.minFieldCoverage)} of the ` +
        `window's ${count(rows)} impressions: ${list}. Set FEATURE_SPEC to the fields your data has ` +
        `(a column name, or a key of context with source "context"), or load data that has these`,
    };
  }

  if (rows < t.minRows) {
    return skip(
      `only ${count(rows)} labelled impressions in the window ${asked} (DATA_MIN_ROWS = ${count(t.minRows)})`,
    );
  }
  const { train, holdout } = profile;
  if (train.clicks === 0 || holdout.clicks === 0) {
    const part = train.clicks === 0 ? 'training part' : 'holdout';
    const late = profile.lateClicks > 0 ? `; ${lateClickNote(profile, window)}` : '';
    return skip(
      `no clicks in the ${part} (${count(train.clicks)} of ${count(train.rows)} training impressions, ` +
        `${count(holdout.clicks)} of ${count(holdout.rows)} holdout impressions were clicked within ` +
        `ATTRIBUTION_WINDOW_MINUTES = ${window.attributionWindowMinutes})${late}`,
    );
  }
  if (train.clicks === train.rows || holdout.clicks === holdout.rows) {
    return skip('every impression of the training part or the holdout was clicked: no non-clicks to learn from');
  }
  return { ...common, outcome: 'PASS' };
}
