import { VERDICT_LABEL } from './combined-recommendation.js';
import type { FeatureReport, Recommendation } from './feature-report.js';
import { barChart, esc, intervalChart, scatterChart } from './svg-charts.js';

const COLORS = { keep: '#2e7d32', drop: '#c62828', add: '#1565c0', skip: '#9e9e9e' } as const;

const f4 = (x: number): string => (x >= 0 ? '+' : '') + x.toFixed(4);
const pct = (x: number, digits = 1): string => `${(x * 100).toFixed(digits)}%`;
const ns = (x: number): string => `${x >= 0 ? '+' : ''}${Math.round(x)}`;
const int = (x: number): string => x.toLocaleString('en-US');

function badge(action: string): string {
  return `<span class="badge ${esc(action)}">${esc(action)}</span>`;
}

function table(id: string, head: readonly string[], rows: readonly string[][]): string {
  return `<table id="${esc(id)}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function recommendationRows(recs: readonly Recommendation[]): string[][] {
  return recs.map((r) => [
    String(r.rank),
    badge(r.action),
    esc(r.target),
    `<code>${esc(r.name)}</code>`,
    `${esc(r.change)}: ${f4(r.neChange)} <span class="se">± ${r.neChangeSe.toFixed(4)}</span>`,
    ns(r.costNs),
    esc(r.reason),
  ]);
}

/** The ID-like fields, flagged whatever the advice for them (their gain is mostly memorised values). */
function idLikeNote(report: FeatureReport): string {
  const idLike = report.fields.filter((f) => f.idLike);
  if (idLike.length === 0) return '';
  const list = idLike.map((f) => `<code>${esc(f.name)}</code> (${pct(f.distinctShare, 0)} distinct)`).join(', ');
  return `<p class="note warn" id="id-like"><b>ID-like fields:</b> ${list}. Their distinct values come close to the impressions that carry them, so a weight per value learns little and most of what they seem to gain is memorised; a coarser field derived from each (a prefix, a range, a count bucket), or TRAIN_MIN_VALUE_COUNT (rare values train as one token), usually keeps what they carry.</p>`;
}

/**
 * The report as one self-contained HTML page: inline CSS and SVG, no scripts, no external assets
 * (a Content-Security-Policy forbids loading any), so it renders the same from disk or from MLflow's UI.
 */
export function renderHtml(report: FeatureReport): string {
  const s = report.summary;
  const a = report.allRecommendationsApplied;
  const title = 'Feature insight: which fields and crosses earn their keep';
  const cards: [string, string][] = [
    ['Holdout NE (full spec)', s.fullNe.toFixed(4)],
    ['Holdout AUC', s.fullAuc.toFixed(4)],
    ['Calibration', s.fullCalibration.toFixed(3)],
    ...(s.oracleNe !== null ? ([['Oracle NE (true CTR)', s.oracleNe.toFixed(4)]] as [string, string][]) : []),
    ['Scorer cost', `${Math.round(s.scorerNsPerImpression)} ns/impression`],
    ['Training rows (sample)', `${int(s.trainRows)} (${int(s.trainSampleRows)})`],
    ['Holdout rows (sample)', `${int(s.holdoutRows)} (${int(s.holdoutSampleRows)})`],
    ['Holdout CTR', pct(s.holdoutBaseRate, 2)],
    ['NE of the training CTR', s.constantNe.toFixed(4)],
    ['Clicks (training / holdout sample)', `${int(s.trainSampleClicks)} / ${int(s.holdoutSampleClicks)}`],
    ['Hash space used', `${int(s.bucketsUsed)} of ${int(s.hashBuckets)} buckets`],
    ['Models trained', `${s.modelsTrained} in ${(s.elapsedMs / 1000).toFixed(1)} s`],
  ];

  const tradeoff = scatterChart({
    id: 'tradeoff',
    title: 'Trade-off: NE change vs serving-cost change of each recommended change',
    xLabel: 'scorer ns per impression (negative = faster)',
    yLabel: 'NE change (negative = better)',
    points: report.recommendations.map((r) => ({
      x: r.costNs,
      y: r.neChange,
      label: `${r.change === 'add' ? '+' : '−'}${r.name}`,
      color: COLORS[r.action],
    })),
  });

  const fieldsByLoss = [...report.fields].sort((a, b) => b.dropNeChange.delta - a.dropNeChange.delta);
  const fieldLossChart = barChart({
    id: 'field-ablation',
    title: 'NE lost on the holdout when a field (and its crosses) is dropped, ± 2 SE',
    xLabel: 'NE(without) − NE(with); positive = the field helps',
    bars: fieldsByLoss.map((f) => ({
      label: f.name,
      value: f.dropNeChange.delta,
      err: 2 * f.dropNeChange.se,
      color: COLORS[f.recommendation],
    })),
  });
  const singleChart = barChart({
    id: 'field-alone',
    title: 'NE gain of a model on each field alone (1 − NE)',
    xLabel: '1 − NE; 0 = no better than the base rate',
    bars: [...report.fields]
      .sort((a, b) => a.singleFieldNe - b.singleFieldNe)
      .map((f) => ({ label: f.name, value: 1 - f.singleFieldNe, color: '#546e7a' })),
  });
  const crossChart = barChart({
    id: 'cross-gain',
    title: 'NE gained by each cross (spec crosses and measured candidates), ± 2 SE',
    xLabel: 'NE(without) − NE(with); positive = the cross helps',
    bars: report.crosses.map((c) => ({
      label: `${c.name}${c.origin === 'candidate' ? ' (new)' : ''}`,
      value: c.neGain.delta,
      err: 2 * c.neGain.se,
      color: COLORS[c.recommendation],
    })),
  });
  const costChart = barChart({
    id: 'serving-cost',
    title: 'Serving cost: scorer ns per impression of each field (with its crosses) and cross',
    xLabel: 'ns per impression (measured; shared CPU, treat small values as ≈ 0)',
    bars: [
      ...report.fields.map((f) => ({ label: `field ${f.name}`, value: -f.dropCostNs, color: '#6d4c41' })),
      ...report.crosses.map((c) => ({ label: `cross ${c.name}`, value: c.costNs, color: '#8d6e63' })),
    ],
  });

  const fieldRows = report.fields.map((f) => [
    `<code>${esc(f.name)}</code>${f.idLike ? ' <span class="badge idlike" title="distinct values close to its impressions">ID-like</span>' : ''}`,
    `${esc(f.kind)} (${esc(f.source)})`,
    pct(f.coverage),
    `${f.cardinalityIsLowerBound ? '≥ ' : ''}${int(f.cardinality)} <span class="se">${pct(f.distinctShare)} of impressions</span>`,
    `${pct(f.collisionRate, 2)} / ${pct(f.trafficCollisionRate, 2)}`,
    f.singleFieldNe.toFixed(4),
    `${f4(f.dropNeChange.delta)} <span class="se">± ${f.dropNeChange.se.toFixed(4)}</span>`,
    ns(f.dropCostNs),
    esc(f.crossesDroppedWith.join(', ') || '—'),
    badge(f.recommendation),
  ]);
  const crossRows = report.crosses.map((c) => [
    String(c.rank),
    `<code>${esc(c.name)}</code>`,
    esc(c.origin),
    `${f4(c.neGain.delta)} <span class="se">± ${c.neGain.se.toFixed(4)}</span>`,
    ns(c.costNs),
    c.profile ? `${c.profile.cardinalityIsLowerBound ? '≥ ' : ''}${int(c.profile.cardinality)}` : '—',
    c.profile ? `${pct(c.profile.collisionRate, 2)} / ${pct(c.profile.trafficCollisionRate, 2)}` : '—',
    c.nestedIn ? `repeats <code>${esc(c.nestedIn)}</code>` : '—',
    badge(c.recommendation),
  ]);
  const screenRows = report.screenedPairs
    .slice(0, 30)
    .map((p) => [`<code>${esc(p.name)}</code>`, f4(p.screenNeGain), p.measured ? 'yes' : 'no']);

  const baseRate = s.trainRows > 0 ? s.trainClicks / s.trainRows : 0;
  const topValues = report.fields
    .map(
      (f) =>
        `<details><summary><code>${esc(f.name)}</code> — ${int(f.cardinality)} values, coverage ${pct(f.coverage)}</summary>${intervalChart(
          {
            id: `top-values-${f.name}`,
            title: `${f.name}: CTR of the top values (95% Wilson interval; dashed = overall CTR)`,
            xLabel: 'CTR',
            reference: baseRate,
            rows: f.topValues.map((v) => ({ label: v.label, value: v.ctr, low: v.ctrLow, high: v.ctrHigh })),
          },
        )}${table(
          `top-values-table-${f.name}`,
          ['value', 'impressions', 'share', 'clicks', 'CTR', '95% interval'],
          f.topValues.map((v) => [
            `<code>${esc(v.label)}</code>`,
            int(v.impressions),
            pct(v.share),
            int(v.clicks),
            pct(v.ctr, 2),
            `${pct(v.ctrLow, 2)} – ${pct(v.ctrHigh, 2)}`,
          ]),
        )}</details>`,
    )
    .join('');

  const t = report.training;
  const o = report.settings;
  const windowText = report.window
    ? `training ${esc(report.window.trainFrom)} → ${esc(report.window.holdoutFrom)}, holdout → ${esc(report.window.holdoutTo)}`
    : 'rows given directly (no click-log window)';

  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#555;font-size:13px}.cards{display:flex;flex-wrap:wrap;gap:10px;margin:16px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:150px}.card b{display:block;font-size:17px}
.card span{color:#666;font-size:12px}table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border-bottom:1px solid #eee;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f6f6f6}
.badge{border-radius:3px;color:#fff;padding:1px 6px;font-size:12px}.keep{background:${COLORS.keep}}
.drop{background:${COLORS.drop}}.add{background:${COLORS.add}}.skip{background:${COLORS.skip}}
.se{color:#888;font-size:11px}details{margin:6px 0}summary{cursor:pointer}svg{max-width:100%;height:auto;display:block;margin:8px 0}
.note{font-size:13px;color:#444;max-width:900px}.idlike{background:#ef6c00}
.withheld,.warn{border-left:4px solid #ef6c00;background:#fff3e0;padding:6px 10px}
</style></head>
<body>
<h1>${esc(title)}</h1>
<p class="meta">Generated ${esc(report.generatedAt)} · ${windowText} · hash space 2^${report.spec.hashBits} · FTRL α=${t.alpha} β=${t.beta} λ1=${t.l1} λ2=${t.l2}, ${t.passes} pass(es), negatives kept ${t.negativeSamplingRate} · seed ${o.seed}</p>
<div class="cards">${cards.map(([k, v]) => `<div class="card"><span>${esc(k)}</span><b>${esc(v)}</b></div>`).join('')}</div>
${s.caveat === null ? '' : `<p class="note warn" id="caveat"><b>Read this first:</b> ${esc(s.caveat)}</p>`}

<h2 id="recommendations-heading">Recommendations</h2>
<p class="note">Ranked: changes that help (add, or drop at no measurable loss) first, best expected NE change first; then what to keep, ordered by NE lost per nanosecond saved if it were dropped — the cheapest accuracy to trade for latency comes first. Every number is one change made alone against the full spec.</p>
${idLikeNote(report)}
<p class="note${a.verdict === 'withheld' ? ' withheld' : ''}" id="all-applied"><b>All drops and adds together</b> (trained and timed as one spec): <b>${esc(VERDICT_LABEL[a.verdict])}</b> — ${esc(a.verdictReason)}. Measured: NE ${a.ne.toFixed(4)}, ${ns(a.costNs)} ns/impression. Dropped fields: ${esc(a.droppedFields.join(', ') || 'none')}; dropped crosses: ${esc(a.droppedCrosses.join(', ') || 'none')}; added crosses: ${esc(a.addedCrosses.join(', ') || 'none')}.</p>
${table('recommendations', ['#', 'action', 'target', 'name', 'NE change of the change (± SE)', 'Δ ns/impression', 'why'], recommendationRows(report.recommendations))}
${tradeoff}

<h2>Fields</h2>
${fieldLossChart}
${singleChart}
${table('fields', ['field', 'kind', 'coverage', 'cardinality', 'collisions (values / traffic)', 'NE alone', 'NE lost if dropped (± SE)', 'Δ ns if dropped', 'crosses dropped with it', 'advice'], fieldRows)}

<h2>Crosses</h2>
${crossChart}
${table('crosses', ['rank', 'cross', 'origin', 'NE gain (± SE)', 'ns/impression', 'cardinality', 'collisions (values / traffic)', 'nested', 'advice'], crossRows)}
<h3>Screened pairs</h3>
<p class="note">Every pair among the ${o.candidateFields} strongest fields that the spec does not cross was screened with a score test on the full model's residuals (an estimate before training, optimistic in size but good at ordering); the best ${o.candidatePairs} were trained and measured above.</p>
${table('screened-pairs', ['pair', 'screen estimate of NE gain', 'measured'], screenRows)}

<h2>Serving cost</h2>
${costChart}

<h2>Top values</h2>
${topValues}

<h2>How these numbers were made</h2>
<ul class="note">
<li>Every model is FTRL-Proximal with the trainer's settings, trained on the same time-ordered sample of ${int(s.trainSampleRows)} training rows and scored on the same ${int(s.holdoutSampleRows)} holdout rows (strictly later in time). NE = mean logloss / entropy of the holdout CTR; lower is better.</li>
<li>NE changes are paired differences on the same holdout rows; ± is the standard error of the per-row loss difference. A field or cross counts as useful when its gain exceeds ${o.minNeGain} NE and ${o.significanceZ} standard errors.</li>
<li>Deltas are measured one change at a time; two changes together may not add up (e.g. two fields that carry the same signal each look dispensable alone).</li>
<li>Serving cost is the scorer inference runs, on ${o.timingImpressions} holdout impressions, fastest of ${o.timingRounds} interleaved rounds. The machine may be shared, so differences of a few ns are noise.</li>
<li>Collisions: share of a field's distinct values (and of its traffic) whose hash bucket also holds another feature value of the spec, at 2^${report.spec.hashBits} buckets.</li>
</ul>
</body></html>
`;
}
