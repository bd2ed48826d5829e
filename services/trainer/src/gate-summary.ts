import { formatNumber } from './nice-ticks.js';
import type { GateReport } from './pipeline/gate.js';
import type { GateCheck, SliceCounts } from './promotion-gate.js';

/** What the summary reads: the fields of `gate-report.json` it shows. */
export type GateSummaryInput = Pick<
  GateReport,
  'modelName' | 'runId' | 'window' | 'training' | 'holdout' | 'candidate' | 'champion' | 'decision'
>;

/** Metrics compared side by side, with the decimals that tell two models apart. */
const COMPARED: readonly { key: string; label: string; digits: number; better: 'lower' | 'higher' | 'near 1' }[] = [
  { key: 'logloss', label: 'logloss', digits: 6, better: 'lower' },
  { key: 'auc', label: 'AUC', digits: 4, better: 'higher' },
  { key: 'ne', label: 'normalized entropy', digits: 4, better: 'lower' },
  { key: 'calibration', label: 'calibration (Σ predicted / Σ clicks)', digits: 3, better: 'near 1' },
];

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function showValue(v: number | null): string {
  if (v === null) return '–';
  if (Number.isInteger(v)) return formatNumber(v);
  return Math.abs(v) >= 100 ? formatNumber(v, 1) : Number(v.toPrecision(4)).toString();
}

function showMeasured(c: GateCheck): string {
  const se = c.standardError;
  return se === null || c.value === null ? showValue(c.value) : `${showValue(c.value)} ± ${showValue(se)}`;
}

const COMPARATOR = { '>=': '≥', '<=': '≤', within: 'within' } as const;

function showThreshold(c: GateCheck): string {
  const t = c.threshold;
  const bound = Array.isArray(t)
    ? `within [${showValue(t[0])}, ${showValue(t[1])}]`
    : `${COMPARATOR[c.comparator]} ${showValue(t)}`;
  return c.rule ? `${bound} (${c.rule})` : bound;
}

function slice(name: string, s: SliceCounts): string {
  const ctr = s.rows > 0 ? `${((100 * s.clicks) / s.rows).toFixed(2)} %` : '–';
  return `${name}: ${formatNumber(s.rows)} impressions, ${formatNumber(s.clicks)} clicks (CTR ${ctr})`;
}

const outcomeMark = { PASS: 'PASS', FAIL: '**FAIL**', SKIPPED: 'skipped (no champion)' } as const;

/**
 * The gate decision for a person, in Markdown (MLflow renders it as the run's description and as the
 * `gate-summary.md` artifact): the outcome and the failed checks first, then every check, the
 * candidate next to the champion, and the data it was measured on.
 */
export function gateSummaryMarkdown(report: GateSummaryInput): string {
  const { decision } = report;
  const failed = decision.checks.filter((c) => c.outcome === 'FAIL');
  const lines = [`### Gate ${decision.outcome === 'PASS' ? 'PASS' : 'FAIL'} — ${report.modelName}`, ''];
  if (failed.length === 0) {
    lines.push(
      `**Outcome: PASS** — ${decision.reasons.join('; ')}; the version becomes \`champion\` once it is rolled out.`,
    );
  } else {
    lines.push(
      `**Outcome: FAIL** — ${failed.length} check${failed.length === 1 ? '' : 's'} failed; the champion stays:`,
    );
    lines.push('', ...failed.map((c) => `- ${c.message} — ${c.description}`));
  }
  lines.push('', '| check | value ± SE | threshold | outcome |', '|---|---:|---|---|');
  for (const c of decision.checks) {
    lines.push(`| ${cell(c.name)} | ${showMeasured(c)} | ${cell(showThreshold(c))} | ${outcomeMark[c.outcome]} |`);
  }
  const champion = report.champion;
  lines.push(
    '',
    champion
      ? `Candidate and champion v${champion.version} on the same holdout rows:`
      : 'Candidate on the holdout (no champion yet):',
    '',
  );
  lines.push(
    champion ? `| metric | candidate | champion v${champion.version} | better |` : '| metric | candidate | better |',
  );
  lines.push(champion ? '|---|---:|---:|---|' : '|---|---:|---|');
  for (const m of COMPARED) {
    const own = report.candidate[m.key];
    const theirs = champion?.[m.key];
    const show = (v: unknown) => (typeof v === 'number' ? v.toFixed(m.digits) : '–');
    lines.push(
      champion
        ? `| ${m.label} | ${show(own)} | ${show(theirs)} | ${m.better} |`
        : `| ${m.label} | ${show(own)} | ${m.better} |`,
    );
  }
  lines.push(
    '',
    `Window ${report.window.from} → ${report.window.to}. ${slice('Training', report.training)}; ${slice('holdout', report.holdout)}.`,
    '',
    `Run \`${report.runId}\`. Every value is in \`gate-report.json\`; the plots are under \`plots/\`.`,
  );
  return `${lines.join('\n')}\n`;
}
