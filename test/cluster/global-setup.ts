import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const clusterScript = fileURLToPath(new URL('../../scripts/cluster.sh', import.meta.url));

/**
 * Brings up the local control plane of scripts/cluster.sh for the "cluster" project (builds it
 * first when its binaries are not cached) and hands the admin kubeconfig to the tests as
 * FALLBACK_CTR_KUBECONFIG, and its kubectl on PATH when it built one. A cluster this set-up
 * started is stopped again at the end; one that was already running is left running.
 */
export default function setup(project: TestProject): () => void {
  const wasRunning = spawnSync('bash', [clusterScript, 'running']).status === 0;
  if (!wasRunning) execFileSync('bash', [clusterScript, 'up'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const exports = execFileSync('bash', [clusterScript, 'env'], { encoding: 'utf8' });
  const match = /^export KUBECONFIG=(.*)$/m.exec(exports);
  if (!match?.[1]) throw new Error(`scripts/cluster.sh env printed no KUBECONFIG: ${exports}`);
  process.env.FALLBACK_CTR_KUBECONFIG = match[1];
  project.provide('FALLBACK_CTR_KUBECONFIG' as never, match[1] as never);
  // Where no kubectl is installed, the script built one: the tests' kubectl calls find it on PATH.
  const kubectlDir = /^export PATH=(.*):\$PATH$/m.exec(exports)?.[1];
  if (kubectlDir) process.env.PATH = `${kubectlDir}:${process.env.PATH ?? ''}`;
  return () => {
    if (!wasRunning) execFileSync('bash', [clusterScript, 'down'], { stdio: ['ignore', 'inherit', 'inherit'] });
  };
}
