import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import type { EnvSources } from './container-env.js';
import { K8sObjectSchema, type RenderedObject, renderKustomization } from './kustomize.js';
import { REPO_ROOT, repoPath } from './paths.js';
import { readYamlDocuments } from './yaml-documents.js';

export const K8S_DIR = repoPath('k8s');
export const BASE_DIR = repoPath('k8s/base');
export const OVERLAY_DIR = repoPath('k8s/overlays/with-mlflow');
export const SECRETS_DIR = repoPath('k8s/secrets');

/** Every .yaml file under k8s/, relative to the repository root. */
export function k8sYamlFiles(dir = K8S_DIR): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...k8sYamlFiles(path));
    else if (/\.ya?ml$/.test(entry.name)) out.push(relative(REPO_ROOT, path));
  }
  return out.sort();
}

/** The Secret templates (k8s/secrets/*.secret.example.yaml): not applied by any kustomization. */
export function secretTemplates(): RenderedObject[] {
  return readdirSync(SECRETS_DIR)
    .filter((f) => f.endsWith('.secret.example.yaml'))
    .flatMap((f) =>
      readYamlDocuments(join(SECRETS_DIR, f)).map((doc) => ({ object: K8sObjectSchema.parse(doc), file: f })),
    );
}

export function find<T>(rendered: readonly RenderedObject[], kind: string, name: string): T {
  const hit = rendered.find((r) => r.object.kind === kind && r.object.metadata.name === name);
  if (!hit) throw new Error(`no ${kind} ${name} in the rendered manifests`);
  return hit.object as unknown as T;
}

export function allOfKind<T>(rendered: readonly RenderedObject[], kind: string): T[] {
  return rendered.filter((r) => r.object.kind === kind).map((r) => r.object as unknown as T);
}

/** ConfigMaps from the rendered output and Secrets from the templates, for resolving env. */
export function envSources(rendered: readonly RenderedObject[], namespace: string): EnvSources {
  const configMaps = new Map<string, Record<string, string>>();
  for (const cm of allOfKind<{ metadata: { name: string }; data?: Record<string, string> }>(rendered, 'ConfigMap')) {
    configMaps.set(cm.metadata.name, cm.data ?? {});
  }
  const secrets = new Map<string, Record<string, string>>();
  for (const { object } of secretTemplates()) {
    const s = object as unknown as { metadata: { name: string }; stringData?: Record<string, string> };
    secrets.set(s.metadata.name, s.stringData ?? {});
  }
  return { configMaps, secrets, namespace };
}

export function onlyContainer(template: IPodTemplateSpec | undefined, name: string): IContainer {
  const containers = template?.spec?.containers ?? [];
  const container = containers.find((c) => c.name === name);
  if (!container || containers.length !== 1) throw new Error(`expected exactly one container named ${name}`);
  return container;
}

export const renderBase = (): RenderedObject[] => renderKustomization(BASE_DIR);
export const renderOverlay = (): RenderedObject[] => renderKustomization(OVERLAY_DIR);

export const INFERENCE_DEPLOYMENT = 'fallback-ctr-inference';
export const TRAINER_CRONJOB = 'fallback-ctr-trainer';
export const MONITOR_CRONJOB = 'fallback-ctr-monitor';
export const PROMOTE_CHALLENGER_CRONJOB = 'fallback-ctr-promote-challenger';

export function inferenceDeployment(rendered: readonly RenderedObject[]): IDeployment {
  return find<IDeployment>(rendered, 'Deployment', INFERENCE_DEPLOYMENT);
}

export function trainerCronJob(rendered: readonly RenderedObject[]): ICronJob {
  return find<ICronJob>(rendered, 'CronJob', TRAINER_CRONJOB);
}
