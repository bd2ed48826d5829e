import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildApp, createModelHolder, InferenceEnvSchema } from '@fallback-ctr/inference';
import { MlflowEnvSchema } from '@fallback-ctr/mlflow';
import { parseEnv } from '@fallback-ctr/runtime';
import { loadTrainerConfig, runCli, TrainerEnvSchema } from '@fallback-ctr/trainer';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type ComposeService,
  dockerCompose,
  type ResolvedCompose,
  resolvedCompose,
  serviceEnv,
} from './support/compose.js';
import { readKustomization } from './support/kustomize.js';
import { BASE_DIR } from './support/manifests.js';
import { REPO_ROOT, repoPath } from './support/paths.js';
import { requiredEnvNames } from './support/required-env.js';

let compose: ResolvedCompose;
const service = (name: string): ComposeService => {
  const s = compose.services[name];
  if (!s) throw new Error(`no service ${name} in docker-compose.yml`);
  return s;
};

beforeAll(() => {
  compose = resolvedCompose();
});

const packageVersion = (dir: string): string =>
  (JSON.parse(readFileSync(repoPath(dir, 'package.json'), 'utf8')) as { version: string }).version;

describe('docker-compose.yml', () => {
  it('is valid for docker-compose (config -q), with no unset-variable warnings', () => {
    const run = dockerCompose(['-f', 'docker-compose.yml', 'config', '-q']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('config -q rejects a broken file (the check has teeth)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fctr-compose-'));
    try {
      writeFileSync(
        join(dir, 'docker-compose.yml'),
        'services:\n  a:\n    image: x:1\n    depends_on:\n      b:\n        condition: service_helthy\n  b:\n    image: y:1\n',
      );
      const run = dockerCompose(['-f', 'docker-compose.yml', 'config', '-q'], dir);
      expect(run.status).not.toBe(0);
      expect(run.stderr).toMatch(/service_helthy|condition/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('holds the whole system', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'clicklog-seed',
      'inference',
      'mlflow',
      'postgres',
      'trainer',
    ]);
  });

  it('starts in order: each dependency is healthy (it has a health check) or has completed', () => {
    const deps = (name: string) =>
      Object.fromEntries(Object.entries(service(name).depends_on ?? {}).map(([k, v]) => [k, v.condition]));
    expect(deps('mlflow')).toEqual({ postgres: 'service_healthy' });
    expect(deps('clicklog-seed')).toEqual({ postgres: 'service_healthy' });
    expect(deps('trainer')).toEqual({
      postgres: 'service_healthy',
      mlflow: 'service_healthy',
      'clicklog-seed': 'service_completed_successfully',
    });
    expect(deps('inference')).toEqual({ mlflow: 'service_healthy' });
    for (const [name, s] of Object.entries(compose.services)) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        if (condition === 'service_healthy') expect(service(dep).healthcheck, `${name} waits for ${dep}`).toBeDefined();
      }
    }
  });

  it('runs the trainer in schedule mode with rollout "none", with settings the trainer accepts', async () => {
    const trainer = service('trainer');
    expect(trainer.command).toEqual(['schedule', '--run-now']);
    const sink = new Writable({ write: (_c, _e, done) => done() });
    expect(await runCli([...(trainer.command ?? []), '--help'], { stdout: sink, stderr: sink, env: {} })).toBe(0);
    const env = serviceEnv(trainer);
    expect(Object.keys(env).filter((n) => !Object.hasOwn(TrainerEnvSchema.shape, n))).toEqual([]);
    for (const name of requiredEnvNames(TrainerEnvSchema)) expect(env[name], name).toBeTruthy();
    const config = loadTrainerConfig(env);
    expect(config.rollout.mode).toBe('none');
    expect(config.mlflow.clientOptions.trackingUri).toBe('http://mlflow:5000');
  });

  it('runs inference with settings it accepts, published on its port, with health checks on its routes', async () => {
    const inference = service('inference');
    const env = serviceEnv(inference);
    const known = new Set([...Object.keys(InferenceEnvSchema.shape), ...Object.keys(MlflowEnvSchema.shape)]);
    expect(Object.keys(env).filter((n) => !known.has(n))).toEqual([]);
    for (const name of requiredEnvNames(InferenceEnvSchema)) expect(env[name], name).toBeTruthy();
    const config = parseEnv(InferenceEnvSchema, env);
    expect(inference.ports).toEqual([`127.0.0.1:${config.PORT}:${config.PORT}/tcp`]);
    const test = inference.healthcheck?.test.join(' ') ?? '';
    const url = /http:\/\/127\.0\.0\.1:(\d+)(\/\w+)/.exec(test);
    expect(Number(url?.[1])).toBe(config.PORT);
    const app = await buildApp({ holder: createModelHolder(), docs: false });
    try {
      expect(app.hasRoute({ method: 'GET', url: url?.[2] ?? '' })).toBe(true);
    } finally {
      await app.close();
    }
    // Waits for the first champion instead of restarting while the trainer's first run goes.
    expect(config.STARTUP_DEADLINE_SECONDS).toBeGreaterThanOrEqual(600);
  });

  it('points both services at the compose Postgres and MLflow, and MLflow at its own database', () => {
    const pg = serviceEnv(service('postgres'));
    const db = new URL(serviceEnv(service('trainer')).DATABASE_URL ?? '');
    expect([db.protocol, db.hostname, db.port, db.pathname]).toEqual([
      'postgres:',
      'postgres',
      '5432',
      `/${pg.POSTGRES_DB}`,
    ]);
    expect([db.username, db.password]).toEqual([pg.POSTGRES_USER, pg.POSTGRES_PASSWORD]);
    expect(serviceEnv(service('clicklog-seed')).DATABASE_URL).toBe(db.href);
    const backend = new URL(serviceEnv(service('mlflow')).MLFLOW_BACKEND_STORE_URI ?? '');
    expect([backend.protocol, backend.hostname, backend.username, backend.password]).toEqual([
      'postgresql+psycopg2:',
      'postgres',
      pg.POSTGRES_USER,
      pg.POSTGRES_PASSWORD,
    ]);
    // The init script that creates MLflow's database is mounted where the postgres image runs it.
    const init = service('postgres').volumes?.find((v) => v.includes(':/docker-entrypoint-initdb.d/'));
    const hostPath = init?.split(':')[0] ?? '';
    const dbName = backend.pathname.slice(1);
    expect(readFileSync(hostPath, 'utf8')).toMatch(new RegExp(`CREATE DATABASE ${dbName};`));
  });

  it('seeds click logs with a clicklog CLI command that exists, at the path the trainer image builds', () => {
    const seed = service('clicklog-seed');
    expect(seed.entrypoint).toEqual(['node', 'libs/clicklog/dist/cli.js']);
    expect(existsSync(repoPath('libs/clicklog/src/cli.ts'))).toBe(true);
    expect(readFileSync(repoPath('Dockerfile.trainer'), 'utf8')).toContain(
      '/app/libs/clicklog/dist libs/clicklog/dist',
    );
    const run = (args: string[]) =>
      spawnSync(
        process.execPath,
        ['--conditions=source', '--import', 'tsx', 'libs/clicklog/src/cli.ts', ...args, '--help'],
        { cwd: REPO_ROOT, encoding: 'utf8', timeout: 140_000, env: { PATH: process.env.PATH ?? '' } },
      );
    const ok = run(seed.command ?? []);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/Usage: clicklog generate/);
    expect(run(['generate', '--dayz', '8']).status).not.toBe(0);
  }); // two CLI starts through tsx: slow on a loaded machine (the suite's deadline covers them)

  it('builds and tags the same images as the Kubernetes base (tag = package version)', () => {
    const k = readKustomization(BASE_DIR);
    const tags = Object.fromEntries((k.images ?? []).map((i) => [i.name, i.newTag]));
    for (const [name, dir, dockerfile] of [
      ['trainer', 'services/trainer', 'Dockerfile.trainer'],
      ['inference', 'services/inference', 'Dockerfile.inference'],
    ] as const) {
      const s = service(name);
      expect(s.image).toBe(`fallback-ctr/${name}:${packageVersion(dir)}`);
      expect(tags[`fallback-ctr/${name}`]).toBe(packageVersion(dir));
      expect(s.build?.context).toBe(REPO_ROOT);
      expect(s.build?.dockerfile).toBe(dockerfile);
    }
    expect(service('clicklog-seed').image).toBe(service('trainer').image);
  });

  it('runs the Node services read-only, without new privileges, stopped by SIGTERM', () => {
    for (const name of ['trainer', 'inference', 'clicklog-seed']) {
      const s = service(name);
      expect(s.read_only, name).toBe(true);
      expect(s.security_opt, name).toEqual(['no-new-privileges:true']);
      expect(s.cap_drop, name).toEqual(['ALL']);
      expect(s.tmpfs, name).toEqual(['/tmp']);
    }
    expect(service('trainer').stop_signal).toBe('SIGTERM');
    expect(service('inference').stop_signal).toBe('SIGTERM');
  });
});
