import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createNamespace,
  deleteNamespace,
  INFERENCE_DEPLOYMENT,
  kubectl,
  namespaceWithBase,
  type ServiceAccountIdentity,
  TRAINER_SERVICE_ACCOUNT,
} from '../../../test/cluster/cluster.js';

let namespace = '';
let elsewhere = '';
let trainer: ServiceAccountIdentity;
const annotate = (value: string) =>
  JSON.stringify({ spec: { template: { metadata: { annotations: { 'fallback-ctr.io/model-version': value } } } } });

describe("the trainer's ServiceAccount (k8s/base Role): get and patch of the one Deployment, nothing else", () => {
  beforeAll(async () => {
    elsewhere = createNamespace('rbac-other');
    ({ namespace, trainer } = await namespaceWithBase('rbac'));
  });
  afterAll(() => {
    if (namespace) deleteNamespace(namespace);
    if (elsewhere) deleteNamespace(elsewhere);
  });

  const asTrainer = (args: string[]) => kubectl(args, { kubeconfig: trainer.file });

  it('may get and patch the inference Deployment', () => {
    expect(asTrainer(['-n', namespace, 'get', 'deployment', INFERENCE_DEPLOYMENT, '-o', 'name'])).toMatchObject({
      status: 0,
      stdout: `deployment.apps/${INFERENCE_DEPLOYMENT}\n`,
    });
    const patched = asTrainer(['-n', namespace, 'patch', 'deployment', INFERENCE_DEPLOYMENT, '-p', annotate('rbac')]);
    expect(patched.stderr).toBe('');
    expect(patched.status).toBe(0);
  });

  it.each([
    ['list Deployments', ['get', 'deployments']],
    [
      'watch its Deployment (what kubectl rollout status does)',
      ['rollout', 'status', `deployment/${INFERENCE_DEPLOYMENT}`, '--timeout=5s'],
    ],
    ['get another Deployment', ['get', 'deployment', 'some-other-deployment']],
    ['patch another Deployment', ['patch', 'deployment', 'some-other-deployment', '-p', annotate('x')]],
    ['delete its Deployment', ['delete', 'deployment', INFERENCE_DEPLOYMENT, '--wait=false']],
    ['scale its Deployment', ['scale', 'deployment', INFERENCE_DEPLOYMENT, '--replicas=5']],
    ['create a Deployment', ['create', 'deployment', 'intruder', '--image=busybox']],
    ['read pods', ['get', 'pods']],
    ['read Secrets', ['get', 'secrets']],
    ['read ConfigMaps', ['get', 'configmap', 'fallback-ctr-mlflow']],
    ['create a Job from its CronJob', ['create', 'job', '--from=cronjob/fallback-ctr-trainer', 'x']],
  ])('may not %s', (_what, args) => {
    const run = asTrainer(['-n', namespace, ...args]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(
      new RegExp(`forbidden: User "system:serviceaccount:${namespace}:${TRAINER_SERVICE_ACCOUNT}" cannot`),
    );
  });

  it('may not touch the same Deployment name in another namespace', () => {
    for (const args of [
      ['get', 'deployment', INFERENCE_DEPLOYMENT],
      ['patch', 'deployment', INFERENCE_DEPLOYMENT, '-p', annotate('x')],
    ]) {
      const run = asTrainer(['-n', elsewhere, ...args]);
      expect(run.status).not.toBe(0);
      expect(run.stderr).toMatch(/forbidden/);
    }
  });
});
