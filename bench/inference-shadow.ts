/**
 * The serving cost of shadow scoring, in ONE run on this machine, loopback only: the real inference
 * server (src/main.ts, 1 worker) twice from the same MLflow registry — shadow off (no SHADOW_ALIAS) and
 * shadow on (SHADOW_ALIAS=challenger, SHADOW_SHARE=1, the most it can cost) — at batch 1 and 100:
 *   - saturated (BENCH_CONNECTIONS, default 16): server CPU per request (primary + worker, from /proc)
 *     and req/s — what shadow costs in capacity;
 *   - one connection at a time: p50/p99 latency — whether shadow scoring, which runs after the answer
 *     is sent, delays the answer.
 * Off and on alternate within each round (others load this machine); the median round is reported,
 * with the load average beside it. A second table measures the same in one process (buildApp +
 * inject, CPU time of this process per request): no sockets and no other process in the figure, so
 * it holds up better on a loaded machine, and its ratio is an upper bound (the HTTP work shadow
 * scoring does not add is left out of the denominator).
 *
 * Run: npm run bench:inference-shadow   (needs MLflow: bash scripts/services.sh up)
 * Env: BENCH_SECONDS per cell (default 4), BENCH_ROUNDS (3), BENCH_CONNECTIONS (16), MLFLOW_TRACKING_URI;
 * BENCH_IN_PROCESS_ONLY=1 prints the in-process table alone (no MLflow, no server processes).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { buildApp, createModelHolder } from '@fallback-ctr/inference';
import { createMlflowClient } from '@fallback-ctr/mlflow';
import autocannon from 'autocannon';
import { makeArtifact, makeLoadedModel, randomImpression, seededRandom } from '../services/inference/test/fixtures.js';
import { publishVersion } from '../services/inference/test/mlflow-fixtures.js';
import { treeCpuSeconds } from './support/process-tree-cpu.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const mainTs = fileURLToPath(new URL('../services/inference/src/main.ts', import.meta.url));
const trackingUri = process.env.MLFLOW_TRACKING_URI ?? 'http://127.0.0.1:55000';
const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const sizes = [1, 100] as const;
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const load = () => loadavg()[0]?.toFixed(1) ?? '?';

interface Server {
  child: ChildProcess;
  url: string;
}

async function startServer(port: number, env: Record<string, string>, ready: string): Promise<Server> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', mainTs], {
    cwd: root,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), WORKERS: '1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let buffered = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.includes(ready)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code} before "${ready}"`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

function cannon(url: string, body: string, conns: number, duration: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${url}/predict`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: conns,
    duration,
  });
}

interface Cell {
  rps: number;
  cpuUs: number;
  p50: number;
  p99: number;
  errors: number;
  load: string;
}

const median = <T>(xs: T[], by: (x: T) => number): T => [...xs].sort((a, b) => by(a) - by(b))[xs.length >> 1] as T;

/** CPU µs per request of buildApp + inject, shadow off vs on, alternating, median of `rounds`. */
async function inProcessTable(bodies: Map<number, string>): Promise<string> {
  const champion = makeLoadedModel(41, '1');
  const challenger = makeLoadedModel(42, '2');
  const apps = {
    off: await buildApp({ holder: createModelHolder(champion), docs: false }),
    on: await buildApp({
      holder: createModelHolder(champion),
      docs: false,
      shadow: { holder: createModelHolder(challenger), share: 1 },
    }),
  };
  const cells = new Map<string, number[]>();
  const idle = () => new Promise((resolve) => setImmediate(resolve));
  for (let round = 1; round <= rounds; round++) {
    for (const n of sizes) {
      const requests = n === 1 ? 4_000 : 600;
      const payload = bodies.get(n) ?? '';
      for (const mode of ['off', 'on'] as const) {
        const inject = () =>
          apps[mode].inject({
            method: 'POST',
            url: '/predict',
            headers: { 'content-type': 'application/json' },
            payload,
          });
        for (let i = 0; i < 100; i++) await inject();
        await idle();
        const before = process.cpuUsage();
        for (let i = 0; i < requests; i++) await inject();
        await idle(); // the last shadow scorings run after their answers
        const used = process.cpuUsage(before);
        cells.set(`${mode}:${n}`, [...(cells.get(`${mode}:${n}`) ?? []), (used.user + used.system) / requests]);
      }
    }
  }
  await apps.off.close();
  await apps.on.close();
  const med = (key: string) => median(cells.get(key) ?? [], (x) => x);
  const lines = [
    `| batch | CPU µs/req off | CPU µs/req on | on ÷ off | load avg |`,
    '|---:|---:|---:|---:|---:|',
    ...sizes.map(
      (n) =>
        `| ${n} | ${med(`off:${n}`).toFixed(1)} | ${med(`on:${n}`).toFixed(1)} | ${(med(`on:${n}`) / med(`off:${n}`)).toFixed(2)} | ${load()} |`,
    ),
  ];
  return lines.join('\n');
}

function requestBodies(): Map<number, string> {
  const random = seededRandom(3);
  return new Map(
    sizes.map((n) => [
      n,
      JSON.stringify({
        impressions: Array.from({ length: n }, (_, i) => ({ id: `i${i}`, ...randomImpression(random) })),
      }),
    ]),
  );
}

async function main(): Promise<void> {
  if (process.env.BENCH_IN_PROCESS_ONLY === '1') {
    process.stdout.write(
      `\nShadow scoring cost in one process (buildApp + inject, 2^16-bucket models, SHADOW_SHARE=1), median of ${rounds} rounds, Node ${process.version}:\n\n${await inProcessTable(requestBodies())}\n`,
    );
    return;
  }
  const client = createMlflowClient({ trackingUri });
  const name = `inference-shadow-bench-${Date.now().toString(36)}`;
  const champion = makeArtifact(41, 40_000);
  const challenger = makeArtifact(42, 40_000);
  await publishVersion(client, name, champion.bytes, { alias: 'champion' });
  await publishVersion(client, name, challenger.bytes, { alias: 'challenger' });
  const base = { MLFLOW_TRACKING_URI: trackingUri, MODEL_NAME: name };
  const servers: Record<'off' | 'on', Server> = {
    off: await startServer(18_931, base, 'model loaded: ready'),
    on: await startServer(18_932, { ...base, SHADOW_ALIAS: 'challenger', SHADOW_SHARE: '1' }, 'challenger loaded'),
  };
  const stopServers = () => {
    for (const server of Object.values(servers)) server.child.kill('SIGTERM');
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopServers();
      process.exit(130);
    });
  }
  const bodies = requestBodies();
  const cells = new Map<string, Cell[]>();
  const inProcess = await inProcessTable(bodies);
  log(`in process:\n${inProcess}`);
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const n of sizes) {
        for (const mode of ['off', 'on'] as const) {
          const { child, url } = servers[mode];
          const body = bodies.get(n) ?? '';
          await cannon(url, body, connections, 1);
          const before = treeCpuSeconds(child.pid ?? 0);
          const saturated = await cannon(url, body, connections, seconds);
          const cpu = treeCpuSeconds(child.pid ?? 0) - before;
          const single = await cannon(url, body, 1, seconds);
          const cell: Cell = {
            rps: saturated.requests.average,
            cpuUs: (cpu * 1e6) / Math.max(1, saturated.requests.total),
            p50: single.latency.p50,
            p99: single.latency.p99,
            errors: [saturated, single].reduce((a, r) => a + r.errors + r.timeouts + r.non2xx, 0),
            load: load(),
          };
          cells.set(`${mode}:${n}`, [...(cells.get(`${mode}:${n}`) ?? []), cell]);
          log(
            `round ${round}, batch ${n}, shadow ${mode}: ${cell.rps.toFixed(0)} req/s, ${cell.cpuUs.toFixed(0)} µs CPU/req, 1 conn p50 ${cell.p50} ms p99 ${cell.p99} ms, load ${cell.load}`,
          );
        }
      }
    }
    const shadowScored = await fetch(`${servers.on.url}/metrics`)
      .then((r) => r.text())
      .then((t) => /fallback_ctr_inference_shadow_predictions_total (\d+)/.exec(t)?.[1] ?? '0');
    const lines = [
      '| batch | shadow | req/s (16 conns) | server CPU µs/req | p50 ms (1 conn) | p99 ms (1 conn) | errors | load avg |',
      '|---:|---|---:|---:|---:|---:|---:|---:|',
    ];
    const ratios = [
      '| batch | CPU/req on ÷ off | req/s on ÷ off | p50 on − off ms | p99 on − off ms |',
      '|---:|---:|---:|---:|---:|',
    ];
    for (const n of sizes) {
      const pick = (mode: string) => {
        const all = cells.get(`${mode}:${n}`) ?? [];
        return {
          ...median(all, (c) => c.cpuUs),
          rps: median(all, (c) => c.rps).rps,
          errors: all.reduce((a, c) => a + c.errors, 0),
        };
      };
      const off = pick('off');
      const on = pick('on');
      for (const [mode, c] of [
        ['off', off],
        ['on', on],
      ] as const) {
        lines.push(
          `| ${n} | ${mode} | ${c.rps.toFixed(0)} | ${c.cpuUs.toFixed(0)} | ${c.p50} | ${c.p99} | ${c.errors} | ${c.load} |`,
        );
      }
      ratios.push(
        `| ${n} | ${(on.cpuUs / off.cpuUs).toFixed(2)} | ${(on.rps / off.rps).toFixed(2)} | ${(on.p50 - off.p50).toFixed(2)} | ${(on.p99 - off.p99).toFixed(2)} |`,
      );
    }
    process.stdout.write(
      `\nShadow scoring cost: real server, 1 worker, SHADOW_SHARE=1, median of ${rounds} rounds of ${seconds} s per cell, Node ${process.version}; ` +
        `${shadowScored} impressions scored in shadow during the run\n\n${lines.join('\n')}\n\n${ratios.join('\n')}\n\n` +
        `In one process (buildApp + inject, 2^16-bucket models, SHADOW_SHARE=1), median of ${rounds} rounds:\n\n${inProcess}\n`,
    );
  } finally {
    stopServers();
    await client.deleteRegisteredModel(name).catch(() => undefined);
    const experiment = await client.getExperimentByName(name).catch(() => undefined);
    if (experiment) await client.deleteExperiment(experiment.experimentId).catch(() => undefined);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
