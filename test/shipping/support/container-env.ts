import type { IContainer } from 'kubernetes-models/v1/Container';

/** Where env values come from besides literals: ConfigMaps and Secrets by name, the pod's namespace. */
export interface EnvSources {
  configMaps: ReadonlyMap<string, Readonly<Record<string, string>>>;
  secrets: ReadonlyMap<string, Readonly<Record<string, string>>>;
  namespace: string;
}

export interface ResolvedEnv {
  /** Every variable name the container gets, from env and envFrom. */
  names: string[];
  /** The value each variable resolves to (optional references that do not resolve are absent). */
  values: Record<string, string>;
  /** References that cannot resolve: a missing ConfigMap/Secret or key that is not optional. */
  problems: string[];
}

/** Kubernetes CPU quantity ("500m", "2", "1.5") in cores. */
export function cpuCores(quantity: string | number): number {
  if (typeof quantity === 'number') return quantity;
  if (quantity.endsWith('m')) return Number(quantity.slice(0, -1)) / 1000;
  return Number(quantity);
}

export function resolveContainerEnv(container: IContainer, sources: EnvSources): ResolvedEnv {
  const names: string[] = [];
  const values: Record<string, string> = {};
  const problems: string[] = [];
  const lookup = (
    kind: 'ConfigMap' | 'Secret',
    name: string | undefined,
    key: string,
    optional: boolean | undefined,
  ): string | undefined => {
    const store = (kind === 'ConfigMap' ? sources.configMaps : sources.secrets).get(name ?? '');
    const value = store?.[key];
    if (value === undefined && !optional)
      problems.push(`${kind} ${name}: no key ${key} (and the reference is not optional)`);
    return value;
  };

  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    const kind = from.configMapRef ? 'ConfigMap' : 'Secret';
    const store = (kind === 'ConfigMap' ? sources.configMaps : sources.secrets).get(ref?.name ?? '');
    if (!store) {
      if (!ref?.optional) problems.push(`envFrom ${kind} ${ref?.name} does not exist`);
      continue;
    }
    for (const [key, value] of Object.entries(store)) {
      const name = `${from.prefix ?? ''}${key}`;
      names.push(name);
      values[name] = value;
    }
  }
  for (const variable of container.env ?? []) {
    names.push(variable.name);
    const from = variable.valueFrom;
    let value: string | undefined;
    if (variable.value !== undefined) value = variable.value;
    else if (from?.configMapKeyRef) {
      const r = from.configMapKeyRef;
      value = lookup('ConfigMap', r.name, r.key, r.optional);
    } else if (from?.secretKeyRef) {
      const r = from.secretKeyRef;
      value = lookup('Secret', r.name, r.key, r.optional);
    } else if (from?.fieldRef) {
      if (from.fieldRef.fieldPath === 'metadata.namespace') value = sources.namespace;
      else problems.push(`${variable.name}: fieldRef ${from.fieldRef.fieldPath} is not resolved by this check`);
    } else if (from?.resourceFieldRef) {
      const r = from.resourceFieldRef;
      const [bucket, resource] = r.resource.split('.') as ['limits' | 'requests', string];
      const quantity = container.resources?.[bucket]?.[resource];
      if (resource !== 'cpu' || quantity === undefined) {
        problems.push(`${variable.name}: resourceFieldRef ${r.resource} has no value`);
      } else {
        // The kubelet rounds up to whole divisor units.
        value = String(Math.ceil(cpuCores(quantity) / cpuCores(r.divisor ?? '1')));
      }
    } else problems.push(`${variable.name}: neither value nor a supported valueFrom`);
    if (value !== undefined) values[variable.name] = value;
  }
  return { names, values, problems };
}
