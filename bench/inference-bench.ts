/**
 * POST /predict throughput and latency, in ONE run on this machine, loopback only:
 *   (a) services/inference (the real cluster server: 1 and 2 workers), champion loaded from MLflow
 *   (b) the floor: bare Fastify returning a constant response of the same size
 *   (c) the stack it replaces: FastAPI + uvicorn serving scikit-learn LogisticRegression
 *   (d) `mlflow models serve` of that scikit-learn model
 * The sklearn model is fitted on libs/model's hashed features, and its coefficients ARE the
 * artifact (a) serves, so all four answer with the same model; the run checks that they agree.
 *
 * Run: npx tsx --conditions=source bench/inference-bench.ts   (needs MLflow: bash scripts/services.sh up)
 * Env: BENCH_SECONDS per cell (default 4), BENCH_ROUNDS (3; the median round is reported),
 * BENCH_CONNECTIONS (16), FALLBACK_CTR_PYTHON, MLFLOW_TRACKING_URI.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMlflowClient } from '@fallback-ctr/mlflow';
import {
  createFeaturizer,
  defaultFeatureSpec,
  murmur3String,
  type RawImpression,
  serializeArtifact,
} from '@fallback-ctr/model';
import autocannon from 'autocannon';
import { seededRandom } from '../services/inference/test/fixtures.js';
import { cleanup, publishArtifact } from '../services/inference/test/mlflow-fixtures.js';
import { treeCpuSeconds } from './support/process-tree-cpu.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const python = process.env.FALLBACK_CTR_PYTHON ?? join(root, '.venv/bin/python');
const mlflowBin = join(dirname(python), 'mlflow');
const trackingUri = process.env.MLFLOW_TRACKING_URI ?? 'http://127.0.0.1:55000';
const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const TRAIN_ROWS = 20_000;
const children: ChildProcess[] = [];
const work = mkdtempSync(join(tmpdir(), 'inference-bench-'));
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

// ---------- data: synthetic impressions, labels from a hidden logistic model ----------
const random = seededRandom(7);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
const effect = (s: string) => (murmur3String(s, 99) >>> 0) / 2 ** 31 - 1;
function impression(): RawImpression {
  return {
    slot_id: `slot-${Math.floor(random() * 40)}`,
    placement: pick(['header', 'sidebar', 'footer', 'interstitial', 'in-feed']),
    ad_id: `ad-${Math.floor(random() * 400)}`,
    campaign_id: `c-${Math.floor(random() * 40)}`,
    advertiser_id: `adv-${Math.floor(random() * 15)}`,
    device_type: pick(['mobile', 'desktop', 'tablet']),
    os: pick(['android', 'ios', 'windows', 'macos', 'linux']),
    country: pick(['DE', 'FR', 'US', 'GB', 'ES', 'IT', 'NL']),
    context: {
      hour_of_day: Math.floor(random() * 24),
      user_age_days: Math.floor(-Math.log(1 - random()) * 300),
      page_views: Math.floor(-Math.log(1 - random()) * 6),
      site_category: pick(['news', 'sports', 'tech', 'travel', 'finance', 'games']),
    },
  };
}
function trueCtr(r: RawImpression): number {
  const z =
    -3.3 +
    0.9 * effect(r.ad_id ?? '') +
    0.5 * effect(`${r.context?.site_category}|${r.device_type}`) +
    0.3 * effect(r.placement ?? '');
  return 1 / (1 + Math.exp(-z));
}

// ---------- helpers ----------
function start(cmd: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  child.on('exit', (code) => {
    if (code !== 0 && code !== null && !stopping) log(`${cmd} ${args.join(' ')} exited ${code}:\n${stderr}`);
  });
  children.push(child);
  return child;
}
let stopping = false;
async function waitFor(url: string, child: ChildProcess, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${child.spawnargs.join(' ')} exited ${child.exitCode} before ${url} answered`);
    const ok = await fetch(url).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not up after ${timeoutMs} ms`);
}
async function post(url: string, body: string): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.json();
}
function run(url: string, body: string, duration: number): Promise<autocannon.Result> {
  return autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration,
  });
}

async function main(): Promise<void> {
  // 1. Training set: libs/model's featurizer, exported as indices for Python to fit.
  const featurizer = createFeaturizer(defaultFeatureSpec);
  const k = featurizer.maxIndices;
  const indices = new Uint32Array(TRAIN_ROWS * k);
  const labels = new Uint8Array(TRAIN_ROWS);
  const buf = new Uint32Array(k);
  for (let i = 0; i < TRAIN_ROWS; i++) {
    const r = impression();
    featurizer.featurize(r, buf);
    indices.set(buf, i * k);
    labels[i] = random() < trueCtr(r) ? 1 : 0;
  }
  writeFileSync(join(work, 'train-indices.u32'), Buffer.from(indices.buffer));
  writeFileSync(join(work, 'train-labels.u8'), labels);
  writeFileSync(join(work, 'train-meta.json'), JSON.stringify({ rows: TRAIN_ROWS, k, size: featurizer.size }));
  log(
    `fitting sklearn LogisticRegression on ${TRAIN_ROWS} rows x ${k} hashed indices (2^${defaultFeatureSpec.hashBits})`,
  );
  const fitOut = execFileSync(python, [join(root, 'bench/python/inference-sklearn-fit.py'), work], {
    encoding: 'utf8',
  });
  log(`fit: ${fitOut.trim().split('\n').pop()}`);
  const { intercept } = JSON.parse(readFileSync(join(work, 'fit.json'), 'utf8')) as { intercept: number };
  const coefBytes = readFileSync(join(work, 'coef.f32'));
  const weights = new Float32Array(coefBytes.buffer, coefBytes.byteOffset, coefBytes.byteLength / 4);

  // 2. The same coefficients as a fallback-ctr artifact, published as champion of a throw-away model.
  const { bytes, sha256 } = serializeArtifact({
    featureSpec: defaultFeatureSpec,
    bias: intercept,
    weights: Float32Array.from(weights),
    training: {
      algorithm: 'sklearn-logistic-regression-liblinear',
      hyperparameters: { C: 0.5 },
      rows: TRAIN_ROWS,
      positives: labels.reduce((a, b) => a + b, 0),
      passes: 1,
      seed: 7,
      createdAt: new Date().toISOString(),
    },
  });
  const client = createMlflowClient({ trackingUri });
  const modelName = `inference-bench-${Date.now().toString(36)}`;
  const version = await publishArtifact(client, modelName, { bytes, sha256 }, 'champion');
  log(`artifact ${(bytes.length / 1024).toFixed(0)} KiB published as ${modelName} v${version}`);

  try {
    // 3. Servers.
    const ports = { a1: 18_301, a2: 18_302, b: 18_303, c: 18_304, d: 18_305 };
    const inferenceEnv = (workers: number, port: number) => ({
      MLFLOW_TRACKING_URI: trackingUri,
      MODEL_NAME: modelName,
      HOST: '127.0.0.1',
      PORT: String(port),
      WORKERS: String(workers),
      LOG_LEVEL: 'warn',
      SHUTDOWN_DRAIN_SECONDS: '0',
    });
    const main = join(root, 'services/inference/src/main.ts');
    const a1 = start(process.execPath, ['--conditions=source', '--import', 'tsx', main], inferenceEnv(1, ports.a1));
    const a2 = start(process.execPath, ['--conditions=source', '--import', 'tsx', main], inferenceEnv(2, ports.a2));
    const c = start(python, [
      join(root, 'bench/python/inference-fastapi.py'),
      join(work, 'mlflow-model'),
      String(ports.c),
    ]);
    // mlflow models serve execs `uvicorn`: the venv's bin must be on PATH.
    const serveArgs = ['models', 'serve', '-m', join(work, 'mlflow-model'), '--env-manager', 'local'];
    const d = start(mlflowBin, [...serveArgs, '-p', String(ports.d), '-h', '127.0.0.1', '-w', '1'], {
      PATH: `${dirname(python)}:${process.env.PATH ?? ''}`,
    });
    await Promise.all([
      waitFor(`http://127.0.0.1:${ports.a1}/readyz`, a1),
      waitFor(`http://127.0.0.1:${ports.a2}/readyz`, a2),
      waitFor(`http://127.0.0.1:${ports.c}/docs`, c),
      waitFor(`http://127.0.0.1:${ports.d}/ping`, d),
    ]);

    // 4. Requests: the same impressions in each server's format; check the four agree.
    const sizes = [1, 100] as const;
    const raws = Array.from({ length: 100 }, impression);
    const bodies = new Map<number, { a: string; c: string; d: string }>();
    const bareResponses: Record<string, string> = {};
    const columns = Array.from({ length: k }, (_, j) => `f${j}`);
    for (const n of sizes) {
      const batch = raws.slice(0, n);
      const rows = batch.map((r) => {
        featurizer.featurize(r, buf);
        return Array.from(buf);
      });
      const a = JSON.stringify({ impressions: batch.map((r, i) => ({ id: `imp-${i}`, ...r })) });
      const c = JSON.stringify({ impressions: rows });
      const d = JSON.stringify({ dataframe_split: { columns, data: rows } });
      bodies.set(n, { a, c, d });
      const res = await fetch(`http://127.0.0.1:${ports.a1}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: a,
      });
      bareResponses[String(n)] = await res.text();
    }
    const b = start(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', join(root, 'bench/inference-bare-fastify.ts')],
      {
        PORT: String(ports.b),
        BARE_RESPONSES: JSON.stringify(bareResponses),
      },
    );
    await waitFor(`http://127.0.0.1:${ports.b}/healthz`, b, 30_000);
    const b100 = bodies.get(100)!;
    const ours = (
      (await post(`http://127.0.0.1:${ports.a2}/predict`, b100.a)) as { predictions: { ctr: number }[] }
    ).predictions.map((p) => p.ctr);
    const fastapi = ((await post(`http://127.0.0.1:${ports.c}/predict`, b100.c)) as { predictions: number[] })
      .predictions;
    const served = ((await post(`http://127.0.0.1:${ports.d}/invocations`, b100.d)) as { predictions: number[] })
      .predictions;
    const maxDiff = (x: number[], y: number[]) => Math.max(...x.map((v, i) => Math.abs(v - (y[i] ?? Number.NaN))));
    const agreement = { fastapi: maxDiff(ours, fastapi), mlflow: maxDiff(ours, served) };
    log(
      `max |ctr difference| over 100 impressions: vs FastAPI ${agreement.fastapi.toExponential(2)}, vs mlflow serve ${agreement.mlflow.toExponential(2)}`,
    );
    if (!(agreement.fastapi < 1e-5 && agreement.mlflow < 1e-5))
      throw new Error('the servers disagree: not the same model');

    // 5. Load: one target at a time, a short warm-up first.
    const targets = [
      {
        key: 'a1',
        pid: a1.pid ?? 0,
        label: '(a) inference, 1 worker',
        url: `http://127.0.0.1:${ports.a1}/predict`,
        body: (n: number) => bodies.get(n)!.a,
      },
      {
        key: 'a2',
        pid: a2.pid ?? 0,
        label: '(a) inference, 2 workers',
        url: `http://127.0.0.1:${ports.a2}/predict`,
        body: (n: number) => bodies.get(n)!.a,
      },
      {
        key: 'b',
        pid: b.pid ?? 0,
        label: '(b) bare Fastify, constant',
        url: `http://127.0.0.1:${ports.b}/predict`,
        body: (n: number) => bodies.get(n)!.a,
      },
      {
        key: 'c',
        pid: c.pid ?? 0,
        label: '(c) FastAPI + sklearn',
        url: `http://127.0.0.1:${ports.c}/predict`,
        body: (n: number) => bodies.get(n)!.c,
      },
      {
        key: 'd',
        pid: d.pid ?? 0,
        label: '(d) mlflow models serve',
        url: `http://127.0.0.1:${ports.d}/invocations`,
        body: (n: number) => bodies.get(n)!.d,
      },
    ] as const;
    type Cell = { rps: number; p50: number; p99: number; errors: number; cpuUs: number };
    const runs = new Map<string, Cell[]>();
    for (let round = 1; round <= rounds; round++) {
      for (const n of sizes) {
        for (const t of targets) {
          await run(t.url, t.body(n), 1);
          const cpuBefore = treeCpuSeconds(t.pid);
          const r = await run(t.url, t.body(n), seconds);
          const cpuUsed = treeCpuSeconds(t.pid) - cpuBefore;
          const cell = {
            rps: r.requests.average,
            p50: r.latency.p50,
            p99: r.latency.p99,
            errors: r.errors + r.timeouts + r.non2xx,
            cpuUs: (cpuUsed * 1e6) / Math.max(1, r.requests.total),
          };
          runs.set(`${t.key}:${n}`, [...(runs.get(`${t.key}:${n}`) ?? []), cell]);
          log(
            `round ${round}: ${t.label}, batch ${n}: ${cell.rps.toFixed(0)} req/s, p50 ${cell.p50} ms, p99 ${cell.p99} ms, server CPU ${cell.cpuUs.toFixed(0)} µs/req, errors ${cell.errors}`,
          );
        }
      }
    }
    // The median round by req/s (others load this machine: single runs swing widely); errors summed.
    const results = new Map<string, Cell>();
    for (const [key, cells] of runs) {
      const sorted = [...cells].sort((x, y) => x.rps - y.rps);
      const median = sorted[Math.floor(sorted.length / 2)]!;
      const cpu = cells.map((c) => c.cpuUs).sort((x, y) => x - y);
      results.set(key, {
        ...median,
        cpuUs: cpu[Math.floor(cpu.length / 2)]!,
        errors: cells.reduce((a, c) => a + c.errors, 0),
      });
    }

    // 6. Table.
    const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
    const lines: string[] = [];
    lines.push(`| server | batch | req/s | impressions/s | p50 ms | p99 ms | server CPU µs/req | errors |`);
    lines.push(`|---|---:|---:|---:|---:|---:|---:|---:|`);
    for (const n of sizes) {
      for (const t of targets) {
        const r = results.get(`${t.key}:${n}`)!;
        lines.push(
          `| ${t.label} | ${n} | ${fmt(r.rps)} | ${fmt(r.rps * n)} | ${r.p50} | ${r.p99} | ${fmt(r.cpuUs)} | ${r.errors} |`,
        );
      }
    }
    lines.push('');
    lines.push(`| ratio (req/s) | batch 1 | batch 100 | target |`);
    lines.push(`|---|---:|---:|---|`);
    const ratio = (x: string, y: string, n: number) =>
      (results.get(`${x}:${n}`)!.rps / results.get(`${y}:${n}`)!.rps).toFixed(2);
    const row = (name: string, x: string, y: string, target: string) =>
      lines.push(`| ${name} | ${ratio(x, y, 1)} | ${ratio(x, y, 100)} | ${target} |`);
    row('(a) 1 worker / (b) bare Fastify', 'a1', 'b', '≥ 0.75');
    row('(a) 1 worker / (c) FastAPI', 'a1', 'c', '≥ 10');
    row('(a) 1 worker / (d) mlflow serve', 'a1', 'd', '');
    row('(a) 2 workers / (a) 1 worker', 'a2', 'a1', '> 1');
    row('(a) 2 workers / (c) FastAPI', 'a2', 'c', '');
    lines.push('');
    lines.push(`| ratio (server CPU per request; steadier under load) | batch 1 | batch 100 | target |`);
    lines.push(`|---|---:|---:|---|`);
    const cpuRatio = (x: string, y: string, n: number) =>
      (results.get(`${y}:${n}`)!.cpuUs / results.get(`${x}:${n}`)!.cpuUs).toFixed(2);
    const cpuRow = (name: string, x: string, y: string, target: string) =>
      lines.push(`| ${name} | ${cpuRatio(x, y, 1)} | ${cpuRatio(x, y, 100)} | ${target} |`);
    cpuRow('efficiency of (a) 1 worker relative to (b): CPU(b) / CPU(a)', 'a1', 'b', '≥ 0.75');
    cpuRow('CPU(c) / CPU(a): FastAPI needs this many times more', 'a1', 'c', '≥ 10');
    cpuRow('CPU(d) / CPU(a): mlflow serve needs this many times more', 'a1', 'd', '');
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    process.stdout.write(
      `\nPOST /predict, loopback, autocannon ${connections} connections, ${seconds} s per cell, median of ${rounds} rounds, ${cpus().length} cores (${cpu}), Node ${process.version}; ` +
        `predictions agree to ${Math.max(agreement.fastapi, agreement.mlflow).toExponential(1)}\n\n${lines.join('\n')}\n`,
    );
  } finally {
    stopping = true;
    for (const c of children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await cleanup(client, modelName);
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  stopping = true;
  for (const c of children) c.kill('SIGKILL');
  console.error(error);
  process.exit(1);
});
