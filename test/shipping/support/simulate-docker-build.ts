// Runs a Dockerfile's stages without Docker, for machines that have none: each stage gets a
// folder standing for its /app, COPY copies from the build context (honouring .dockerignore) or an
// earlier stage, RUN runs in that folder (npm ci with --prefer-offline). Then it starts the final
// stage's ENTRYPOINT + CMD with the image's ENV and prints the exit code. Not a container: the
// host's Node and OS, no USER switch. Needs the npm registry (or a warm cache); a few minutes.
//   npx tsx test/shipping/support/simulate-docker-build.ts Dockerfile.inference [/tmp/fctr-image]
import { execSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { copies, dockerignoreMatcher, execForm, readDockerfile, type Stage } from './dockerfile.js';
import { REPO_ROOT } from './paths.js';

const WORKDIR = '/app';

function stageDir(root: string, stages: readonly Stage[], ref: string): string {
  const index = stages.findIndex((s) => s.name === ref);
  if (index < 0) throw new Error(`COPY --from=${ref}: no such stage`);
  return join(root, ref, 'app');
}

function main(): void {
  const [dockerfile, rootArg] = process.argv.slice(2);
  if (!dockerfile) throw new Error('usage: simulate-docker-build.ts <Dockerfile> [work folder]');
  const root = rootArg ?? join('/tmp', `fctr-image-${basename(dockerfile).toLowerCase()}`);
  rmSync(root, { recursive: true, force: true });
  const ignored = dockerignoreMatcher(readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8'));
  const stages = readDockerfile(join(REPO_ROOT, dockerfile));
  let finalEnv: Record<string, string> = {};
  let finalDir = '';
  stages.forEach((stage, i) => {
    const label = stage.name ?? `stage${i}`;
    const dir = join(root, label, 'app');
    mkdirSync(dir, { recursive: true });
    const env: Record<string, string> = {};
    for (const instruction of stage.instructions) {
      if (instruction.keyword === 'WORKDIR' && instruction.args !== WORKDIR) {
        throw new Error(`line ${instruction.line}: only WORKDIR ${WORKDIR} is simulated`);
      } else if (instruction.keyword === 'ENV') {
        for (const pair of instruction.args.split(/\s+/)) {
          const eq = pair.indexOf('=');
          if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
        }
      } else if (instruction.keyword === 'COPY') {
        for (const copy of copies({ ...stage, instructions: [instruction] })) {
          for (const source of copy.sources) {
            const from = copy.from
              ? join(stageDir(root, stages, copy.from), source.replace(/^\/app\//, ''))
              : join(REPO_ROOT, source);
            if (!copy.from && ignored(source)) throw new Error(`line ${copy.line}: ${source} is in .dockerignore`);
            const target = join(dir, copy.destination);
            const intoFolder = copy.destination.endsWith('/') || copy.destination === './';
            const dest = statSync(from).isDirectory() || !intoFolder ? target : join(target, basename(source));
            mkdirSync(dirname(dest), { recursive: true });
            cpSync(from, dest, {
              recursive: true,
              verbatimSymlinks: true,
              filter: (path) => copy.from !== undefined || !ignored(path.slice(REPO_ROOT.length + 1)),
            });
          }
        }
      } else if (instruction.keyword === 'RUN') {
        const command = instruction.args.replace(/\bnpm ci\b/g, 'npm ci --prefer-offline --no-audit --no-fund');
        console.log(`[${label}] RUN ${command}`);
        execSync(command, { cwd: dir, stdio: 'inherit', env: { ...process.env, ...env } });
      }
    }
    finalEnv = env;
    finalDir = dir;
    console.log(`[${label}] done`);
  });
  const final = stages[stages.length - 1];
  const entrypoint = execForm(final?.instructions.findLast((i) => i.keyword === 'ENTRYPOINT')?.args ?? '') ?? [];
  const cmd = execForm(final?.instructions.findLast((i) => i.keyword === 'CMD')?.args ?? '') ?? [];
  const [program, ...args] = [...entrypoint, ...cmd];
  if (!program) return;
  console.log(`[final] ${[program, ...args].join(' ')} (no service configuration given)`);
  const run = spawnSync(program, args, {
    cwd: finalDir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...finalEnv },
    timeout: 60_000,
  });
  console.log(`${run.stdout}${run.stderr}`.trim().split('\n').slice(0, 8).join('\n'));
  console.log(`[final] exit code ${run.status} (2 = configuration error: the code loaded; 0 = help printed)`);
}

main();
