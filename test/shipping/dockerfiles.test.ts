import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { buildApp, createModelHolder, InferenceEnvSchema } from '@fallback-ctr/inference';
import { validate } from 'dockerfile-utils';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { describe, expect, it } from 'vitest';
import {
  copies,
  dockerignoreMatcher,
  execForm,
  npmCiCommands,
  parseDockerfile,
  readDockerfile,
  type Stage,
  workspaceFlags,
} from './support/dockerfile.js';
import { productionClosure } from './support/lockfile-closure.js';
import { find, inferenceDeployment, renderBase, renderOverlay, trainerCronJob } from './support/manifests.js';
import { REPO_ROOT, repoPath } from './support/paths.js';

interface PackageJson {
  name: string;
  version: string;
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  bin?: Record<string, string>;
  workspaces?: string[];
}
const readJson = <T>(path: string): T => JSON.parse(readFileSync(repoPath(path), 'utf8')) as T;
const root = readJson<PackageJson>('package.json');
const workspaceDirs = root.workspaces ?? [];
const dirOf = new Map(workspaceDirs.map((dir) => [readJson<PackageJson>(`${dir}/package.json`).name, dir]));

/** The workspace folders a package needs at run time: itself and its @fallback-ctr dependencies, transitively. */
function workspaceClosure(dir: string): string[] {
  const out = new Set<string>([dir]);
  const visit = (d: string) => {
    for (const dep of Object.keys(readJson<PackageJson>(`${d}/package.json`).dependencies ?? {})) {
      const depDir = dirOf.get(dep);
      if (depDir && !out.has(depDir)) {
        out.add(depDir);
        visit(depDir);
      }
    }
  };
  visit(dir);
  return workspaceDirs.filter((d) => out.has(d));
}

const SERVICES = [
  { service: 'services/inference', dockerfile: 'Dockerfile.inference' },
  { service: 'services/trainer', dockerfile: 'Dockerfile.trainer' },
] as const;
const DOCKERFILES = [...SERVICES.map((s) => s.dockerfile), 'docker/mlflow/Dockerfile'];

const instructionsOf = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const last = <T>(items: readonly T[]): T => {
  const item = items[items.length - 1];
  if (item === undefined) throw new Error('empty list');
  return item;
};

describe('Dockerfiles lint clean (dockerfile-utils)', () => {
  for (const file of DOCKERFILES) {
    it(file, () => {
      const diagnostics = validate(readFileSync(repoPath(file), 'utf8'));
      expect(diagnostics.map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
    });
  }

  it('the linter reports real mistakes', () => {
    const broken = 'FROM node:22 AS build\nCOPY --chwon=1000 a b\nSTOPSIGNAL SIGTERMM\nEXPOSE 80/tpc\nWORKDIR app\n';
    const messages = validate(broken).map((d) => d.message);
    expect(messages.length).toBeGreaterThanOrEqual(3);
  });
});

describe('the parser used by these checks', () => {
  it('joins continuations, drops comments, splits stages and reads COPY and npm ci', () => {
    const stages = parseDockerfile(
      [
        '# syntax=docker/dockerfile:1',
        'FROM node:22.1.0-bookworm-slim AS build',
        'RUN npm ci \\',
        '    # a comment inside a continuation',
        '    -w a --workspace=b && echo done',
        'COPY --from=build --chown=1:1 /app/x y/',
        'FROM scratch',
        'ENTRYPOINT ["node", "main.js"]',
      ].join('\n'),
    );
    expect(stages.map((s) => [s.image, s.name])).toEqual([
      ['node:22.1.0-bookworm-slim', 'build'],
      ['scratch', undefined],
    ]);
    expect(npmCiCommands(stages[0]!).map(workspaceFlags)).toEqual([['a', 'b']]);
    expect(copies(stages[0]!)).toEqual([{ from: 'build', sources: ['/app/x'], destination: 'y/', line: 6 }]);
    expect(execForm(stages[1]!.instructions[0]!.args)).toEqual(['node', 'main.js']);
    expect(execForm('node main.js')).toBeUndefined();
  });
});

for (const { service, dockerfile } of SERVICES) {
  describe(dockerfile, () => {
    const stages = readDockerfile(repoPath(dockerfile));
    const final = last(stages);
    const closure = workspaceClosure(service);
    const closureNames = closure.map((d) => readJson<PackageJson>(`${d}/package.json`).name);
    const others = workspaceDirs.filter((d) => !closure.includes(d));
    const pkg = readJson<PackageJson>(`${service}/package.json`);

    it('is multi-stage on one pinned Node LTS image, within the project’s engines range', () => {
      expect(stages.length).toBeGreaterThanOrEqual(3);
      const images = new Set(stages.map((s) => s.image));
      expect(images.size).toBe(1);
      const image = [...images][0] ?? '';
      const m = /^node:(\d+)\.(\d+)\.(\d+)-(bookworm|trixie)-slim$/.exec(image);
      expect(m, `${image} is pinned to an exact version`).not.toBeNull();
      const major = Number(m?.[1]);
      expect(major % 2, 'an even (LTS) major').toBe(0);
      const minimum = Number(/>=\s*(\d+)/.exec(root.engines?.node ?? '')?.[1]);
      expect(major).toBeGreaterThanOrEqual(minimum);
    });

    it('installs and builds exactly the workspaces the service needs', () => {
      const build = stages.find((s) => npmCiCommands(s).some((a) => a.includes('--include-workspace-root')));
      expect(build, 'a build stage with dev dependencies').toBeDefined();
      const buildCi = npmCiCommands(build!);
      expect(buildCi).toHaveLength(1);
      expect(workspaceFlags(buildCi[0]!).sort()).toEqual([...closureNames].sort());
      expect(instructionsOf(build!, 'RUN').map((r) => r.args)).toContain(`npx tsc -b ${service}`);
      // tsc -b follows the tsconfig references: they must all be inside the closure.
      for (const dir of closure) {
        const tsconfig = readJson<{ references?: { path: string }[] }>(`${dir}/tsconfig.json`);
        for (const ref of tsconfig.references ?? []) {
          const target = relative(REPO_ROOT, repoPath(dir, ref.path));
          expect(closure, `${dir} references ${target}`).toContain(target);
        }
      }
    });

    it('copies no code of other workspaces into any stage', () => {
      const sources = stages.flatMap((s) => copies(s).flatMap((c) => c.sources));
      for (const dir of others) {
        const code = sources.filter(
          (src) => src.replace(/^\/app\//, '').startsWith(`${dir}/`) && !src.endsWith('package.json'),
        );
        expect(code, `${dir} code`).toEqual([]);
      }
      // Only manifests of the needed workspaces: npm ci accepts the lock file without the others.
      const manifests = sources.filter((s) => s.endsWith('/package.json') && !s.startsWith('/app/'));
      expect(new Set(manifests)).toEqual(new Set(closure.map((d) => `${d}/package.json`)));
    });

    it('ships production dependencies only, built code only, as a numeric non-root user', () => {
      const byName = new Map(stages.filter((s) => s.name).map((s) => [s.name, s]));
      expect(npmCiCommands(final)).toEqual([]);
      const finalCopies = copies(final);
      expect(
        finalCopies.every((c) => c.from !== undefined),
        'the final stage copies only from earlier stages',
      ).toBe(true);
      const modules = finalCopies.find((c) => c.sources.includes('/app/node_modules'));
      const depsStage = byName.get(modules?.from ?? '');
      const depsCi = depsStage ? npmCiCommands(depsStage) : [];
      expect(depsCi).toHaveLength(1);
      expect(depsCi[0]).toContain('--omit=dev');
      // No package's install script runs in either stage (none of the production ones has one).
      for (const args of [...depsCi, ...stages.flatMap(npmCiCommands)]) expect(args).toContain('--ignore-scripts');
      expect(workspaceFlags(depsCi[0] ?? [])).toEqual([pkg.name]);
      const code = finalCopies.flatMap((c) => c.sources).filter((s) => s !== '/app/node_modules');
      const expected = ['/app/package.json', ...closure.flatMap((d) => [`/app/${d}/package.json`, `/app/${d}/dist`])];
      expect(new Set(code)).toEqual(new Set(expected));
      const user = last(instructionsOf(final, 'USER')).args;
      expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
      expect(
        instructionsOf(final, 'ENV')
          .map((e) => e.args)
          .join(' '),
      ).toMatch(/NODE_ENV=production/);
    });

    it('runs Node as PID 1 (exec form), stopped by SIGTERM, starting the service’s entry point', () => {
      expect(instructionsOf(final, 'STOPSIGNAL').map((i) => i.args)).toEqual(['SIGTERM']);
      const entrypoint = execForm(last(instructionsOf(final, 'ENTRYPOINT')).args);
      expect(entrypoint?.[0]).toBe('node');
      expect(entrypoint).toHaveLength(2);
      const script = entrypoint?.[1] ?? '';
      expect(script.startsWith(`${service}/dist/`)).toBe(true);
      const source = script.replace('/dist/', '/src/').replace(/\.js$/, '.ts');
      expect(existsSync(repoPath(source)), source).toBe(true);
      if (pkg.bin) expect(Object.values(pkg.bin).map((b) => `${service}/${b.replace(/^\.\//, '')}`)).toContain(script);
    });
  });
}

describe('what `npm ci --omit=dev -w <service>` installs (from package-lock.json)', () => {
  const lock = repoPath('package-lock.json');

  it('the workspaces installed are exactly the ones each image copies', () => {
    for (const { service } of SERVICES) {
      const installed = [...productionClosure(lock, service)].filter((l) => !l.startsWith('node_modules/'));
      expect(installed.sort(), service).toEqual([...workspaceClosure(service)].sort());
    }
  });

  it('the inference image gets no training code and none of its dependencies', () => {
    const installed = productionClosure(lock, 'services/inference');
    const trainerOnly = [...productionClosure(lock, 'services/trainer')].filter((l) => !installed.has(l));
    // pg is shared since the prediction log (libs/prediction-log) writes from inference; the training code is not.
    for (const location of [
      'libs/learn',
      'libs/clicklog',
      'node_modules/pg-query-stream',
      'node_modules/@kubernetes/client-node',
    ]) {
      expect(installed.has(location), location).toBe(false);
      expect(trainerOnly, location).toContain(location);
    }
  });
});

describe('image ↔ manifests and service', () => {
  const inference = readDockerfile(repoPath('Dockerfile.inference'));
  const final = last(inference);

  it('the inference image exposes the service’s port and health-checks a route it serves', async () => {
    const port = InferenceEnvSchema.shape.PORT.parse(undefined);
    expect(instructionsOf(final, 'EXPOSE').map((e) => e.args)).toEqual([String(port)]);
    const healthcheck = last(instructionsOf(final, 'HEALTHCHECK')).args;
    const command = execForm(healthcheck.slice(healthcheck.indexOf('CMD') + 3).trim());
    expect(command?.[0]).toBe('node');
    const path = /\/[a-z]+(?=')/.exec(command?.join(' ') ?? '')?.[0] ?? '';
    const app = await buildApp({ holder: createModelHolder(), docs: false });
    try {
      expect(app.hasRoute({ method: 'GET', url: path }), path).toBe(true);
      // Liveness, not readiness: a container loading its model is healthy.
      expect((await app.inject({ method: 'GET', url: path })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('the trainer image has no health check (batch job / scheduler without a port)', () => {
    const trainer = last(readDockerfile(repoPath('Dockerfile.trainer')));
    expect(instructionsOf(trainer, 'HEALTHCHECK').map((h) => h.args)).toEqual(['NONE']);
    expect(instructionsOf(trainer, 'EXPOSE')).toEqual([]);
  });

  it('the Kubernetes pods run as the images’ users', () => {
    const base = renderBase();
    const uid = (file: string) =>
      Number(last(instructionsOf(last(readDockerfile(repoPath(file))), 'USER')).args.split(':')[0]);
    expect(inferenceDeployment(base).spec?.template.spec?.securityContext?.runAsUser).toBe(uid('Dockerfile.inference'));
    expect(trainerCronJob(base).spec?.jobTemplate.spec?.template.spec?.securityContext?.runAsUser).toBe(
      uid('Dockerfile.trainer'),
    );
    const mlflow = find<IDeployment>(renderOverlay(), 'Deployment', 'mlflow');
    expect(mlflow.spec?.template.spec?.securityContext?.runAsUser).toBe(uid('docker/mlflow/Dockerfile'));
  });

  it('the MLflow image is a pinned Python slim image serving on 5000 as a non-root user', () => {
    const stages = readDockerfile(repoPath('docker/mlflow/Dockerfile'));
    expect(stages.map((s) => s.image)).toEqual([expect.stringMatching(/^python:3\.11\.\d+-slim-bookworm$/)]);
    const stage = last(stages);
    expect(instructionsOf(stage, 'EXPOSE').map((e) => e.args)).toEqual(['5000']);
    expect(execForm(last(instructionsOf(stage, 'ENTRYPOINT')).args)).toEqual(['mlflow', 'server']);
    expect(instructionsOf(stage, 'STOPSIGNAL').map((i) => i.args)).toEqual(['SIGTERM']);
  });
});

describe('.dockerignore', () => {
  const ignored = dockerignoreMatcher(readFileSync(repoPath('.dockerignore'), 'utf8'));

  it('keeps every file the Dockerfiles copy from the build context', () => {
    for (const { dockerfile } of SERVICES) {
      for (const stage of readDockerfile(repoPath(dockerfile))) {
        for (const c of copies(stage).filter((x) => x.from === undefined)) {
          for (const source of c.sources) {
            expect(existsSync(repoPath(source)), `${dockerfile}:${c.line} ${source} exists`).toBe(true);
            expect(ignored(source), `${dockerfile}:${c.line} ${source} is not ignored`).toBe(false);
          }
        }
      }
    }
    expect(ignored('libs/model/src/featurizer.ts')).toBe(false);
  });

  it('keeps local state, tests, build output and credentials out of the images', () => {
    for (const path of [
      'node_modules/zod/package.json',
      'libs/model/node_modules/x/index.js',
      'libs/model/dist/index.js',
      'libs/model/test/featurizer.test.ts',
      'services/inference/test/app.test.ts',
      '.git/HEAD',
      '.data/pg/postgresql.conf',
      '.venv/bin/python',
      '.env',
      '.env.local',
      'k8s/base/kustomization.yaml',
      'services/trainer/dist/.tsbuildinfo',
    ]) {
      expect(ignored(path), path).toBe(true);
    }
  });
});
