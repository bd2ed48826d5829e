import { rename, writeFile } from 'node:fs/promises';
import type { FieldDrift } from './field-drift.js';
import type { GuardDecision } from './guard.js';
import type { LiveQuality } from './live-quality.js';

const PREFIX = 'fallback_ctr_monitor_';
/** The Pushgateway job name; the grouping key adds the model. */
export const PUSHGATEWAY_JOB = 'fallback-ctr-monitor';

interface Gauge {
  name: string;
  help: string;
  samples: { labels: Record<string, string>; value: number }[];
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function render(gauges: readonly Gauge[]): string {
  const lines: string[] = [];
  for (const g of gauges) {
    const samples = g.samples.filter((s) => Number.isFinite(s.value));
    if (samples.length === 0) continue;
    lines.push(`# HELP ${PREFIX}${g.name} ${g.help}`, `# TYPE ${PREFIX}${g.name} gauge`);
    for (const s of samples) {
      const labels = Object.entries(s.labels)
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(',');
      lines.push(`${PREFIX}${g.name}{${labels}} ${s.value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export interface MonitorGaugesInput {
  modelName: string;
  /** Each version's whole window and its most recent hour. */
  overall: readonly LiveQuality[];
  hourly: readonly LiveQuality[];
  guard: GuardDecision | undefined;
  drift: readonly FieldDrift[];
  at: Date;
}

/** The monitor's result in Prometheus text exposition format (gauges; `span` is "window" or "last_hour"). */
export function monitorGauges(input: MonitorGaugesInput): string {
  const model = input.modelName;
  const rows: { span: string; q: LiveQuality }[] = [];
  for (const q of input.overall) {
    rows.push({ span: 'window', q });
    const last = input.hourly.filter((h) => h.version === q.version).at(-1);
    if (last) rows.push({ span: 'last_hour', q: last });
  }
  const per = (pick: (q: LiveQuality) => number) =>
    rows.map(({ span, q }) => ({ labels: { model, version: q.version, span }, value: pick(q) }));
  return render([
    { name: 'impressions', help: 'Logged impressions with final labels', samples: per((q) => q.impressions) },
    { name: 'clicks', help: 'Clicks within the attribution window', samples: per((q) => q.clicks) },
    {
      name: 'calibration',
      help: 'Live Σ predicted / Σ clicks (1 = calibrated)',
      samples: per((q) => q.calibration.value),
    },
    { name: 'calibration_se', help: 'Standard error of the live calibration', samples: per((q) => q.calibration.se) },
    { name: 'logloss', help: 'Live logloss', samples: per((q) => q.logloss.value) },
    { name: 'auc', help: 'Live AUC (absent when too few clicks)', samples: per((q) => q.auc.value) },
    {
      name: 'guard_alarm',
      help: "1 when the champion's live calibration stayed outside the guard's band for GUARD_HOURS hours",
      samples: input.guard
        ? [{ labels: { model, version: input.guard.version }, value: input.guard.state === 'alarm' ? 1 : 0 }]
        : [],
    },
    {
      name: 'drift_psi',
      help: "Population stability index of a field between the champion's training window and recent traffic",
      samples: input.drift.map((d) => ({ labels: { model, field: d.field }, value: d.psi })),
    },
    {
      name: 'last_run_timestamp_seconds',
      help: 'When the monitor last ran',
      samples: [{ labels: { model }, value: Math.floor(input.at.getTime() / 1000) }],
    },
  ]);
}

/**
 * PUT to the Pushgateway under job `fallback-ctr-monitor` and the model's grouping key: a PUT replaces
 * the group, so gauges of a version no longer served disappear with the next push.
 */
export async function pushGauges(pushgatewayUrl: string, modelName: string, text: string): Promise<void> {
  const url = `${pushgatewayUrl.replace(/\/+$/, '')}/metrics/job/${PUSHGATEWAY_JOB}/model/${encodeURIComponent(modelName)}`;
  const response = await fetch(url, {
    method: 'PUT',
    headers: { 'content-type': 'text/plain; version=0.0.4' },
    body: text,
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) {
    throw new Error(`the Pushgateway answered ${response.status} ${response.statusText} to PUT ${url}`);
  }
}

/** Writes the gauges for node_exporter's textfile collector: a temporary file renamed over the target. */
export async function writeGaugesFile(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}
