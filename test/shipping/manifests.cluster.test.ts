import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createNamespace,
  deleteNamespace,
  kubectl,
  namespacedKustomization,
  removeKustomization,
} from '../cluster/cluster.js';

const restricted = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/audit': 'restricted',
};
let namespace = '';
const folders: string[] = [];

/** The kustomization of `dir` in the test namespace, plus JSON patches of the inference Deployment. */
function kustomization(dir: string, patches: object[] = []): string {
  const folder = namespacedKustomization(dir, namespace);
  folders.push(folder);
  if (patches.length > 0) {
    writeFileSync(join(folder, 'patch.json'), JSON.stringify(patches));
    writeFileSync(
      join(folder, 'kustomization.yaml'),
      `${readFileSync(join(folder, 'kustomization.yaml'), 'utf8')}patches:\n  - path: patch.json\n    target: { kind: Deployment, name: fallback-ctr-inference }\n`,
    );
  }
  return folder;
}

const dryRun = (folder: string) => kubectl(['apply', '-k', folder, '--dry-run=server', '--validate=strict']);

describe('k8s/ manifests against a real API server (server-side dry run, strict fields, restricted pods)', () => {
  beforeAll(() => {
    namespace = createNamespace('manifests', restricted);
  });
  afterAll(() => {
    for (const folder of folders) removeKustomization(folder);
    if (namespace) deleteNamespace(namespace);
  });

  it.each(['k8s/base', 'k8s/overlays/with-mlflow'])('%s: accepted, no warnings, in a restricted namespace', (dir) => {
    const run = dryRun(kustomization(dir));
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/deployment.apps\/fallback-ctr-inference created \(server dry run\)/);
    for (const cronJob of ['fallback-ctr-trainer', 'fallback-ctr-monitor', 'fallback-ctr-promote-challenger']) {
      expect(run.stdout).toContain(`cronjob.batch/${cronJob} created (server dry run)`);
    }
  });

  it('strict validation refuses an unknown field (the check has teeth)', () => {
    const run = dryRun(
      kustomization('k8s/base', [
        { op: 'add', path: '/spec/template/spec/containers/0/imagePullPolicyy', value: 'Never' },
      ]),
    );
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/unknown field "spec.template.spec.containers\[0\].imagePullPolicyy"/);
  });

  it('the restricted profile warns about a container that may escalate privileges (the check has teeth)', () => {
    const run = dryRun(
      kustomization('k8s/base', [
        {
          op: 'replace',
          path: '/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation',
          value: true,
        },
      ]),
    );
    expect(run.stderr).toMatch(/would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false/);
  });
});
