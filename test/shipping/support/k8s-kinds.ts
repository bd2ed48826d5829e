import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { CronJob } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';

/**
 * Every kind the manifests may contain, as `apiVersion/kind`, and its kubernetes-models class (runtime
 * validation against the API schema). The fields are declared by interface `I<kind>` of module
 * `kubernetes-models/<apiVersion>/<kind>` (the strict field check: kindDeclaration).
 * A manifest of any other kind fails the tests until it is added here.
 */
export const KINDS = {
  'v1/ConfigMap': ConfigMap,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/CronJob': CronJob,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
} as const;

export type KindKey = keyof typeof KINDS;

export function kindKey(apiVersion: unknown, kind: unknown): string {
  return `${String(apiVersion)}/${String(kind)}`;
}

export function isKnownKind(key: string): key is KindKey {
  return Object.hasOwn(KINDS, key);
}

/** Where kubernetes-models declares the fields of a kind: its module and interface, named after the key. */
export function kindDeclaration(key: KindKey): { module: string; type: string } {
  return { module: `kubernetes-models/${key}`, type: `I${key.slice(key.lastIndexOf('/') + 1)}` };
}
