import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const servicesScript = fileURLToPath(new URL('../scripts/services.sh', import.meta.url));

/**
 * Brings up the real PostgreSQL and MLflow (idempotent, reuses healthy ones) before any test runs,
 * and hands their addresses to the tests through the environment.
 */
export default function setup(project: TestProject): void {
  execFileSync('bash', [servicesScript, 'up'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const exports = execFileSync('bash', [servicesScript, 'env'], { encoding: 'utf8' });
  for (const line of exports.split('\n')) {
    const match = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] && match[2] !== undefined) {
      process.env[match[1]] = match[2];
      project.provide(match[1] as never, match[2] as never);
    }
  }
}
