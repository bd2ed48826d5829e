import { VERDICT_LABEL } from './combined-recommendation.js';
import type { FeatureReport } from './feature-report.js';

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

/** The short terminal summary: headline numbers and the ranked recommendations as a fixed-width table. */
export function renderSummary(report: FeatureReport, maxRows = 25): string {
  const s = report.summary;
  const lines = [
    `Feature insight — holdout NE ${s.fullNe.toFixed(4)}, AUC ${s.fullAuc.toFixed(4)}` +
      (s.oracleNe !== null ? `, oracle NE ${s.oracleNe.toFixed(4)}` : '') +
      `; scorer ${Math.round(s.scorerNsPerImpression)} ns/impression; ${s.modelsTrained} models in ${(s.elapsedMs / 1000).toFixed(1)} s`,
    `training ${s.trainRows} rows (sample ${s.trainSampleRows}), holdout ${s.holdoutRows} rows (sample ${s.holdoutSampleRows})`,
    ...(s.caveat === null ? [] : ['', `Read this first: ${s.caveat}`]),
    '',
  ];
  const head = ['#', 'action', 'target', 'name', 'change', 'ΔNE', '± SE', 'Δns/imp'];
  const rows = report.recommendations
    .slice(0, maxRows)
    .map((r) => [
      String(r.rank),
      r.action,
      r.target,
      r.name,
      r.change,
      (r.neChange >= 0 ? '+' : '') + r.neChange.toFixed(4),
      r.neChangeSe.toFixed(4),
      (r.costNs >= 0 ? '+' : '') + String(Math.round(r.costNs)),
    ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const numeric = new Set([0, 5, 6, 7]);
  const fmt = (r: string[]) => r.map((c, i) => pad(c, widths[i] as number, numeric.has(i))).join('  ');
  lines.push(fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt));
  if (report.recommendations.length > maxRows)
    lines.push(`… ${report.recommendations.length - maxRows} more in the report`);
  const idLike = report.fields.filter((f) => f.idLike);
  if (idLike.length > 0) {
    const list = idLike.map((f) => `${f.name} (${(f.distinctShare * 100).toFixed(0)}% distinct)`).join(', ');
    lines.push('', `ID-like fields: ${list}: a weight per value learns little; see the report`);
  }
  const a = report.allRecommendationsApplied;
  lines.push(
    '',
    `all drops and adds together (NE ${a.ne.toFixed(4)}, ${a.costNs >= 0 ? '+' : ''}${Math.round(a.costNs)} ns/impression): ` +
      `${VERDICT_LABEL[a.verdict]} — ${a.verdictReason}`,
  );
  return `${lines.join('\n')}\n`;
}
