import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { readYamlDocument, readYamlDocuments } from './yaml-documents.js';

/**
 * A small kustomize renderer for the subset this project's kustomizations use: `resources`
 * (files or directories with their own kustomization.yaml), `namespace` and `images`. Any other
 * kustomization field is rejected, so a kustomization that starts using one fails the tests here
 * instead of being rendered wrongly. Mirrors `kubectl kustomize` for that subset: compare it
 * against kustomize's own library: `npx tsx test/shipping/support/compare-with-kustomize.ts`.
 */
const ImageSchema = z.strictObject({
  name: z.string().min(1),
  newName: z.string().min(1).optional(),
  newTag: z.string().min(1).optional(),
  digest: z.string().startsWith('sha256:').optional(),
});

export const KustomizationSchema = z.strictObject({
  apiVersion: z.literal('kustomize.config.k8s.io/v1beta1'),
  kind: z.literal('Kustomization'),
  namespace: z.string().min(1).optional(),
  resources: z.array(z.string().min(1)).min(1),
  images: z.array(ImageSchema).optional(),
});
export type Kustomization = z.infer<typeof KustomizationSchema>;

export const K8sObjectSchema = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: z.looseObject({ name: z.string().min(1), namespace: z.string().min(1).optional() }),
});
export type K8sObject = z.infer<typeof K8sObjectSchema>;

export interface RenderedObject {
  object: K8sObject;
  /** The manifest file it came from, for messages. */
  file: string;
}

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
]);

export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED.has(kind);
}

export function readKustomization(dir: string): Kustomization {
  const file = join(dir, 'kustomization.yaml');
  const parsed = KustomizationSchema.safeParse(readYamlDocument(file));
  if (!parsed.success) {
    throw new Error(`${file}: unsupported or invalid kustomization (${z.prettifyError(parsed.error)})`);
  }
  return parsed.data;
}

/** Splits "repo/name:tag" / "repo/name@sha256:…" into name and the rest (":tag" or "@digest"). */
export function splitImage(image: string): { name: string; tag: string | undefined; digest: string | undefined } {
  const at = image.indexOf('@');
  const withoutDigest = at >= 0 ? image.slice(0, at) : image;
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  const colon = withoutDigest.lastIndexOf(':');
  const slash = withoutDigest.lastIndexOf('/');
  if (colon > slash) return { name: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1), digest };
  return { name: withoutDigest, tag: undefined, digest };
}

function rewriteImage(image: string, rules: Kustomization['images']): string {
  const current = splitImage(image);
  const rule = rules?.find((r) => r.name === current.name);
  if (!rule) return image;
  const name = rule.newName ?? current.name;
  if (rule.digest) return `${name}@${rule.digest}`;
  const tag = rule.newTag ?? current.tag;
  if (current.digest && !rule.newTag) return `${name}@${current.digest}`;
  return tag === undefined ? name : `${name}:${tag}`;
}

/** Applies the images rules to every container and init container anywhere in the object. */
function applyImages(value: unknown, rules: Kustomization['images']): void {
  if (!rules || rules.length === 0 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) applyImages(item, rules);
    return;
  }
  const record = value as Record<string, unknown>;
  for (const key of ['containers', 'initContainers']) {
    const list = record[key];
    if (!Array.isArray(list)) continue;
    for (const container of list) {
      if (container && typeof container === 'object' && typeof (container as { image?: unknown }).image === 'string') {
        const c = container as { image: string };
        c.image = rewriteImage(c.image, rules);
      }
    }
  }
  for (const child of Object.values(record)) applyImages(child, rules);
}

/**
 * kustomize's name-reference rule: a binding subject naming a ServiceAccount that is among the
 * rendered objects gets that ServiceAccount's namespace (so a namespace change follows it).
 */
function pointSubjectsAt(binding: K8sObject, all: readonly RenderedObject[]): void {
  const subjects = (binding as { subjects?: { kind?: string; name?: string; namespace?: string }[] }).subjects ?? [];
  for (const subject of subjects) {
    if (subject.kind !== 'ServiceAccount') continue;
    const account = all.find((r) => r.object.kind === 'ServiceAccount' && r.object.metadata.name === subject.name);
    if (account?.object.metadata.namespace) subject.namespace = account.object.metadata.namespace;
  }
}

function loadResource(baseDir: string, entry: string): RenderedObject[] {
  const path = resolve(baseDir, entry);
  if (!existsSync(path)) throw new Error(`${baseDir}/kustomization.yaml: resource ${entry} does not exist`);
  if (statSync(path).isDirectory()) return renderKustomization(path);
  return readYamlDocuments(path).map((doc, i) => {
    const parsed = K8sObjectSchema.safeParse(doc);
    if (!parsed.success) throw new Error(`${path} document ${i + 1}: not a Kubernetes object`);
    return { object: parsed.data, file: path };
  });
}

/** Renders a kustomization directory like `kubectl kustomize <dir>` would (for the supported subset). */
export function renderKustomization(dir: string): RenderedObject[] {
  const k = readKustomization(dir);
  const out: RenderedObject[] = [];
  for (const entry of k.resources) out.push(...loadResource(dir, entry));
  const seen = new Set<string>();
  for (const { object, file } of out) {
    if (k.namespace && !isClusterScoped(object.kind)) object.metadata.namespace = k.namespace;
    applyImages(object, k.images);
    if (object.kind === 'RoleBinding' || object.kind === 'ClusterRoleBinding') pointSubjectsAt(object, out);
    const id = `${object.apiVersion}/${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    if (seen.has(id)) throw new Error(`${dirname(file)}: ${id} is defined twice`);
    seen.add(id);
  }
  return out;
}
