import { buildApp, createModelHolder, InferenceEnvSchema } from '@fallback-ctr/inference';
import { MlflowEnvSchema } from '@fallback-ctr/mlflow';
import { parseEnv } from '@fallback-ctr/runtime';
import { TrainerEnvSchema } from '@fallback-ctr/trainer';
import type { FastifyInstance } from 'fastify';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { IService } from 'kubernetes-models/v1/Service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLoadedModel } from '../../services/inference/test/fixtures.js';
import { type ResolvedEnv, resolveContainerEnv } from './support/container-env.js';
import type { RenderedObject } from './support/kustomize.js';
import {
  allOfKind,
  envSources,
  find,
  INFERENCE_DEPLOYMENT,
  inferenceDeployment,
  onlyContainer,
  renderBase,
} from './support/manifests.js';
import { requiredEnvNames } from './support/required-env.js';

/** Every variable the inference process reads: its own schema plus libs/mlflow's (client credentials). */
const INFERENCE_ENV_NAMES = new Set([...Object.keys(InferenceEnvSchema.shape), ...Object.keys(MlflowEnvSchema.shape)]);

let rendered: RenderedObject[];
let deployment: IDeployment;
let container: IContainer;
let env: ResolvedEnv;
let app: FastifyInstance;
const holder = createModelHolder();

beforeAll(async () => {
  rendered = renderBase();
  deployment = inferenceDeployment(rendered);
  container = onlyContainer(deployment.spec?.template, 'inference');
  env = resolveContainerEnv(container, envSources(rendered, deployment.metadata?.namespace ?? ''));
  app = await buildApp({ holder, docs: false });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
});

const parsedEnv = () => parseEnv(InferenceEnvSchema, env.values);

/** The container port a probe or Service port refers to (by name or number). */
function containerPort(ref: string | number | undefined): number | undefined {
  const port = (container.ports ?? []).find((p) => p.name === ref || p.containerPort === ref);
  return port?.containerPort;
}

const labelsMatch = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  selector !== undefined &&
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

describe('inference Deployment ↔ the inference service', () => {
  it('sets only variables the service reads, resolves every reference, and the service accepts them', () => {
    expect(env.problems).toEqual([]);
    expect(env.names.filter((n) => !INFERENCE_ENV_NAMES.has(n))).toEqual([]);
    expect(new Set(env.names).size).toBe(env.names.length);
    expect(requiredEnvNames(InferenceEnvSchema)).toEqual(['MLFLOW_TRACKING_URI']);
    for (const name of requiredEnvNames(InferenceEnvSchema)) expect(env.values[name], name).toBeTruthy();
    const config = parsedEnv();
    expect(config.MLFLOW_TRACKING_URI).toBe('http://mlflow:5000');
    expect(config.MODEL_ALIAS).toBe('champion');
    expect(config.WORKERS).toBe(2); // ceil(limits.cpu)
  });

  it('a variable the service does not read is caught', () => {
    const typo = resolveContainerEnv(
      { ...container, env: [...(container.env ?? []), { name: 'MODEL_ALIASES', value: 'x' }] },
      envSources(rendered, 'fallback-ctr'),
    );
    expect(typo.names.filter((n) => !INFERENCE_ENV_NAMES.has(n))).toEqual(['MODEL_ALIASES']);
  });

  it('the container port is the port the service listens on, and the Service reaches it', () => {
    const port = parsedEnv().PORT;
    expect(port).toBe(8080);
    expect(container.ports?.map((p) => p.containerPort)).toEqual([port]);
    const service = find<IService>(rendered, 'Service', INFERENCE_DEPLOYMENT);
    expect(service.spec?.ports).toHaveLength(1);
    expect(containerPort(service.spec?.ports?.[0]?.targetPort)).toBe(port);
    expect(labelsMatch(service.spec?.selector, deployment.spec?.template.metadata?.labels)).toBe(true);
    expect(deployment.spec?.template.metadata?.annotations?.['prometheus.io/port']).toBe(String(port));
  });

  it('probes use routes the app serves: liveness stays up while the model loads, readiness waits for it', async () => {
    const probes = {
      startup: container.startupProbe,
      readiness: container.readinessProbe,
      liveness: container.livenessProbe,
    };
    const paths: Record<string, string | undefined> = {};
    for (const [name, probe] of Object.entries(probes)) {
      expect(probe?.httpGet, `${name} probe`).toBeDefined();
      expect(containerPort(probe?.httpGet?.port), `${name} probe port`).toBe(parsedEnv().PORT);
      const path = probe?.httpGet?.path ?? '';
      expect(app.hasRoute({ method: 'GET', url: path }), `${name} probe path ${path}`).toBe(true);
      paths[name] = path;
    }
    expect(paths).toEqual({ startup: '/readyz', readiness: '/readyz', liveness: '/healthz' });
    // No model loaded yet: alive, not ready.
    expect((await app.inject({ method: 'GET', url: paths.liveness })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: paths.readiness })).statusCode).toBe(503);
    expect(app.hasRoute({ method: 'GET', url: '/no-such-probe' })).toBe(false);
  });

  it('readiness passes once a model is loaded and fails again while draining (so probes can pass at all)', async () => {
    const loaded = createModelHolder();
    const ready = await buildApp({ holder: loaded, docs: false });
    try {
      const path = container.readinessProbe?.httpGet?.path ?? '';
      expect((await ready.inject({ method: 'GET', url: path })).statusCode).toBe(503);
      loaded.set(makeLoadedModel());
      expect((await ready.inject({ method: 'GET', url: path })).statusCode).toBe(200);
      loaded.startDraining();
      expect((await ready.inject({ method: 'GET', url: path })).statusCode).toBe(503);
      expect(
        (await ready.inject({ method: 'GET', url: container.livenessProbe?.httpGet?.path ?? '' })).statusCode,
      ).toBe(200);
    } finally {
      await ready.close();
    }
  });

  it('the startup probe outlasts STARTUP_DEADLINE_SECONDS, so the process gives up first with its own error', () => {
    const probe = container.startupProbe as IProbe;
    const budget = (probe.initialDelaySeconds ?? 0) + (probe.periodSeconds ?? 10) * (probe.failureThreshold ?? 3);
    const deadline = parsedEnv().STARTUP_DEADLINE_SECONDS;
    expect(budget).toBeGreaterThan(deadline);
    expect(budget).toBeLessThan(deadline + 60);
  });

  it('termination grace is longer than drain + in-flight grace', () => {
    const config = parsedEnv();
    const grace = deployment.spec?.template.spec?.terminationGracePeriodSeconds ?? 30;
    // The inference README asks for drain + grace + 2 s (the primary's own exit after its workers).
    expect(grace).toBeGreaterThanOrEqual(config.SHUTDOWN_DRAIN_SECONDS + config.SHUTDOWN_GRACE_SECONDS + 2);
  });

  it('rolls one pod at a time with no capacity loss; replicas belong to the HPA', () => {
    const spec = deployment.spec;
    expect(spec?.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(spec?.replicas).toBeUndefined();
    expect(spec?.progressDeadlineSeconds).toBeGreaterThan(0);
    expect(labelsMatch(spec?.selector.matchLabels, spec?.template.metadata?.labels)).toBe(true);
    const hpa = find<IHorizontalPodAutoscaler>(rendered, 'HorizontalPodAutoscaler', INFERENCE_DEPLOYMENT);
    expect(hpa.spec?.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: INFERENCE_DEPLOYMENT });
    expect(hpa.spec?.minReplicas).toBeGreaterThanOrEqual(3);
    expect(hpa.spec?.maxReplicas).toBeGreaterThan(hpa.spec?.minReplicas ?? 0);
    // The HPA's CPU target needs CPU requests.
    expect(container.resources?.requests?.cpu).toBeDefined();
    expect(container.resources?.limits?.memory).toBeDefined();
  });

  it('the PodDisruptionBudget covers the pods and always leaves most of them serving', () => {
    const pdb = find<IPodDisruptionBudget>(rendered, 'PodDisruptionBudget', INFERENCE_DEPLOYMENT);
    expect(labelsMatch(pdb.spec?.selector?.matchLabels, deployment.spec?.template.metadata?.labels)).toBe(true);
    const hpa = find<IHorizontalPodAutoscaler>(rendered, 'HorizontalPodAutoscaler', INFERENCE_DEPLOYMENT);
    expect(pdb.spec?.maxUnavailable).toBe(1);
    expect(pdb.spec?.minAvailable).toBeUndefined();
    expect(hpa.spec?.minReplicas).toBeGreaterThan(1);
  });

  it('runs as non-root with a read-only root filesystem, no privilege escalation and a writable /tmp', () => {
    const pod = deployment.spec?.template.spec;
    expect(pod?.securityContext?.runAsNonRoot).toBe(true);
    expect(pod?.securityContext?.runAsUser).toBeGreaterThan(0);
    expect(pod?.automountServiceAccountToken).toBe(false);
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
    });
    const tmp = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
    const volume = pod?.volumes?.find((v) => v.name === tmp?.name);
    expect(volume?.emptyDir).toBeDefined();
    expect(tmp?.readOnly).not.toBe(true);
  });

  it('leaves the model-version annotation to the trainer (a re-apply must not undo a rollout)', () => {
    const key = TrainerEnvSchema.shape.K8S_ANNOTATION_KEY.parse(undefined);
    expect(key).toBe('fallback-ctr.io/model-version');
    expect(Object.keys(deployment.spec?.template.metadata?.annotations ?? {})).not.toContain(key);
  });

  it('the NetworkPolicy admits only the ad server and Prometheus, on the serving port', () => {
    const policies = allOfKind<INetworkPolicy>(rendered, 'NetworkPolicy');
    expect(policies).toHaveLength(1);
    const policy = policies[0]!;
    expect(labelsMatch(policy.spec?.podSelector.matchLabels, deployment.spec?.template.metadata?.labels)).toBe(true);
    expect(policy.spec?.policyTypes).toEqual(['Ingress']);
    const rules = policy.spec?.ingress ?? [];
    expect(rules).toHaveLength(1);
    const rule = rules[0]!;
    // A rule without `from` (or with an empty peer) would admit everyone.
    expect(rule.from?.length).toBe(2);
    for (const peer of rule.from ?? []) {
      expect(Object.keys(peer.podSelector?.matchLabels ?? {}).length).toBeGreaterThan(0);
      expect(peer.ipBlock).toBeUndefined();
    }
    expect(rule.from?.map((p) => p.podSelector?.matchLabels?.['app.kubernetes.io/name'])).toEqual([
      'ad-server',
      'prometheus',
    ]);
    expect(rule.ports?.map((p) => containerPort(p.port))).toEqual([parsedEnv().PORT]);
  });
});
