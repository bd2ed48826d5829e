import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll } from 'vitest';
import { setUpVariable } from '../support/set-up-env.js';

/**
 * Helpers for tests against the real local control plane of scripts/cluster.sh (started by
 * test/cluster/global-setup.ts, which exports the admin kubeconfig as FALLBACK_CTR_KUBECONFIG).
 */

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const INFERENCE_DEPLOYMENT = 'fallback-ctr-inference';
export const TRAINER_SERVICE_ACCOUNT = 'fallback-ctr-trainer';
export const ANNOTATION_KEY = 'fallback-ctr.io/model-version';

export function adminKubeconfig(): string {
  return setUpVariable('FALLBACK_CTR_KUBECONFIG', 'project "cluster"');
}

export interface KubectlResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** kubectl as the cluster admin, or as whoever `kubeconfig` names. */
export function kubectl(args: string[], options: { kubeconfig?: string; input?: string } = {}): KubectlResult {
  const run: SpawnSyncReturns<string> = spawnSync(
    'kubectl',
    ['--kubeconfig', options.kubeconfig ?? adminKubeconfig(), ...args],
    {
      encoding: 'utf8',
      input: options.input,
      timeout: 120_000,
    },
  );
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** kubectl that must succeed; returns stdout. */
export function kubectlOk(args: string[], options: { kubeconfig?: string; input?: string } = {}): string {
  const run = kubectl(args, options);
  if (run.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${run.status}): ${run.stderr}`);
  return run.stdout;
}

/** Sets the inference Deployment's spec.progressDeadlineSeconds (the controller's "give up" point). */
export function setProgressDeadline(namespace: string, seconds: number): void {
  kubectlOk([
    '-n',
    namespace,
    'patch',
    'deployment',
    INFERENCE_DEPLOYMENT,
    '-p',
    JSON.stringify({ spec: { progressDeadlineSeconds: seconds } }),
  ]);
}

/**
 * For the enclosing describe: a pod quota of `pods` (the replicas), which leaves no room for a surge
 * pod, so a rollout cannot progress; afterwards the quota is removed and the progress deadline put
 * back to 600 s.
 */
export function useNoSurgeQuota(namespace: () => string, pods = 3): void {
  beforeAll(() => {
    kubectlOk(['-n', namespace(), 'create', 'quota', 'no-surge', `--hard=pods=${pods}`]);
  });
  afterAll(() => {
    kubectlOk(['-n', namespace(), 'delete', 'quota', 'no-surge']);
    setProgressDeadline(namespace(), 600);
  });
}

export function kubectlJson<T>(args: string[], options: { kubeconfig?: string } = {}): T {
  return JSON.parse(kubectlOk([...args, '-o', 'json'], options)) as T;
}

/** A fresh namespace (labels e.g. for pod security); delete it with deleteNamespace. */
export function createNamespace(prefix: string, labels: Record<string, string> = {}): string {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  const labelLines = Object.entries(labels).map(([k, v]) => `    ${k}: "${v}"`);
  kubectlOk(['apply', '-f', '-'], {
    input: ['apiVersion: v1', 'kind: Namespace', 'metadata:', `  name: ${name}`, '  labels:', ...labelLines, ''].join(
      '\n',
    ),
  });
  return name;
}

export function deleteNamespace(name: string): void {
  kubectl(['delete', 'namespace', name, '--wait=false', '--ignore-not-found']);
}

/**
 * A kustomization that puts `dir` (e.g. k8s/base) into `namespace`: the manifests as a user
 * applies them, only in a test's own namespace. Returns its folder (inside the repository, so
 * kustomize's load restrictions see a relative base).
 */
export function namespacedKustomization(dir: string, namespace: string): string {
  const parent = join(REPO_ROOT, '.data', 'cluster-tests');
  mkdirSync(parent, { recursive: true });
  const folder = mkdtempSync(join(parent, `${namespace}-`));
  writeFileSync(
    join(folder, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      `namespace: ${namespace}`,
      'resources:',
      `  - ${relative(folder, join(REPO_ROOT, dir))}`,
      '',
    ].join('\n'),
  );
  return folder;
}

export function removeKustomization(folder: string): void {
  rmSync(folder, { recursive: true, force: true });
}

/** Waits for a condition (never for a fixed time); fails with what it last saw. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 120_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

interface ClusterInfo {
  server: string;
  caData: string;
}

function clusterInfo(): ClusterInfo {
  const kc = new KubeConfig();
  kc.loadFromFile(adminKubeconfig());
  const cluster = kc.getCurrentCluster();
  if (!cluster?.caFile) throw new Error('the admin kubeconfig names no certificate authority file');
  return { server: cluster.server, caData: readFileSync(cluster.caFile).toString('base64') };
}

export interface ServiceAccountIdentity {
  /** A client as that ServiceAccount (bearer token from the TokenRequest API), namespace set. */
  kubeConfig(): KubeConfig;
  /** The same identity as a kubeconfig file, for kubectl. */
  file: string;
  token: string;
}

/** Signs in as a ServiceAccount of the namespace, as its pod would (a short-lived bound token). */
export function serviceAccountIdentity(namespace: string, serviceAccount: string): ServiceAccountIdentity {
  const token = kubectlOk(['-n', namespace, 'create', 'token', serviceAccount, '--duration', '1h']).trim();
  const { server, caData } = clusterInfo();
  const options = {
    clusters: [{ name: 'local', server, caData }],
    users: [{ name: serviceAccount, token }],
    contexts: [{ name: 'local', cluster: 'local', user: serviceAccount, namespace }],
    currentContext: 'local',
  };
  const dir = mkdtempSync(join(REPO_ROOT, '.data', 'cluster-tests', `sa-${namespace}-`));
  const file = join(dir, 'kubeconfig');
  const kc = new KubeConfig();
  kc.loadFromOptions(options);
  writeFileSync(file, kc.exportConfig());
  return {
    token,
    file,
    kubeConfig() {
      const fresh = new KubeConfig();
      fresh.loadFromOptions(options);
      return fresh;
    },
  };
}

export interface DeploymentJson {
  metadata: { generation: number; annotations?: Record<string, string> };
  spec: { replicas?: number; template: { metadata?: { annotations?: Record<string, string> } } };
  status: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string }[];
  };
}

export interface ReplicaSetJson {
  metadata: { name: string; annotations?: Record<string, string>; creationTimestamp: string };
  spec: { replicas?: number; template: { metadata?: { annotations?: Record<string, string> } } };
  status: { replicas?: number; readyReplicas?: number; availableReplicas?: number };
}

export interface PodJson {
  metadata: { name: string; ownerReferences?: { kind: string; name: string }[]; deletionTimestamp?: string };
  status: { phase?: string; conditions?: { type: string; status: string }[] };
}

export function deployment(namespace: string): DeploymentJson {
  return kubectlJson<DeploymentJson>(['-n', namespace, 'get', 'deployment', INFERENCE_DEPLOYMENT]);
}

export function replicaSets(namespace: string): ReplicaSetJson[] {
  return kubectlJson<{ items: ReplicaSetJson[] }>([
    '-n',
    namespace,
    'get',
    'replicasets',
    '-l',
    'app.kubernetes.io/component=inference',
  ]).items;
}

export function pods(namespace: string): PodJson[] {
  return kubectlJson<{ items: PodJson[] }>([
    '-n',
    namespace,
    'get',
    'pods',
    '-l',
    'app.kubernetes.io/component=inference',
  ]).items;
}

export const podReady = (pod: PodJson): boolean =>
  pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** The Deployment fully rolled out at `replicas` ready pods, all of one ReplicaSet. */
export function settled(namespace: string, replicas: number): ReplicaSetJson | undefined {
  const d = deployment(namespace);
  const s = d.status;
  if ((s.observedGeneration ?? 0) < d.metadata.generation) return undefined;
  if (s.replicas !== replicas || s.updatedReplicas !== replicas || s.availableReplicas !== replicas) return undefined;
  const live = pods(namespace).filter((p) => !p.metadata.deletionTimestamp);
  if (live.length !== replicas || !live.every(podReady)) return undefined;
  const owners = new Set(live.map((p) => p.metadata.ownerReferences?.[0]?.name));
  if (owners.size !== 1) return undefined;
  return replicaSets(namespace).find((rs) => owners.has(rs.metadata.name));
}

/** Applies the base manifests into `namespace` and waits for three ready inference pods. */
/**
 * The set-up of the trainer's cluster tests: a namespace of their own with k8s/base applied (three
 * ready inference pods) and the trainer's ServiceAccount identity in it. The namespace is deleted
 * again if the set-up fails; after the tests, deleteNamespace.
 */
export async function namespaceWithBase(
  prefix: string,
): Promise<{ namespace: string; trainer: ServiceAccountIdentity }> {
  const namespace = createNamespace(prefix);
  try {
    await applyBase(namespace);
    return { namespace, trainer: serviceAccountIdentity(namespace, TRAINER_SERVICE_ACCOUNT) };
  } catch (error) {
    deleteNamespace(namespace);
    throw error;
  }
}

export async function applyBase(namespace: string): Promise<void> {
  const folder = namespacedKustomization('k8s/base', namespace);
  try {
    kubectlOk(['apply', '-k', folder]);
  } finally {
    removeKustomization(folder);
  }
  await waitFor(
    'three ready inference pods (the HPA raises replicas to its minimum of 3)',
    () => settled(namespace, 3),
    180_000,
  );
}
