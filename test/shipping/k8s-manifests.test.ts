import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import { beforeAll, describe, expect, it } from 'vitest';
import { isKnownKind, kindKey } from './support/k8s-kinds.js';
import { createStrictFieldChecker, type StrictFieldChecker } from './support/k8s-strict-fields.js';
import { manifestProblems } from './support/k8s-validate.js';
import { isClusterScoped, type RenderedObject, renderKustomization } from './support/kustomize.js';
import {
  find,
  inferenceDeployment,
  k8sYamlFiles,
  onlyContainer,
  renderBase,
  renderOverlay,
  secretTemplates,
  trainerCronJob,
} from './support/manifests.js';
import { repoPath } from './support/paths.js';
import { readYamlDocuments } from './support/yaml-documents.js';

let strict: StrictFieldChecker;
let base: RenderedObject[];
let overlay: RenderedObject[];

beforeAll(() => {
  strict = createStrictFieldChecker();
  base = renderBase();
  overlay = renderOverlay();
});

const id = (r: RenderedObject) => `${r.object.kind}/${r.object.metadata.name} (${r.file})`;

describe('every manifest under k8s/', () => {
  it('parses, is a supported kind and validates against the API schema with no unknown field', () => {
    const files = k8sYamlFiles();
    expect(files.length).toBeGreaterThan(10);
    const problems: string[] = [];
    for (const file of files) {
      for (const doc of readYamlDocuments(repoPath(file))) {
        const { kind } = doc as { kind?: string };
        if (kind === 'Kustomization') continue;
        for (const p of manifestProblems(doc, strict)) problems.push(`${file}: ${p}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('base and overlay render to valid objects, all in one namespace, nothing cluster-scoped', () => {
    for (const rendered of [base, overlay]) {
      const problems = rendered.flatMap((r) => manifestProblems(r.object, strict).map((p) => `${id(r)}: ${p}`));
      expect(problems).toEqual([]);
      expect(rendered.filter((r) => isClusterScoped(r.object.kind)).map(id)).toEqual([]);
      expect(new Set(rendered.map((r) => r.object.metadata.namespace))).toEqual(new Set(['fallback-ctr']));
    }
  });

  it('the base holds the inference and trainer parts; the overlay adds exactly MLflow', () => {
    const kinds = (rendered: RenderedObject[]) => rendered.map((r) => `${r.object.kind}/${r.object.metadata.name}`);
    expect(kinds(base).sort()).toEqual(
      [
        'ConfigMap/fallback-ctr-challenger',
        'ConfigMap/fallback-ctr-feature-spec',
        'ConfigMap/fallback-ctr-gate',
        'ConfigMap/fallback-ctr-mlflow',
        'ConfigMap/fallback-ctr-monitor',
        'CronJob/fallback-ctr-monitor',
        'CronJob/fallback-ctr-promote-challenger',
        'CronJob/fallback-ctr-trainer',
        'Deployment/fallback-ctr-inference',
        'HorizontalPodAutoscaler/fallback-ctr-inference',
        'NetworkPolicy/fallback-ctr-inference',
        'PodDisruptionBudget/fallback-ctr-inference',
        'Role/fallback-ctr-trainer-rollout',
        'RoleBinding/fallback-ctr-trainer-rollout',
        'Service/fallback-ctr-inference',
        'ServiceAccount/fallback-ctr-trainer',
      ].sort(),
    );
    const added = kinds(overlay).filter((k) => !kinds(base).includes(k));
    expect(added.sort()).toEqual([
      'Deployment/mlflow',
      'NetworkPolicy/mlflow',
      'PersistentVolumeClaim/mlflow-artifacts',
      'Service/mlflow',
    ]);
  });

  it('no real secret is rendered: Secrets exist only as templates with placeholder credentials', () => {
    expect([...base, ...overlay].filter((r) => r.object.kind === 'Secret').map(id)).toEqual([]);
    const templates = secretTemplates();
    expect(templates.map((t) => t.object.metadata.name).sort()).toEqual([
      'fallback-ctr-database',
      'fallback-ctr-mlflow-credentials',
      'fallback-ctr-prediction-log',
      'mlflow-backend',
    ]);
    for (const { object } of templates) {
      const data = (object as { stringData?: Record<string, string> }).stringData ?? {};
      const secretish = Object.entries(data).filter(([k, v]) => /PASSWORD|URI|URL/.test(k) || v.includes('@'));
      expect(secretish.length).toBeGreaterThan(0);
      for (const [, value] of secretish) expect(value).toContain('CHANGE-ME');
    }
  });

  it('images are rewritten by the kustomizations to name:tag (never untagged or latest)', () => {
    expect(onlyContainer(inferenceDeployment(base).spec?.template, 'inference').image).toBe(
      'fallback-ctr/inference:0.1.0',
    );
    expect(onlyContainer(trainerCronJob(base).spec?.jobTemplate.spec?.template, 'trainer').image).toBe(
      'fallback-ctr/trainer:0.1.0',
    );
    expect(onlyContainer(find<IDeployment>(overlay, 'Deployment', 'mlflow').spec?.template, 'mlflow').image).toBe(
      'fallback-ctr/mlflow:3.17.2',
    );
  });
});

describe('every workload (base + overlay)', () => {
  const podTemplates = () =>
    overlay.flatMap((r) => {
      const o = r.object as {
        kind: string;
        spec?: { template?: IPodTemplateSpec; jobTemplate?: { spec?: { template?: IPodTemplateSpec } } };
      };
      const template = o.kind === 'CronJob' ? o.spec?.jobTemplate?.spec?.template : o.spec?.template;
      return template ? [{ name: `${o.kind}/${r.object.metadata.name}`, template }] : [];
    });

  it('there are five: inference, the trainer image’s three CronJobs, MLflow', () => {
    expect(
      podTemplates()
        .map((p) => p.name)
        .sort(),
    ).toEqual([
      'CronJob/fallback-ctr-monitor',
      'CronJob/fallback-ctr-promote-challenger',
      'CronJob/fallback-ctr-trainer',
      'Deployment/fallback-ctr-inference',
      'Deployment/mlflow',
    ]);
  });

  it('disables service links: Kubernetes would inject e.g. MLFLOW_PORT=tcp://… for the mlflow Service, a variable MLflow itself reads', () => {
    for (const { name, template } of podTemplates()) expect(template.spec?.enableServiceLinks, name).toBe(false);
  });

  it('runs non-root, read-only, unprivileged, with resource requests and a memory limit', () => {
    for (const { name, template } of podTemplates()) {
      const pod = template.spec;
      expect(pod?.securityContext?.runAsNonRoot, name).toBe(true);
      expect(pod?.securityContext?.seccompProfile?.type, name).toBe('RuntimeDefault');
      for (const c of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
        expect(c.securityContext, `${name} ${c.name}`).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          privileged: false,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.resources?.requests?.cpu, `${name} ${c.name}`).toBeDefined();
        expect(c.resources?.requests?.memory, `${name} ${c.name}`).toBeDefined();
        expect(c.resources?.limits?.memory, `${name} ${c.name}`).toBeDefined();
      }
    }
  });
});

describe('the checks catch mistakes', () => {
  const deployment = () => structuredClone(inferenceDeployment(base)) as unknown as Record<string, unknown>;

  it('a misspelt field anywhere is reported as unknown (kubernetes-models alone lets it through)', () => {
    const d = deployment() as { spec: Record<string, unknown> & { template: { spec: { containers: object[] } } } };
    d.spec.replicaz = 3;
    const container = d.spec.template.spec.containers[0] as {
      readinessProbe: { httpGet: Record<string, unknown> };
      securityContext: Record<string, unknown>;
    };
    container.readinessProbe.httpGet.paht = '/readyz';
    container.securityContext.readOnlyRootFileSystem = true;
    expect(manifestProblems(d, strict).sort()).toEqual([
      'unknown field: spec.replicaz',
      'unknown field: spec.template.spec.containers[0].readinessProbe.httpGet.paht',
      'unknown field: spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem',
    ]);
  });

  it('free-form maps (labels, annotations, ConfigMap data) are not mistaken for unknown fields', () => {
    const d = deployment() as { metadata: { labels: Record<string, string> } };
    d.metadata.labels['anything.example.com/goes'] = 'yes';
    expect(manifestProblems(d, strict)).toEqual([]);
  });

  it('a wrong type, a missing required field and an unknown kind are reported', () => {
    const d = deployment() as { spec: { strategy: { rollingUpdate: Record<string, unknown> }; selector?: unknown } };
    d.spec.strategy.rollingUpdate.maxSurge = { one: 1 };
    expect(manifestProblems(d, strict).join('\n')).toMatch(/schema: .*maxSurge/);
    const noSelector = deployment() as { spec: { selector?: unknown } };
    delete noSelector.spec.selector;
    expect(manifestProblems(noSelector, strict).join('\n')).toMatch(/schema: .*selector/);
    expect(manifestProblems({ apiVersion: 'apps/v1', kind: 'Deplyment', metadata: { name: 'x' } }, strict)).toEqual([
      'unsupported kind apps/v1/Deplyment (add it to test/shipping/support/k8s-kinds.ts)',
    ]);
    expect(isKnownKind(kindKey('apps/v1', 'Deployment'))).toBe(true);
  });

  it('the kustomize loader rejects fields it does not render, and duplicate objects', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fctr-kustomize-'));
    try {
      writeFileSync(join(dir, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata: {}\n');
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [cm.yaml]\ncommonLabels: {a: b}\n',
      );
      expect(() => renderKustomization(dir)).toThrow(/unsupported or invalid kustomization/);
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [cm.yaml, cm.yaml]\n',
      );
      expect(() => renderKustomization(dir)).toThrow(/defined twice/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
