import { isMlflowError, type MlflowClient, type ModelVersion } from '@fallback-ctr/mlflow';
import { CHALLENGER_ALIAS, CHAMPION_ALIAS, PREVIOUS_CHAMPION_ALIAS, VersionTag } from '@fallback-ctr/model';
import { MonitorVersionTag } from './monitor/monitor-tracking.js';
import { readChallenger } from './pipeline/challenger-stage.js';
import { shownMetric } from './pipeline/holdout-metrics.js';
import { readAliases } from './pipeline/promote.js';
import type { ReconcileAttempt } from './reconcile.js';

export interface VersionSummary {
  version: string;
  createdAt: string | null;
  runId: string;
  aliases: string[];
  gateOutcome: string | null;
  gateReasons: string | null;
  promotion: string | null;
  holdout: Record<string, number>;
  /** What `monitor` last measured on live traffic (null when it never looked at this version). */
  live: {
    at: string;
    calibration: string | null;
    impressions: number | null;
    clicks: number | null;
    guard: string | null;
    guardReason: string | null;
    topDrift: string | null;
  } | null;
}

export interface TrainerStatus {
  modelName: string;
  champion: string | null;
  previousChampion: string | null;
  /** The version scored in shadow before it may replace the champion (PROMOTE_VIA=challenger), or null. */
  challenger: string | null;
  versions: VersionSummary[];
  /** What `status` did about the leftovers of earlier faults (absent when not asked). */
  leftovers?: ReconcileAttempt;
}

function summarize(v: ModelVersion, aliases: string[]): VersionSummary {
  const holdout: Record<string, number> = {};
  for (const [tag, value] of Object.entries(v.tags)) {
    const metric = VersionTag.holdoutMetric(tag);
    if (metric !== undefined) holdout[metric] = Number(value);
  }
  return {
    version: v.version,
    createdAt: v.creationTimestamp ? new Date(Number(v.creationTimestamp)).toISOString() : null,
    runId: v.runId,
    aliases,
    gateOutcome: v.tags[VersionTag.GATE_OUTCOME] ?? null,
    gateReasons: v.tags[VersionTag.GATE_REASONS] ?? null,
    promotion: v.tags[VersionTag.PROMOTION] ?? null,
    holdout,
    live: liveSummary(v.tags),
  };
}

function liveSummary(tags: Record<string, string>): VersionSummary['live'] {
  const at = tags[MonitorVersionTag.AT];
  if (at === undefined) return null;
  const count = (key: string) => (tags[key] === undefined ? null : Number(tags[key]));
  return {
    at,
    calibration: tags[MonitorVersionTag.CALIBRATION] ?? null,
    impressions: count(MonitorVersionTag.IMPRESSIONS),
    clicks: count(MonitorVersionTag.CLICKS),
    guard: tags[MonitorVersionTag.GUARD] ?? null,
    guardReason: tags[MonitorVersionTag.GUARD_REASON] ?? null,
    topDrift: tags[MonitorVersionTag.TOP_DRIFT] ?? null,
  };
}

/** Champion, previous champion, challenger and the most recent versions with their gate outcomes and metrics. */
export async function readStatus(mlflow: MlflowClient, modelName: string, limit = 10): Promise<TrainerStatus> {
  const [aliases, challenger] = await Promise.all([readAliases(mlflow, modelName), readChallenger(mlflow, modelName)]);
  const page = await mlflow
    .searchModelVersions({ name: modelName, maxResults: limit, orderBy: ['version_number DESC'] })
    .catch((error: unknown) => {
      if (isMlflowError(error) && error.isNotFound) return { modelVersions: [], nextPageToken: undefined };
      throw error;
    });
  const versions = page.modelVersions.map((v) => {
    const names: string[] = [];
    if (v.version === aliases.champion) names.push(CHAMPION_ALIAS);
    if (v.version === aliases.previousChampion) names.push(PREVIOUS_CHAMPION_ALIAS);
    if (v.version === challenger) names.push(CHALLENGER_ALIAS);
    return summarize(v, names);
  });
  return { modelName, ...aliases, challenger, versions };
}

const metric = (name: string, v: number | undefined) =>
  v === undefined || Number.isNaN(v) ? '-' : shownMetric(name, v);
/** "2026-03-05 03:00:00 UTC": the registry's time, with its zone. */
const created = (iso: string | null) => (iso === null ? '-' : `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`);
/** "2026-03-06 05:10 UTC": when the monitor last looked, in UTC whatever offset the tag was written with. */
const minuteUtc = (stamp: string) => {
  const at = new Date(stamp);
  return Number.isNaN(at.getTime()) ? stamp : `${at.toISOString().slice(0, 10)} ${at.toISOString().slice(11, 16)} UTC`;
};

/** The version table's columns: header, width, and the cell of a version. */
const COLUMNS: readonly { header: string; width: number; cell: (v: VersionSummary) => string }[] = [
  { header: 'version', width: 7, cell: (v) => v.version },
  { header: 'gate', width: 4, cell: (v) => v.gateOutcome ?? '-' },
  { header: 'promotion', width: 12, cell: (v) => v.promotion ?? '-' },
  { header: 'auc', width: 6, cell: (v) => metric('auc', v.holdout.auc) },
  { header: 'logloss', width: 8, cell: (v) => metric('logloss', v.holdout.logloss) },
  { header: 'ne', width: 6, cell: (v) => metric('ne', v.holdout.ne) },
  { header: 'calib.', width: 6, cell: (v) => metric('calibration', v.holdout.calibration) },
  { header: 'holdout rows', width: 12, cell: (v) => (v.holdout.rows === undefined ? '-' : String(v.holdout.rows)) },
  { header: 'created', width: 23, cell: (v) => created(v.createdAt) },
  { header: 'aliases', width: 0, cell: (v) => v.aliases.join(',') },
];

const row = (cells: readonly string[]) =>
  cells
    .map((c, i) => c.padEnd(COLUMNS[i]?.width ?? 0))
    .join('  ')
    .trimEnd();

/** A plain-text table for people: metrics on the version's holdout, at the precision its tags carry. */
export function formatStatus(s: TrainerStatus): string {
  const lines = [
    `model:             ${s.modelName}`,
    `champion:          ${s.champion ?? '(none)'}`,
    `previous-champion: ${s.previousChampion ?? '(none)'}`,
    // Only models promoted through a shadow challenger have one; the line would be noise for the rest.
    ...(s.challenger === null ? [] : [`challenger:        ${s.challenger} (in shadow)`]),
    '',
    row(COLUMNS.map((c) => c.header)),
  ];
  for (const v of s.versions) {
    lines.push(row(COLUMNS.map((c) => c.cell(v))));
    if (v.gateOutcome === 'FAIL' && v.gateReasons) lines.push(`         reasons: ${v.gateReasons}`);
    if (v.live) {
      const traffic =
        v.live.impressions === null ? '' : ` over ${v.live.impressions} impressions, ${v.live.clicks} clicks`;
      const guard = v.live.guard ? `; guard ${v.live.guard}` : '';
      const drift = v.live.topDrift ? `; top drift ${v.live.topDrift}` : '';
      lines.push(
        `         live (${minuteUtc(v.live.at)}): Σp/Σy ${v.live.calibration ?? '-'}${traffic}${guard}${drift}`,
      );
      if (v.live.guard === 'alarm' && v.live.guardReason) lines.push(`         guard: ${v.live.guardReason}`);
    }
  }
  if (s.versions.length === 0) lines.push('(no versions registered yet)');
  if (s.leftovers) lines.push('', ...formatLeftovers(s.leftovers));
  return lines.join('\n');
}

function formatLeftovers(attempt: ReconcileAttempt): string[] {
  if (attempt.state === 'run-in-progress')
    return ['leftovers: not checked, a trainer run holds the lock (what is RUNNING or pending may be its own work)'];
  if (attempt.state === 'unchecked') return [`leftovers: not checked (${attempt.reason})`];
  const { runs, versions } = attempt.leftovers;
  if (runs.length === 0 && versions.length === 0) return ['leftovers: none'];
  return [
    'leftovers of earlier faults, settled now:',
    ...runs.map((r) => `  run ${r.runId} (started ${r.startedAt ?? '?'}) was still RUNNING: marked KILLED`),
    ...versions.map(
      (v) =>
        `  version ${v.version} was promotion=pending: ${
          !v.isChampion
            ? 'now aborted'
            : v.rolledOut === false
              ? 'still pending, it is the champion but rolling it out again failed (see the log)'
              : 'rolled out again, now promoted (it is the champion)'
        }`,
    ),
  ];
}
