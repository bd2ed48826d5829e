/**
 * POST /predict CPU per request against the floor, in one run, loopback only:
 *   (a) one inference worker's HTTP server (startHttpServer, the app a cluster worker runs; 2^20 model,
 *       bench/inference-hostile-server.ts), no MLflow needed;
 *   (a0) the same server with the fused body scan off (FUSED_BODY_SCAN=false): every body by the exact
 *       path (shape scan, JSON.parse, validator, featurise), to show what the scan is worth;
 *   (b) bare Fastify parsing the same body and sending (a)'s response for it as a constant
 *       (bench/inference-bare-fastify.ts).
 * Batch 1, 10 and 100; rounds interleave the servers cell by cell; server CPU is read from /proc
 * (the spawned process and its children) around each cell and divided by the requests it answered; the median round is
 * reported. CPU per request is the steadier figure on a shared machine (req/s depends on the load).
 *
 *   npx tsx --conditions=source bench/inference-floor.ts [--seconds 4] [--rounds 3] [--connections 8]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { floorImpression } from './support/floor-impression.js';
import { treeCpuSeconds } from './support/process-tree-cpu.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '8' },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const SIZES = [1, 10, 100] as const;
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const children: ChildProcess[] = [];

const bodies = new Map(
  SIZES.map((n) => [n, JSON.stringify({ impressions: Array.from({ length: n }, (_, i) => floorImpression(i)) })]),
);

/** Starts a child that prints nothing (bare) or its URL (inference) and waits until it answers. */
async function startServer(file: string, port: number, env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', here(file)], {
    env: { ...process.env, PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${file} exited ${child.exitCode}`);
    const up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return child;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function cell(port: number, pid: number, body: string): Promise<{ reqs: number; cpuUs: number }> {
  const url = `http://127.0.0.1:${port}/predict`;
  const request = { url, method: 'POST' as const, headers: { 'content-type': 'application/json' }, body };
  await autocannon({ ...request, connections, duration: 1 });
  const cpu0 = treeCpuSeconds(pid);
  const result = await autocannon({ ...request, connections, duration: seconds });
  const cpu = treeCpuSeconds(pid) - cpu0;
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  const reqs = result.requests.total;
  return { reqs, cpuUs: (cpu * 1e6) / reqs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

try {
  const load0 = loadavg();
  const ports = { a: 18_411, b: 18_412, a0: 18_413 };
  const a = await startServer('./inference-hostile-server.ts', ports.a);
  const a0 = await startServer('./inference-hostile-server.ts', ports.a0, { FUSED_BODY_SCAN: 'false' });
  const responses: Record<string, string> = {};
  for (const [n, body] of bodies) {
    const res = await fetch(`http://127.0.0.1:${ports.a}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    responses[String(n)] = await res.text();
  }
  const b = await startServer('./inference-bare-fastify.ts', ports.b, { BARE_RESPONSES: JSON.stringify(responses) });
  const servers = [
    { name: '(a) inference worker', port: ports.a, pid: a.pid as number },
    { name: '(b) bare Fastify floor', port: ports.b, pid: b.pid as number },
    { name: '(a0) inference worker, exact path only', port: ports.a0, pid: a0.pid as number },
  ];
  const cpu = new Map<string, number[]>();
  const rps = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const n of SIZES) {
      for (const s of servers) {
        const r = await cell(s.port, s.pid, bodies.get(n) as string);
        const key = `${s.name}|${n}`;
        cpu.set(key, [...(cpu.get(key) ?? []), r.cpuUs]);
        rps.set(key, [...(rps.get(key) ?? []), r.reqs / seconds]);
      }
    }
  }
  const load1 = loadavg();
  console.log(
    `\nPOST /predict server CPU per request, autocannon ${connections} connections, ${seconds} s per cell, median of ${rounds} rounds, ` +
      `load average ${load0.map((l) => l.toFixed(1)).join(' / ')} before, ${load1.map((l) => l.toFixed(1)).join(' / ')} after\n`,
  );
  console.log(
    '| batch | (a) inference µs/req | (b) floor µs/req | (a) / (b) | (a0) exact path only µs/req | (a0) / (b) | (a) req/s | (b) req/s |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
  const at = (s: number, n: number, m: Map<string, number[]>) => median(m.get(`${servers[s]!.name}|${n}`) ?? []);
  for (const n of SIZES) {
    const ca = at(0, n, cpu);
    const cb = at(1, n, cpu);
    const ca0 = at(2, n, cpu);
    console.log(
      `| ${n} | ${ca.toFixed(1)} | ${cb.toFixed(1)} | ${(ca / cb).toFixed(2)} | ${ca0.toFixed(1)} | ${(ca0 / cb).toFixed(2)} | ${Math.round(at(0, n, rps))} | ${Math.round(at(1, n, rps))} |`,
    );
  }
  const slope = (s: number) => (at(s, 100, cpu) - at(s, 1, cpu)) / 99;
  console.log(
    `\nper extra impression: (a) ${slope(0).toFixed(2)} µs, (b) ${slope(1).toFixed(2)} µs; ` +
      `fixed cost (batch 1 minus one impression): (a) ${(at(0, 1, cpu) - slope(0)).toFixed(1)} µs, (b) ${(at(1, 1, cpu) - slope(1)).toFixed(1)} µs; ` +
      `(a0) ${slope(2).toFixed(2)} µs per extra impression, fixed ${(at(2, 1, cpu) - slope(2)).toFixed(1)} µs`,
  );
} finally {
  for (const c of children) {
    c.kill('SIGTERM');
    if (c.exitCode === null) await once(c, 'exit').catch(() => undefined);
  }
}
