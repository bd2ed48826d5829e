/**
 * Benchmark of `trainer analyze` (feature insight) on 1,000,000 impressions, through the same path as
 * the command: the trainer's time split read from Postgres, profile + samples, every ablation and
 * candidate-cross model, the serving-cost timing, HTML + JSON rendering. Default analysis settings
 * (200k training sample, 100k holdout sample, 10 candidate crosses) and the default feature spec.
 *
 *   npx tsx --conditions=source bench/analyze-1m.ts [--impressions 1000000] [--days 7] [--keep]
 *
 * Target (issue 9): under 5 minutes. Other engineers share the 2 cores: numbers vary with their load
 * (the load average is printed). Data generation is not timed as part of the analysis.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dropSchema, generateTraffic } from '@fallback-ctr/clicklog';
import { defaultFeatureSpec } from '@fallback-ctr/model';
import { silentLogger } from '@fallback-ctr/runtime';
import pg from 'pg';
import type { AnalyzeProgress } from '../services/trainer/src/analyze/analyze-features.js';
import { runFeatureInsight } from '../services/trainer/src/analyze/feature-insight.js';
import { ModelEnvSchema, trainingSettings } from '../services/trainer/src/config.js';
import { loadWindow } from '../services/trainer/src/pipeline/load-window.js';

const { values } = parseArgs({
  options: { impressions: { type: 'string' }, days: { type: 'string' }, keep: { type: 'boolean' } },
});
const impressions = Number(values.impressions ?? 1_000_000);
const days = Number(values.days ?? 7);
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:55432/fallback_ctr';
const start = new Date('2026-02-01T00:00:00Z');
const end = new Date(start.getTime() + days * 86_400_000);
const schema = `bench_analyze_${randomBytes(3).toString('hex')}`;
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

const pool = new pg.Pool({ connectionString: url, max: 2 });
const out = await mkdtemp(join(tmpdir(), 'fctr-analyze-bench-'));
try {
  console.log(`load average before: ${load()}`);
  const g0 = performance.now();
  const gen = await generateTraffic({
    db: pool,
    schema,
    seed: 'analyze-bench',
    days,
    impressionsPerDay: Math.ceil(impressions / days),
    start,
    replace: true,
  });
  console.log(
    `generated ${gen.impressions} impressions, ${gen.clicks} clicks in ${((performance.now() - g0) / 1000).toFixed(1)} s`,
  );

  const stages = new Map<string, number>();
  const t0 = performance.now();
  const onProgress = (p: AnalyzeProgress) => {
    stages.set(p.stage, performance.now() - t0);
    if (p.stage === 'models' && p.done % 10 === 0) process.stderr.write(`  ${p.message}\n`);
  };
  const config = {
    clicklogSchema: schema,
    window: { trainWindowHours: days * 24, holdoutHours: 24, attributionWindowMinutes: 60, end },
    // The trainer's FTRL defaults, as `trainer analyze` reads them with no variable set.
    ...trainingSettings(ModelEnvSchema.parse({})),
  };
  const split = await loadWindow(config, pool, silentLogger());
  const result = await runFeatureInsight({
    split,
    spec: defaultFeatureSpec,
    training: config,
    options: {},
    logger: silentLogger(),
    outDir: out,
    onProgress,
  });
  const total = performance.now() - t0;
  const s = result.report.summary;
  const at = (stage: string) => ((stages.get(stage) ?? Number.NaN) / 1000).toFixed(1);
  const rows: [string, string][] = [
    ['impressions in the window', String(s.trainRows + s.holdoutRows)],
    ['training / holdout rows', `${s.trainRows} / ${s.holdoutRows}`],
    ['training / holdout sample', `${s.trainSampleRows} / ${s.holdoutSampleRows}`],
    ['models trained', String(s.modelsTrained)],
    ['read + profile training part done at (s)', at('profile')],
    ['holdout read done at (s)', at('holdout')],
    ['models done at (s)', at('models')],
    ['serving-cost timing started at (s)', at('serving-cost')],
    ['total analysis incl. HTML/JSON (s)', (total / 1000).toFixed(1)],
    ['target', '< 300 s'],
    ['full-spec holdout NE / oracle', `${s.fullNe.toFixed(4)} / ${s.oracleNe?.toFixed(4) ?? 'n/a'}`],
    ['scorer ns/impression (full spec)', s.scorerNsPerImpression.toFixed(0)],
    ['peak RSS (MB)', (process.resourceUsage().maxRSS / 1024).toFixed(0)],
    ['load average after', load()],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log(`\n| ${'measure'.padEnd(w)} | value |\n|${'-'.repeat(w + 2)}|-------|`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(w)} | ${v} |`);
} finally {
  if (!values.keep) await dropSchema({ db: pool, schema });
  await pool.end();
  await rm(out, { recursive: true, force: true });
}
