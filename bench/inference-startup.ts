/**
 * Start-up to ready of the inference server (services/inference/src/main.ts, 1 worker): from spawn to
 * the first 200 of /readyz, with the champion of a throw-away registered model resolved, downloaded
 * through MLflow's artifact proxy, verified (sha256) and parsed. 2^20 and 2^24 buckets; "sparse"
 * weights are 5 % non-zero (what L1 leaves), "dense" every weight non-zero (the worst case). Also
 * the same process started against a model name that does not exist: the floor of spawning Node,
 * loading the code (tsx here; compiled JS in the image) and the MLflow round trips. And, in this
 * process, the model's own share: fetchModel (resolve, download, verify, parse: the primary's work)
 * then loadedModelFromBytes (the worker's re-verification and scorer), wall and CPU.
 *
 *   npx tsx --conditions=source bench/inference-startup.ts [--rounds 3]   (needs MLflow: scripts/services.sh up)
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fetchModel, loadedModelFromBytes } from '@fallback-ctr/inference';
import { createMlflowClient } from '@fallback-ctr/mlflow';
import { defaultFeatureSpec, serializeArtifact } from '@fallback-ctr/model';
import { publishArtifact } from '../services/inference/test/mlflow-fixtures.js';
import { benchArtifactInput, syntheticWeights } from './support/bench-artifact.js';
import { serviceEnv } from './support/trainer-bench-world.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const rounds = Number(values.rounds);
const env = serviceEnv();
const client = createMlflowClient({ trackingUri: env.MLFLOW_TRACKING_URI });
const main = fileURLToPath(new URL('../services/inference/src/main.ts', import.meta.url));
const stamp = Date.now().toString(36);

async function publish(bits: number, density: number): Promise<{ name: string; bytes: number }> {
  const { bytes, sha256 } = serializeArtifact(
    benchArtifactInput({ ...defaultFeatureSpec, hashBits: bits }, syntheticWeights(2 ** bits, density, 7), -3),
  );
  const name = `startup-bench-${stamp}-${bits}-${density === 1 ? 'dense' : 'sparse'}`;
  await publishArtifact(client, name, { bytes, sha256 }, 'champion');
  return { name, bytes: bytes.length };
}

/** Ms from spawn to the first 200 of `path` (/readyz once a model is loaded, /healthz for the floor). */
async function startUp(modelName: string, port: number, path: string): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', main], {
    env: {
      ...process.env,
      MLFLOW_TRACKING_URI: env.MLFLOW_TRACKING_URI,
      MODEL_NAME: modelName,
      HOST: '127.0.0.1',
      PORT: String(port),
      WORKERS: '1',
      LOG_LEVEL: 'warn',
      SHUTDOWN_DRAIN_SECONDS: '0',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`inference exited ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}${path}`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return performance.now() - t0;
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
  }
}

const load0 = loadavg();
const models = [
  { label: '2^20, sparse (5 %)', ...(await publish(20, 0.05)) },
  { label: '2^20, dense', ...(await publish(20, 1)) },
  { label: '2^24, sparse (5 %)', ...(await publish(24, 0.05)) },
  { label: '2^24, dense', ...(await publish(24, 1)) },
];
/** The model's own share of start-up, in this process: wall and CPU ms of the primary's and the worker's load. */
async function loadInProcess(name: string): Promise<{ wallMs: number; cpuMs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const fetched = await fetchModel({ client, name, alias: 'champion', deadlineMs: 120_000 });
  loadedModelFromBytes(fetched.meta, fetched.bytes);
  const c = process.cpuUsage(c0);
  return { wallMs: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 };
}
const loads = new Map<string, { wallMs: number; cpuMs: number }[]>();
for (let round = 0; round < rounds; round++) {
  for (const m of models) loads.set(m.label, [...(loads.get(m.label) ?? []), await loadInProcess(m.name)]);
}
const times = new Map<string, number[]>();
for (let round = 0; round < rounds; round++) {
  const floor = await startUp(`startup-bench-${stamp}-absent`, 18_431, '/healthz');
  times.set('floor', [...(times.get('floor') ?? []), floor]);
  for (const m of models) times.set(m.label, [...(times.get(m.label) ?? []), await startUp(m.name, 18_431, '/readyz')]);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
console.log(
  `\ninference start-up to ready (1 worker, tsx), median of ${rounds}, load average ${load0.map((l) => l.toFixed(1)).join(' / ')} before, ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')} after\n`,
);
console.log(
  '| model | artifact MB | model load in-process: wall s / CPU s (median) | spawn → /readyz 200, s (median) | all rounds, s | minus the floor, s |',
);
console.log('|---|---:|---:|---:|---|---:|');
const floor = median(times.get('floor') ?? []);
console.log(
  `| floor: no such model, spawn → /healthz 200 | – | – | ${(floor / 1000).toFixed(2)} | ${(times.get('floor') ?? []).map((t) => (t / 1000).toFixed(2)).join(', ')} | – |`,
);
for (const m of models) {
  const ts = times.get(m.label) ?? [];
  const l = loads.get(m.label) ?? [];
  const load = `${(median(l.map((x) => x.wallMs)) / 1000).toFixed(2)} / ${(median(l.map((x) => x.cpuMs)) / 1000).toFixed(2)}`;
  console.log(
    `| ${m.label} | ${(m.bytes / 1e6).toFixed(1)} | ${load} | ${(median(ts) / 1000).toFixed(2)} | ${ts.map((t) => (t / 1000).toFixed(2)).join(', ')} | ${((median(ts) - floor) / 1000).toFixed(2)} |`,
  );
}
