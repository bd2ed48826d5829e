import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseFeatureSpec } from '@fallback-ctr/model';
import { parseEnv } from '@fallback-ctr/runtime';
import {
  ChallengerEnvSchema,
  ExitCode,
  GateEnvSchema,
  loadMonitorSettings,
  loadTrainerConfig,
  MonitorEnvSchema,
  resolveFeatureSpec,
  runCli,
  TrainerEnvSchema,
} from '@fallback-ctr/trainer';
import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import type { IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Not exported by @fallback-ctr/trainer: the same validators its SCHEDULE settings use.
import { cronExpression, timeZone } from '../../services/trainer/src/schedule-validation.js';
import { type ResolvedEnv, resolveContainerEnv } from './support/container-env.js';
import type { RenderedObject } from './support/kustomize.js';
import {
  allOfKind,
  envSources,
  find,
  inferenceDeployment,
  MONITOR_CRONJOB,
  onlyContainer,
  PROMOTE_CHALLENGER_CRONJOB,
  renderBase,
  TRAINER_CRONJOB,
} from './support/manifests.js';
import { repoPath } from './support/paths.js';
import { requiredEnvNames } from './support/required-env.js';
import { featureSpecConfigMapYaml } from './support/write-feature-spec-configmap.js';

const TRAINER_ENV_NAMES = new Set(Object.keys(TrainerEnvSchema.shape));
/** `monitor` reads the trainer's variables and its own (MONITOR_*, GUARD_*, DRIFT_*). */
const MONITOR_ENV_NAMES = new Set([...TRAINER_ENV_NAMES, ...Object.keys(MonitorEnvSchema.shape)]);

/**
 * The trainer image's three CronJobs: the daily run, the hourly live monitor and the hourly decision on
 * the shadow challenger. Each runs one CLI command with the trainer's service account; `failFast` are the
 * exit codes that end its Job at once (a verdict or a wrong setting, which a retry cannot change).
 */
const CRONJOBS = [
  { name: TRAINER_CRONJOB, container: 'trainer', command: 'run', names: TRAINER_ENV_NAMES, failFast: [] },
  {
    name: MONITOR_CRONJOB,
    container: 'monitor',
    command: 'monitor',
    names: MONITOR_ENV_NAMES,
    failFast: [ExitCode.USAGE, ExitCode.ROLLOUT_FAILED, ExitCode.GUARD_ALARM],
  },
  {
    name: PROMOTE_CHALLENGER_CRONJOB,
    container: 'promote-challenger',
    command: 'promote-challenger',
    names: TRAINER_ENV_NAMES,
    failFast: [ExitCode.USAGE, ExitCode.ROLLOUT_FAILED],
  },
] as const;
type CronJobCase = (typeof CRONJOBS)[number];

interface CronJobUnderTest {
  cronJob: ICronJob;
  container: IContainer;
  env: ResolvedEnv;
}
const cronJobs = new Map<string, CronJobUnderTest>();
const underTest = (c: CronJobCase): CronJobUnderTest => {
  const found = cronJobs.get(c.name);
  if (!found) throw new Error(`CronJob ${c.name} was not rendered`);
  return found;
};
/** A CronJob's environment as its pod sees it: a FEATURE_SPEC it sets names the mounted file. */
const podEnvOf = (c: CronJobCase): Record<string, string> => {
  const values = underTest(c).env.values;
  return values.FEATURE_SPEC === undefined ? values : { ...values, FEATURE_SPEC: podEnv.FEATURE_SPEC ?? '' };
};

let rendered: RenderedObject[];
let cronJob: ICronJob;
let container: IContainer;
let env: ResolvedEnv;
/** The container's environment as the trainer sees it in the pod: FEATURE_SPEC's mounted file exists. */
let podEnv: Record<string, string>;
let mountDir: string;

/** The ConfigMap item that the container's FEATURE_SPEC path names through its volume mount. */
function mountedFeatureSpec(): { item: unknown; text: string | undefined } {
  const path = env.values.FEATURE_SPEC ?? '';
  const mount = container.volumeMounts?.find((m) => path.startsWith(`${m.mountPath}/`));
  const pod = cronJob.spec?.jobTemplate.spec?.template.spec;
  const volume = pod?.volumes?.find((v) => v.name === mount?.name);
  const item = volume?.configMap?.items?.find((i) => `${mount?.mountPath}/${i.path}` === path);
  const cm = find<{ data: Record<string, string> }>(rendered, 'ConfigMap', volume?.configMap?.name ?? '');
  return { item, text: cm.data[item?.key ?? ''] };
}

beforeAll(() => {
  rendered = renderBase();
  cronJob = find<ICronJob>(rendered, 'CronJob', TRAINER_CRONJOB);
  container = onlyContainer(cronJob.spec?.jobTemplate.spec?.template, 'trainer');
  env = resolveContainerEnv(container, envSources(rendered, cronJob.metadata?.namespace ?? ''));
  mountDir = mkdtempSync(join(tmpdir(), 'fctr-spec-'));
  const specFile = join(mountDir, 'feature-spec.json');
  writeFileSync(specFile, mountedFeatureSpec().text ?? '');
  podEnv = { ...env.values, FEATURE_SPEC: specFile };
  for (const c of CRONJOBS) {
    const job = find<ICronJob>(rendered, 'CronJob', c.name);
    const jobContainer = onlyContainer(job.spec?.jobTemplate.spec?.template, c.container);
    cronJobs.set(c.name, {
      cronJob: job,
      container: jobContainer,
      env: resolveContainerEnv(jobContainer, envSources(rendered, job.metadata?.namespace ?? '')),
    });
  }
});

afterAll(() => rmSync(mountDir, { recursive: true, force: true }));

/** Runs the trainer CLI with `--help` appended: 0 only when the command and every flag exist. */
async function cliAccepts(args: readonly string[]): Promise<number> {
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  return runCli([...args, '--help'], { stdout: sink, stderr: sink, env: {} });
}

/**
 * What a Role grants beyond `get`/`patch` on one named Deployment, as readable lines; empty when
 * it grants exactly that and nothing else.
 */
function excessGrants(role: IRole, deploymentName: string): string[] {
  const rules = role.rules ?? [];
  if (rules.length !== 1) return [`expected exactly one rule, found ${rules.length}`];
  const rule = rules[0]!;
  const out: string[] = [];
  const same = (actual: string[] | undefined, expected: string[]) =>
    JSON.stringify([...(actual ?? [])].sort()) === JSON.stringify([...expected].sort());
  if (!same(rule.apiGroups, ['apps'])) out.push(`apiGroups ${JSON.stringify(rule.apiGroups)}`);
  if (!same(rule.resources, ['deployments'])) out.push(`resources ${JSON.stringify(rule.resources)}`);
  if (!same(rule.resourceNames, [deploymentName])) out.push(`resourceNames ${JSON.stringify(rule.resourceNames)}`);
  if (!same(rule.verbs, ['get', 'patch'])) out.push(`verbs ${JSON.stringify(rule.verbs)}`);
  if (rule.nonResourceURLs) out.push(`nonResourceURLs ${JSON.stringify(rule.nonResourceURLs)}`);
  return out;
}

describe('trainer CronJob ↔ the trainer', () => {
  it('runs the CLI command `run`, which the trainer CLI knows', async () => {
    expect(container.command).toBeUndefined(); // the image's ENTRYPOINT is the CLI
    expect(container.args).toEqual(['run']);
    expect(await cliAccepts(container.args ?? [])).toBe(0);
    expect(await cliAccepts(['rnu'])).not.toBe(0);
  });

  it('sets only variables the trainer reads, resolves every reference, and the trainer accepts them', () => {
    expect(env.problems).toEqual([]);
    expect(env.names.filter((n) => !TRAINER_ENV_NAMES.has(n))).toEqual([]);
    expect(new Set(env.names).size).toBe(env.names.length);
    expect(requiredEnvNames(TrainerEnvSchema)).toEqual(['DATABASE_URL', 'MLFLOW_TRACKING_URI']);
    for (const name of requiredEnvNames(TrainerEnvSchema)) expect(env.values[name], name).toBeTruthy();
    const config = loadTrainerConfig(podEnv);
    expect(config.rollout.mode).toBe('kubernetes');
    expect(config.mlflow.clientOptions.trackingUri).toBe('http://mlflow:5000');
    expect(config.databaseUrl).toMatch(/^postgres(ql)?:\/\//);
  });

  it('rolls out the inference Deployment of the same namespace, whose name the Role allows', () => {
    const config = loadTrainerConfig(podEnv);
    const deployment = inferenceDeployment(rendered);
    expect(config.rollout.deployment).toBe(deployment.metadata?.name);
    expect(config.rollout.namespace).toBe(deployment.metadata?.namespace);
    // The rollout waits for the Deployment's own progress deadline before giving up.
    expect(config.rollout.timeoutMs / 1000).toBeGreaterThan(deployment.spec?.progressDeadlineSeconds ?? 600);
  });

  it('uses the same MLflow server and registered model as the inference pods', () => {
    const deployment = inferenceDeployment(rendered);
    const inference = resolveContainerEnv(
      onlyContainer(deployment.spec?.template, 'inference'),
      envSources(rendered, deployment.metadata?.namespace ?? ''),
    ).values;
    for (const name of ['MLFLOW_TRACKING_URI', 'MODEL_NAME']) {
      expect(env.values[name], name).toBeDefined();
      expect(inference[name], name).toBe(env.values[name]);
    }
  });

  it('reads the feature spec from the mounted ConfigMap, and the spec is valid', () => {
    const { item, text } = mountedFeatureSpec();
    expect(item, `FEATURE_SPEC ${env.values.FEATURE_SPEC} is a file of a mounted ConfigMap`).toBeDefined();
    expect(text).toBeDefined();
    parseFeatureSpec(JSON.parse(text ?? ''));
    expect(resolveFeatureSpec(podEnv.FEATURE_SPEC).fields.length).toBeGreaterThan(0);
  });

  it('the feature-spec ConfigMap is exactly what its generator writes (so regenerating it is a clean diff)', () => {
    const file = readFileSync(repoPath('k8s/base/config-feature-spec.yaml'), 'utf8');
    const cm = find<{ data: Record<string, string> }>(rendered, 'ConfigMap', 'fallback-ctr-feature-spec');
    const spec = parseFeatureSpec(JSON.parse(cm.data['feature-spec.json'] ?? ''));
    expect(file).toBe(featureSpecConfigMapYaml(spec));
  });

  it('the gate ConfigMap holds only gate thresholds, all valid', () => {
    const gate = find<{ data: Record<string, string> }>(rendered, 'ConfigMap', 'fallback-ctr-gate');
    const gateNames = Object.keys(GateEnvSchema.shape);
    expect(Object.keys(gate.data).sort()).toEqual([...gateNames].sort());
    parseEnv(GateEnvSchema, gate.data);
    expect(container.envFrom?.map((e) => e.configMapRef?.name)).toContain('fallback-ctr-gate');
  });

  it('never overlaps runs, retries little, and is bounded in time', () => {
    const spec = cronJob.spec!;
    expect(cronExpression().safeParse(spec.schedule).success).toBe(true);
    expect(timeZone().safeParse(spec.timeZone).success).toBe(true);
    expect(spec.concurrencyPolicy).toBe('Forbid');
    expect(spec.successfulJobsHistoryLimit).toBeGreaterThan(0);
    expect(spec.failedJobsHistoryLimit).toBeGreaterThan(0);
    expect(spec.startingDeadlineSeconds).toBeGreaterThan(0);
    const job = spec.jobTemplate.spec!;
    expect(job.backoffLimit).toBeGreaterThanOrEqual(0);
    expect(job.backoffLimit).toBeLessThanOrEqual(2);
    const rolloutSeconds = loadTrainerConfig(podEnv).rollout.timeoutMs / 1000;
    expect(job.activeDeadlineSeconds).toBeGreaterThan(rolloutSeconds * 2);
    expect(job.template.spec?.restartPolicy).toBe('Never');
  });

  it('runs as non-root with a read-only root filesystem and a writable /tmp', () => {
    const pod = cronJob.spec?.jobTemplate.spec?.template.spec;
    expect(pod?.securityContext?.runAsNonRoot).toBe(true);
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    const tmp = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
    expect(pod?.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    expect(container.resources?.limits?.memory).toBeDefined();
  });
});

describe('the three CronJobs of the trainer image (run, monitor, promote-challenger)', () => {
  it('there are exactly these three CronJobs', () => {
    expect(
      allOfKind<ICronJob>(rendered, 'CronJob')
        .map((c) => c.metadata?.name)
        .sort(),
    ).toEqual(CRONJOBS.map((c) => c.name).sort());
  });

  it.each(CRONJOBS)('$name runs `$command`, which the trainer CLI knows', async (c) => {
    const { container: jobContainer } = underTest(c);
    expect(jobContainer.command).toBeUndefined();
    expect(jobContainer.args).toEqual([c.command]);
    expect(await cliAccepts(jobContainer.args ?? [])).toBe(0);
    expect(jobContainer.image).toBe(container.image);
  });

  it.each(CRONJOBS)('$name sets only variables its command reads, all resolved, and accepted', (c) => {
    const { env: jobEnv } = underTest(c);
    expect(jobEnv.problems).toEqual([]);
    expect(jobEnv.names.filter((n) => !c.names.has(n))).toEqual([]);
    expect(new Set(jobEnv.names).size).toBe(jobEnv.names.length);
    const config = loadTrainerConfig(podEnvOf(c));
    loadMonitorSettings(podEnvOf(c));
    // Each one moves aliases and patches the inference Deployment of its own namespace, by the same rollout.
    expect(config.rollout).toEqual(loadTrainerConfig(podEnv).rollout);
    expect(config.mlflow.clientOptions.trackingUri).toBe(env.values.MLFLOW_TRACKING_URI);
    expect(config.mlflow.modelName).toBe(env.values.MODEL_NAME);
    expect(config.databaseUrl).toBe(env.values.DATABASE_URL);
  });

  it('the monitor reads its settings from the monitor ConfigMap, which holds only monitor settings, all valid', () => {
    const monitor = underTest(CRONJOBS[1]);
    const cm = find<{ data: Record<string, string> }>(rendered, 'ConfigMap', 'fallback-ctr-monitor');
    const monitorNames = new Set(Object.keys(MonitorEnvSchema.shape));
    expect(Object.keys(cm.data).filter((k) => !monitorNames.has(k))).toEqual([]);
    expect(monitor.container.envFrom?.map((e) => e.configMapRef?.name)).toContain('fallback-ctr-monitor');
    const settings = loadMonitorSettings(monitor.env.values);
    expect(settings.guard.autoRollback).toBe(false);
    expect(settings.pushgatewayUrl).toMatch(/^http:\/\//);
    // A replay setting has no place in a schedule.
    expect(cm.data.MONITOR_NOW).toBeUndefined();
  });

  it('run and promote-challenger read the same challenger ConfigMap (PROMOTE_VIA and the SHADOW_* thresholds)', () => {
    const cm = find<{ data: Record<string, string> }>(rendered, 'ConfigMap', 'fallback-ctr-challenger');
    const names = new Set(Object.keys(ChallengerEnvSchema.shape));
    expect(Object.keys(cm.data).filter((k) => !names.has(k))).toEqual([]);
    expect(cm.data.SHADOW_WINDOW_END).toBeUndefined();
    expect(cm.data.PROMOTE_VIA).toBe('champion');
    for (const c of [CRONJOBS[0], CRONJOBS[2]]) {
      expect(underTest(c).container.envFrom?.map((e) => e.configMapRef?.name)).toContain('fallback-ctr-challenger');
      expect(loadTrainerConfig(podEnvOf(c)).challenger.promoteVia).toBe('champion');
    }
  });

  it.each(CRONJOBS.slice(1))('$name runs hourly, never overlapping, bounded within the hour, never late', (c) => {
    const spec = underTest(c).cronJob.spec!;
    expect(cronExpression().safeParse(spec.schedule).success).toBe(true);
    expect(spec.schedule).toMatch(/^\d{1,2} \* \* \* \*$/);
    expect(timeZone().safeParse(spec.timeZone).success).toBe(true);
    expect(spec.concurrencyPolicy).toBe('Forbid');
    expect(spec.startingDeadlineSeconds).toBeGreaterThan(0);
    expect(spec.startingDeadlineSeconds).toBeLessThan(3600);
    const job = spec.jobTemplate.spec!;
    const config = loadTrainerConfig(podEnvOf(c));
    // Waiting for the lock, a rollout and its undo fit; the next hour's run is never skipped for it.
    expect(job.activeDeadlineSeconds).toBeGreaterThan(config.lockWaitMs / 1000 + (config.rollout.timeoutMs / 1000) * 2);
    expect(job.activeDeadlineSeconds).toBeLessThan(3600);
    expect(job.backoffLimit).toBeLessThanOrEqual(1);
    expect(job.template.spec?.restartPolicy).toBe('Never');
  });

  it('monitor and promote-challenger run at different minutes, and not at the daily run’s', () => {
    const minute = (c: CronJobCase) => underTest(c).cronJob.spec?.schedule.split(' ')[0];
    expect(new Set(CRONJOBS.map(minute)).size).toBe(CRONJOBS.length);
  });

  it.each(CRONJOBS.slice(1))(
    '$name ends its Job at once on a verdict or a wrong setting, not on a transient error',
    (c) => {
      const rules = underTest(c).cronJob.spec?.jobTemplate.spec?.podFailurePolicy?.rules ?? [];
      const failJob = rules.filter((r) => r.action === 'FailJob');
      expect(failJob).toHaveLength(1);
      expect(failJob[0]?.onExitCodes).toEqual({ containerName: c.container, operator: 'In', values: [...c.failFast] });
      expect(failJob[0]?.onExitCodes?.values).not.toContain(ExitCode.ERROR);
      // A node drain (pod disrupted) is not counted against the retry.
      expect(rules.some((r) => r.action === 'Ignore' && r.onPodConditions?.[0]?.type === 'DisruptionTarget')).toBe(
        true,
      );
    },
  );

  it('the monitor manifest documents every exit code its Job can end with', () => {
    const text = readFileSync(repoPath('k8s/base/monitor-cronjob.yaml'), 'utf8');
    for (const code of [ExitCode.OK, ExitCode.ERROR, ExitCode.USAGE, ExitCode.ROLLOUT_FAILED, ExitCode.GUARD_ALARM]) {
      expect(text).toMatch(new RegExp(`^#\\s+${code}\\s+\\S`, 'm'));
    }
  });

  it.each(CRONJOBS)('$name runs restricted like the daily run: same account, security, /tmp, resources', (c) => {
    const { cronJob: job, container: jobContainer } = underTest(c);
    const pod = job.spec?.jobTemplate.spec?.template.spec;
    const daily = cronJob.spec?.jobTemplate.spec?.template.spec;
    expect(pod?.serviceAccountName).toBe(daily?.serviceAccountName);
    expect(pod?.automountServiceAccountToken).toBe(true);
    expect(pod?.securityContext).toEqual(daily?.securityContext);
    expect(jobContainer.securityContext).toEqual(container.securityContext);
    const tmp = jobContainer.volumeMounts?.find((m) => m.mountPath === '/tmp');
    expect(pod?.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    expect(jobContainer.resources?.requests?.cpu).toBeDefined();
    expect(jobContainer.resources?.limits?.memory).toBeDefined();
    // The pod labels MLflow's NetworkPolicy admits (overlay with-mlflow).
    expect(job.spec?.jobTemplate.spec?.template.metadata?.labels).toEqual(
      cronJob.spec?.jobTemplate.spec?.template.metadata?.labels,
    );
  });
});

describe('trainer RBAC', () => {
  it('the only Role grants get and patch on the one inference Deployment, and nothing else', () => {
    const roles = allOfKind<IRole>(rendered, 'Role');
    expect(roles).toHaveLength(1);
    expect(excessGrants(roles[0]!, inferenceDeployment(rendered).metadata?.name ?? '')).toEqual([]);
    expect(rendered.filter((r) => /^Cluster/.test(r.object.kind))).toEqual([]);
  });

  it('the check rejects anything wider', () => {
    const role = allOfKind<IRole>(rendered, 'Role')[0]!;
    const widen = (change: (rule: NonNullable<IRole['rules']>[number]) => void) => {
      const copy = structuredClone(role);
      change(copy.rules![0]!);
      return excessGrants(copy, 'fallback-ctr-inference');
    };
    expect(widen((r) => r.verbs.push('list'))).toEqual(['verbs ["get","patch","list"]']);
    expect(widen((r) => delete r.resourceNames)).toEqual(['resourceNames undefined']);
    expect(widen((r) => (r.resources = ['deployments', 'pods']))).toEqual(['resources ["deployments","pods"]']);
    expect(widen((r) => (r.apiGroups = ['*']))).toEqual(['apiGroups ["*"]']);
    expect(widen((r) => (r.verbs = ['*']))).toEqual(['verbs ["*"]']);
    const twoRules = structuredClone(role);
    twoRules.rules!.push({ apiGroups: [''], resources: ['secrets'], verbs: ['get'] });
    expect(excessGrants(twoRules, 'fallback-ctr-inference')).toEqual(['expected exactly one rule, found 2']);
  });

  it('binds the Role to the CronJob’s service account only, in the same namespace', () => {
    const bindings = allOfKind<IRoleBinding>(rendered, 'RoleBinding');
    expect(bindings).toHaveLength(1);
    const binding = bindings[0]!;
    const role = allOfKind<IRole>(rendered, 'Role')[0]!;
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata?.name });
    const pod = cronJob.spec?.jobTemplate.spec?.template.spec;
    const account = pod?.serviceAccountName;
    expect(account).toBeDefined();
    find(rendered, 'ServiceAccount', account ?? '');
    expect(binding.subjects).toHaveLength(1);
    const subject = binding.subjects![0]!;
    expect(subject.kind).toBe('ServiceAccount');
    expect(subject.name).toBe(account);
    // An unset subject namespace means the binding's own namespace.
    expect(subject.namespace ?? binding.metadata?.namespace).toBe(cronJob.metadata?.namespace);
    expect(pod?.automountServiceAccountToken).toBe(true);
    // Nothing else may use the API: the inference pods mount no token.
    expect(inferenceDeployment(rendered).spec?.template.spec?.automountServiceAccountToken).toBe(false);
  });
});
