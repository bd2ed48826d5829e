import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IService } from 'kubernetes-models/v1/Service';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ComposeService, type ResolvedCompose, resolvedCompose, serviceEnv } from './support/compose.js';
import { resolveContainerEnv } from './support/container-env.js';
import type { RenderedObject } from './support/kustomize.js';
import { allOfKind, envSources, find, inferenceDeployment, onlyContainer, renderOverlay } from './support/manifests.js';
import { repoPath } from './support/paths.js';

/**
 * The MLflow server settings, in compose and in the Kubernetes overlay, are parsed by MLflow's
 * own `mlflow server` command definition (the pinned MLflow in the project venv), and the Host
 * headers our clients send are checked with MLflow's own --allowed-hosts matcher.
 */
interface ServerCase {
  args: string[];
  env: Record<string, string>;
  hosts: string[];
}
interface ServerResult {
  params?: Record<string, string | number | boolean | null>;
  allowed?: Record<string, boolean>;
  error?: string;
}

const PYTHON = process.env.FALLBACK_CTR_PYTHON ?? repoPath('.venv/bin/python');

function checkServers(cases: ServerCase[]): ServerResult[] {
  const run = spawnSync(PYTHON, [repoPath('test/shipping/support/mlflow-server-check.py')], {
    input: JSON.stringify(cases),
    encoding: 'utf8',
    timeout: 540_000,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
  });
  if (run.status !== 0) throw new Error(`mlflow-server-check.py failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as ServerResult[];
}

/** The Host header a client sends for a URL (port omitted when it is the scheme's default). */
const hostHeader = (url: string) => new URL(url).host;

let overlay: RenderedObject[];
let compose: ResolvedCompose;
let k8sMlflow: IContainer;
let k8sEnv: Record<string, string>;
let composeMlflow: ComposeService;
let results: ServerResult[];

const K8S_TRACKING_URI = () =>
  find<{ data: Record<string, string> }>(overlay, 'ConfigMap', 'fallback-ctr-mlflow').data.MLFLOW_TRACKING_URI ?? '';
const COMPOSE_TRACKING_URIS = () =>
  ['trainer', 'inference'].map((s) => serviceEnv(compose.services[s] ?? {}).MLFLOW_TRACKING_URI ?? '');

beforeAll(() => {
  overlay = renderOverlay();
  compose = resolvedCompose();
  const deployment = find<IDeployment>(overlay, 'Deployment', 'mlflow');
  k8sMlflow = onlyContainer(deployment.spec?.template, 'mlflow');
  const resolved = resolveContainerEnv(k8sMlflow, envSources(overlay, 'fallback-ctr'));
  if (resolved.problems.length > 0) throw new Error(resolved.problems.join('; '));
  k8sEnv = resolved.values;
  composeMlflow = compose.services.mlflow ?? {};
  results = checkServers([
    { args: k8sMlflow.args ?? [], env: k8sEnv, hosts: [hostHeader(K8S_TRACKING_URI()), 'evil.example.com:5000'] },
    {
      args: composeMlflow.command ?? [],
      env: serviceEnv(composeMlflow),
      hosts: [...COMPOSE_TRACKING_URIS().map(hostHeader), 'localhost:5000', '127.0.0.1:47432', 'evil.example.com:5000'],
    },
    { args: ['--serve-artifactz'], env: {}, hosts: [] },
  ]);
});

describe('MLflow server settings (parsed by MLflow 3.17.2 itself)', () => {
  it('a misspelt option is rejected by the same parser', () => {
    expect(results[2]?.error).toMatch(/No such option/);
  });

  for (const [where, index] of [
    ['Kubernetes overlay', 0],
    ['docker-compose', 1],
  ] as const) {
    it(`${where}: PostgreSQL backend, artifacts served through the server, listening on all interfaces`, () => {
      const r = results[index];
      expect(r?.error).toBeUndefined();
      expect(String(r?.params?.backend_store_uri)).toMatch(/^postgresql\+psycopg2:\/\/[^@]+@[^/]+\/mlflow$/);
      expect(r?.params?.serve_artifacts).toBe(true);
      expect(r?.params?.artifacts_only).toBe(false);
      expect(r?.params?.artifacts_destination).toBe('/mlflow/artifacts');
      expect(r?.params?.host).toBe('0.0.0.0');
      expect(r?.params?.port).toBe(5000);
    });

    it(`${where}: --allowed-hosts admits the Host header our clients send, and not others`, () => {
      const allowed = results[index]?.allowed ?? {};
      expect(Object.keys(allowed).length).toBeGreaterThan(1);
      for (const [host, ok] of Object.entries(allowed)) expect(ok, host).toBe(!host.startsWith('evil.'));
    });
  }

  it('Kubernetes: the tracking URI names the MLflow Service and its port, which reaches the server port', () => {
    const url = new URL(K8S_TRACKING_URI());
    const service = find<IService>(overlay, 'Service', url.hostname);
    const port = service.spec?.ports?.find((p) => p.port === Number(url.port));
    expect(port).toBeDefined();
    const target = k8sMlflow.ports?.find((p) => p.name === port?.targetPort || p.containerPort === port?.targetPort);
    expect(target?.containerPort).toBe(results[0]?.params?.port);
    const deployment = find<IDeployment>(overlay, 'Deployment', 'mlflow');
    expect(
      Object.entries(service.spec?.selector ?? {}).every(
        ([k, v]) => deployment.spec?.template.metadata?.labels?.[k] === v,
      ),
    ).toBe(true);
  });

  it('Kubernetes: the backend URI comes from a Secret (not the command line), artifacts live on the volume', () => {
    const variable = k8sMlflow.env?.find((e) => e.name === 'MLFLOW_BACKEND_STORE_URI');
    expect(variable?.valueFrom?.secretKeyRef?.name).toBe('mlflow-backend');
    expect(JSON.stringify(k8sMlflow.args)).not.toContain('postgresql');
    const mount = k8sMlflow.volumeMounts?.find((m) => m.mountPath === results[0]?.params?.artifacts_destination);
    const pod = find<IDeployment>(overlay, 'Deployment', 'mlflow').spec?.template.spec;
    const claim = pod?.volumes?.find((v) => v.name === mount?.name)?.persistentVolumeClaim?.claimName;
    find(overlay, 'PersistentVolumeClaim', claim ?? '');
    // One ReadWriteOnce volume: never two pods at once.
    expect(find<IDeployment>(overlay, 'Deployment', 'mlflow').spec?.strategy?.type).toBe('Recreate');
  });

  it('Kubernetes: the NetworkPolicy admits exactly the trainer and inference pods, on the server port', () => {
    const policy = find<INetworkPolicy>(overlay, 'NetworkPolicy', 'mlflow');
    const deployment = find<IDeployment>(overlay, 'Deployment', 'mlflow');
    const selects = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
      Object.keys(selector ?? {}).length > 0 && Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
    expect(selects(policy.spec?.podSelector.matchLabels, deployment.spec?.template.metadata?.labels)).toBe(true);
    expect(policy.spec?.policyTypes).toEqual(['Ingress']);
    const rules = policy.spec?.ingress ?? [];
    expect(rules).toHaveLength(1);
    const peers = rules[0]?.from ?? [];
    // The inference pods, and the pods of every CronJob of the trainer image (run, monitor, promote-challenger).
    const clients = [
      inferenceDeployment(overlay).spec?.template,
      ...allOfKind<ICronJob>(overlay, 'CronJob').map((c) => c.spec?.jobTemplate.spec?.template),
    ];
    expect(clients).toHaveLength(4);
    expect(peers).toHaveLength(2);
    for (const peer of peers) expect(peer.namespaceSelector).toBeUndefined(); // same namespace only
    for (const client of clients) {
      expect(peers.some((p) => selects(p.podSelector?.matchLabels, client?.metadata?.labels))).toBe(true);
    }
    // One peer per component; none selects the MLflow pods.
    const component = (c: (typeof clients)[number]) => c?.metadata?.labels?.['app.kubernetes.io/component'];
    for (const peer of peers) {
      const matching = clients.filter((c) => selects(peer.podSelector?.matchLabels, c?.metadata?.labels));
      expect(new Set(matching.map(component)).size).toBe(1);
      expect(selects(peer.podSelector?.matchLabels, deployment.spec?.template.metadata?.labels)).toBe(false);
    }
    const port = rules[0]?.ports?.[0]?.port;
    const target = k8sMlflow.ports?.find((p) => p.name === port || p.containerPort === port);
    expect(target?.containerPort).toBe(results[0]?.params?.port);
  });

  it('Kubernetes: probes use /health, which MLflow exempts from the Host check', () => {
    for (const probe of [k8sMlflow.startupProbe, k8sMlflow.readinessProbe, k8sMlflow.livenessProbe]) {
      expect(probe?.httpGet?.path).toBe('/health');
    }
  });

  it('compose: trainer and inference reach MLflow by its service name and port', () => {
    for (const uri of COMPOSE_TRACKING_URIS()) {
      const url = new URL(uri);
      expect(url.hostname).toBe('mlflow');
      expect(Number(url.port)).toBe(results[1]?.params?.port);
    }
  });

  it('the MLflow image pins the same MLflow and driver as the project venv', () => {
    const pins = (file: string) =>
      Object.fromEntries(
        readFileSync(repoPath(file), 'utf8')
          .split('\n')
          .map((l) => /^([A-Za-z0-9_.-]+)(\[[^\]]*\])?==(\S+)/.exec(l.trim()))
          .filter((m): m is RegExpExecArray => m !== null)
          .map((m) => [m[1]?.toLowerCase(), m[3]]),
      );
    const image = pins('docker/mlflow/requirements.txt');
    const venv = pins('scripts/requirements.txt');
    expect(Object.keys(image).sort()).toEqual(['mlflow', 'psycopg2-binary']);
    for (const [name, version] of Object.entries(image)) expect(version, name).toBe(venv[name]);
    expect(compose.services.mlflow?.image).toBe(`fallback-ctr/mlflow:${image.mlflow}`);
    const deployment = find<IDeployment>(overlay, 'Deployment', 'mlflow');
    expect(onlyContainer(deployment.spec?.template, 'mlflow').image).toBe(`fallback-ctr/mlflow:${image.mlflow}`);
  });
});
