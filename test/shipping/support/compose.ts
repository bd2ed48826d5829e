import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { z } from 'zod';
import { REPO_ROOT } from './paths.js';

export interface ComposeRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs Debian's docker-compose (v1, no engine needed) with a clean environment, so variables
 * set on the developer's machine cannot change what the file resolves to.
 */
export function dockerCompose(args: readonly string[], cwd = REPO_ROOT): ComposeRun {
  const result = spawnSync('docker-compose', [...args], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
    timeout: 60_000,
  });
  if (result.error) {
    throw new Error(
      `docker-compose could not run (${result.error.message}); .ci/run installs it: apt-get install docker-compose`,
    );
  }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const Command = z.array(z.string());
const ServiceSchema = z.looseObject({
  image: z.string().optional(),
  build: z.looseObject({ context: z.string(), dockerfile: z.string().optional() }).optional(),
  command: Command.optional(),
  entrypoint: Command.optional(),
  environment: z.record(z.string(), z.string().nullable()).optional(),
  depends_on: z.record(z.string(), z.object({ condition: z.string() })).optional(),
  healthcheck: z.looseObject({ test: Command }).optional(),
  ports: z.array(z.string()).optional(),
  volumes: z.array(z.string()).optional(),
  read_only: z.boolean().optional(),
  user: z.string().optional(),
});
export type ComposeService = z.infer<typeof ServiceSchema>;

const ResolvedSchema = z.looseObject({ services: z.record(z.string(), ServiceSchema) });
export type ResolvedCompose = z.infer<typeof ResolvedSchema>;

/** docker-compose.yml as compose resolves it: variables substituted, anchors merged, paths absolute. */
export function resolvedCompose(): ResolvedCompose {
  const run = dockerCompose(['-f', 'docker-compose.yml', 'config']);
  if (run.status !== 0) throw new Error(`docker-compose config failed: ${run.stderr}`);
  return ResolvedSchema.parse(parse(run.stdout));
}

/** The environment of a service with every value present (compose writes unset ones as null). */
export function serviceEnv(service: ComposeService): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(service.environment ?? {})) if (v !== null) out[k] = v;
  return out;
}
