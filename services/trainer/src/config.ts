import { DEFAULT_SCHEMA, SchemaNameSchema } from '@fallback-ctr/clicklog';
import { FTRL_DEFAULTS } from '@fallback-ctr/learn';
import { MlflowEnvSchema, optionsFromEnv } from '@fallback-ctr/mlflow';
import { DEFAULT_MAX_ARTIFACT_BYTES } from '@fallback-ctr/model';
import { ConfigError, type Env, envBoolean, envInt, envNumber, logLevel, parseEnv } from '@fallback-ctr/runtime';
import { z } from 'zod';
import { featureSpecProblem } from './feature-spec-source.js';
import { cronExpression, timeZone } from './schedule-validation.js';

const positive = () => envNumber().refine((v) => v > 0, 'a number > 0');
const nonNegative = () => envNumber().refine((v) => v >= 0, 'a number >= 0');
/** A duration with an upper bound: beyond it dates overflow and Node's timers fire at once. */
const duration = (min: 'positive' | 'nonNegative', max: number) =>
  (min === 'positive' ? positive() : nonNegative()).max(max);
const DAY_SECONDS = 86_400;
const fraction = () => envNumber().refine((v) => v >= 0 && v <= 1, 'a number in [0, 1]');
const dnsName = () =>
  z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a lowercase DNS-1123 name')
    .max(253);

/** Data: where the click logs are and which slice of them a run trains and evaluates on. */
export const DataEnvSchema = z.object({
  DATABASE_URL: z
    .string()
    .min(1)
    .describe(
      'PostgreSQL holding the click logs (also used for the run lock). `status` runs without it (it then does not settle leftovers).',
    ),
  CLICKLOG_SCHEMA: SchemaNameSchema.default(DEFAULT_SCHEMA).describe('Postgres schema of the click-log tables.'),
  TRAIN_WINDOW_HOURS: duration('positive', 366 * 24)
    .default(168)
    .describe('Length of the training window (holdout included).'),
  HOLDOUT_HOURS: positive().default(24).describe('The most recent slice of the window, used only to evaluate.'),
  ATTRIBUTION_WINDOW_MINUTES: duration('positive', 30 * 24 * 60)
    .default(60)
    .describe('Impressions younger than this have unknown labels and are never used.'),
  TRAIN_WINDOW_END: z.iso
    .datetime({ offset: true })
    .optional()
    .describe(
      'End of the window (RFC 3339), at most now minus the attribution window; default: now minus the attribution window. For replays and tests.',
    ),
  DATA_MIN_FIELD_COVERAGE: fraction()
    .default(0.01)
    .describe('A feature-spec field present in fewer impressions of the window than this share fails the run.'),
  DATA_MIN_ROWS: envInt(1).default(1_000).describe('Fewer labelled impressions in the window end the run SKIPPED.'),
  DATA_MAX_LATE_CLICK_SHARE: fraction()
    .default(0.05)
    .describe('Warn when more clicked impressions than this share were clicked after the attribution window.'),
});

/** Model: feature spec and FTRL-Proximal hyper-parameters. */
export const ModelEnvSchema = z.object({
  FEATURE_SPEC: z
    .string()
    .optional()
    // Checked with the other variables (read and validated), so a bad spec is a configuration error.
    .superRefine((source, ctx) => {
      const problem = featureSpecProblem(source);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    })
    .describe("Feature spec as JSON text (starts with '{') or a path to a JSON file; default: libs/model's."),
  TRAIN_SEARCH: envBoolean()
    .default(true)
    .describe(
      'Choose FTRL α, λ1, λ2 and the passes on a validation slice (the end of the training part) by successive halving; each FTRL_* / TRAIN_PASSES set pins its value.',
    ),
  TRAIN_SEARCH_MAX_ROWS: envInt(10_000, 1_000_000_000)
    .default(4_000_000)
    .describe(
      'The search runs on at most this many training rows, the most recent ones (the refit of its winner trains on the whole training part).',
    ),
  TRAIN_MAX_ROWS_IN_MEMORY: envInt(10_000, 1_000_000_000)
    .default(10_000_000)
    .describe(
      'Training rows read once into memory for the search and the refit of its winner (about 130 bytes each with the default spec: 1.3 GB at the default). A longer training part keeps its most recent rows for the search and is refitted streamed from Postgres, one read per pass.',
    ),
  TRAIN_SEARCH_MIN_VALIDATION_ROWS: envInt(1)
    .default(1_000)
    .describe(
      'The search runs only when its validation slice (the last 20 % of the training part) holds at least this many rows, else the run keeps the FTRL defaults (or the FTRL_* set) and says why (MLflow param search.skipped): on a few dozen rows the ranking of the candidates is noise and the winner over-fits.',
    ),
  TRAIN_SEARCH_MIN_VALIDATION_CLICKS: envInt(1)
    .default(3)
    .describe(
      'The search runs only when its validation slice holds at least this many clicks, else the run keeps the FTRL defaults (or the FTRL_* set) and says why. Kept low: at a 0.4 % CTR a validation slice of ~1,400 rows holds only ~5 clicks.',
    ),
  FTRL_ALPHA: positive()
    .optional()
    .describe(`FTRL per-coordinate learning-rate scale α; unset: chosen by the search, else ${FTRL_DEFAULTS.alpha}.`),
  FTRL_BETA: nonNegative().default(FTRL_DEFAULTS.beta).describe('FTRL learning-rate smoothing β.'),
  FTRL_L1: nonNegative()
    .optional()
    .describe(`FTRL L1 regularisation λ1 (sparsity); unset: chosen by the search, else ${FTRL_DEFAULTS.l1}.`),
  FTRL_L2: nonNegative()
    .optional()
    .describe(`FTRL L2 regularisation λ2; unset: chosen by the search, else ${FTRL_DEFAULTS.l2}.`),
  TRAIN_PASSES: envInt(1, 20)
    .optional()
    .describe(
      'Passes over the training slice (after a search, on the rows it holds in memory; else re-read from Postgres); unset: chosen by the search, else 1.',
    ),
  TRAIN_MISSING_RATE: envNumber()
    .refine((v) => v >= 0 && v <= 0.5, 'a number in [0, 0.5]')
    .default(0.02)
    .describe(
      'Share of (row, field) pairs trained as if the field were missing, so impressions that omit fields stay calibrated.',
    ),
  TRAIN_MIN_VALUE_COUNT: envInt(0, 1_000_000)
    .default(5)
    .describe(
      'Categorical values seen fewer times in the training window become their field’s rare token, in training and at serving (cold start); 0 = off.',
    ),
  TRAIN_RARE_RATE: envNumber()
    .refine((v) => v >= 0 && v <= 0.5, 'a number in [0, 0.5]')
    .default(0.02)
    .describe(
      'Share of (row, field) pairs trained as the field’s rare token, so never-seen values score near their peers; drawn per value, inversely to its count (each kept value gives about as many rows; at most half of a value’s rows).',
    ),
  TRAIN_NEGATIVE_SAMPLING_RATE: envNumber()
    .refine((v) => v > 0 && v <= 1, 'a number in (0, 1]')
    .default(1)
    .describe(
      'Share of non-clicks trained on (all clicks are); the database leaves the others out by a hash of the impression id (the same ones every run) and the model is re-calibrated by the rate. 1 = every row.',
    ),
  PROGRESS_INTERVAL_SECONDS: duration('positive', DAY_SECONDS)
    .default(10)
    .describe('How often training progress is logged.'),
  PROGRESS_EVERY_ROWS: envInt(1_000, 100_000_000)
    .default(10_000)
    .describe(
      'Training progress is also recorded (as MLflow metrics stepped by rows) after about this many rows, so short runs have a learning curve too.',
    ),
});

/**
 * Promotion gate thresholds. Defaults are set for the synthetic traffic and a linear model; a real
 * deployment tunes them after looking at a few weeks of runs.
 */
export const GateEnvSchema = z.object({
  GATE_MIN_AUC: fraction().default(0.6).describe('Candidate holdout AUC must be at least this.'),
  GATE_MAX_NE: positive().default(0.98).describe('Candidate normalized entropy must be at most this (1 = base rate).'),
  GATE_CALIBRATION_MIN: positive().default(0.8).describe('Σ predicted / Σ clicks on the holdout, lower bound.'),
  GATE_CALIBRATION_MAX: positive().default(1.2).describe('Σ predicted / Σ clicks on the holdout, upper bound.'),
  GATE_MIN_TRAIN_ROWS: envInt(0).default(10_000).describe('Minimum training impressions.'),
  GATE_MIN_TRAIN_CLICKS: envInt(0).default(100).describe('Minimum training clicks.'),
  GATE_MIN_HOLDOUT_ROWS: envInt(0).default(2_000).describe('Minimum holdout impressions.'),
  GATE_MIN_HOLDOUT_CLICKS: envInt(0)
    .default(15)
    .describe('Minimum holdout clicks: with k clicks calibration is known to about ±1/√k, AUC to about ±0.3/√k.'),
  GATE_MAX_BASE_RATE_SHIFT: nonNegative()
    .default(0.25)
    .describe('Maximum |holdout CTR − training CTR| / training CTR.'),
  GATE_MAX_LOGLOSS_INCREASE: fraction()
    .default(0.01)
    .describe(
      'Candidate logloss may exceed the champion’s (same rows) by at most max(this share of the champion’s logloss, 2 SE of the difference); 0.01 = 1 %.',
    ),
  GATE_MAX_AUC_DROP: nonNegative()
    .default(0.005)
    .describe('Candidate AUC may fall below the champion’s (same rows) by at most max(this, 2 SE of the difference).'),
});

/** The shadow challenger: where a gate PASS goes, and when a challenger replaces the champion. */
export const ChallengerEnvSchema = z.object({
  PROMOTE_VIA: z
    .enum(['champion', 'challenger'])
    .default('champion')
    .describe(
      'champion: a gate PASS becomes the champion at once. challenger: it gets the alias "challenger" (inference scores it in shadow with SHADOW_ALIAS=challenger) and `promote-challenger` makes it champion once its live shadow metrics are no worse. Without a champion yet, a PASS becomes champion either way.',
    ),
  SHADOW_MIN_HOURS: duration('nonNegative', 366 * 24)
    .default(24)
    .describe(
      'Hours of attributed shadow traffic (first to last paired impression) before `promote-challenger` decides; before that it waits.',
    ),
  SHADOW_WINDOW_HOURS: duration('positive', 366 * 24)
    .default(168)
    .describe(
      '`promote-challenger` reads the scores logged in this many hours before now minus the attribution window.',
    ),
  SHADOW_WINDOW_END: z.iso
    .datetime({ offset: true })
    .optional()
    .describe(
      'End of the live window `promote-challenger` reads (RFC 3339), at most now minus the attribution window; default: now minus the attribution window. For replays and tests.',
    ),
  SHADOW_MIN_IMPRESSIONS: envInt(1)
    .default(10_000)
    .describe('Fewest impressions scored by both champion and challenger (with final labels) to decide on.'),
  SHADOW_MIN_CLICKS: envInt(0).default(100).describe('Fewest clicks among those impressions to decide on.'),
  SHADOW_MAX_LOGLOSS_INCREASE: nonNegative()
    .default(0)
    .describe(
      'Challenger − champion live logloss on the same impressions may be at most max(this, 2 SE of the paired difference).',
    ),
  SHADOW_CALIBRATION_TOLERANCE: nonNegative()
    .default(0.05)
    .describe(
      'The challenger’s live |Σp/Σy − 1| may exceed the champion’s (or this, whichever is larger) by at most 2 SE.',
    ),
  K8S_CHALLENGER_ANNOTATION_KEY: z
    .string()
    .regex(/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, 'an annotation key')
    .default('fallback-ctr.io/challenger-version')
    .describe('Pod-template annotation naming the challenger: moving it rolls the pods so they load the new one.'),
});

/** Registry, schedule, rollout and logging. */
export const OpsEnvSchema = z.object({
  // MLflow's standard variables (URI, credentials, timeout, retries), read by libs/mlflow.
  ...MlflowEnvSchema.shape,
  MODEL_NAME: z.string().min(1).max(200).default('fallback-ctr').describe('Registered model name.'),
  MLFLOW_EXPERIMENT_NAME: z.string().min(1).optional().describe('Experiment for the runs; default: MODEL_NAME.'),
  SCHEDULE: cronExpression().default('0 3 * * *').describe('Cron expression of the `schedule` command.'),
  SCHEDULE_TIMEZONE: timeZone().default('UTC').describe('IANA time zone the cron expression is read in.'),
  ROLLOUT_MODE: z
    .enum(['kubernetes', 'none'])
    .default('none')
    .describe('kubernetes: patch the inference Deployment and wait; none: pods pick up the champion at start.'),
  K8S_NAMESPACE: dnsName().optional().describe('Namespace of the inference Deployment; default: the pod’s own.'),
  K8S_DEPLOYMENT: dnsName().default('fallback-ctr-inference').describe('Name of the inference Deployment.'),
  K8S_ANNOTATION_KEY: z
    .string()
    .regex(/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, 'an annotation key')
    .default('fallback-ctr.io/model-version')
    .describe('Pod-template annotation that names the model version being rolled out.'),
  ROLLOUT_TIMEOUT_SECONDS: duration('positive', DAY_SECONDS)
    .default(600)
    .describe('How long to wait for the rollout before rolling back.'),
  ROLLOUT_POLL_SECONDS: duration('positive', 600)
    .default(2)
    .describe('How often the Deployment status is read while waiting.'),
  MAX_ARTIFACT_BYTES: envInt(1024, 2 ** 31)
    .default(DEFAULT_MAX_ARTIFACT_BYTES)
    .describe(
      'Largest artifact the inference pods accept (set it to their MAX_ARTIFACT_BYTES): `rollback` refuses a larger target before moving anything.',
    ),
  LOCK_WAIT_SECONDS: duration('nonNegative', DAY_SECONDS)
    .default(0)
    .describe('How long `run` waits for another run’s lock; 0 = exit cleanly at once.'),
  LOG_LEVEL: logLevel().default('info').describe('pino log level.'),
});

/** Every environment variable the trainer reads (names are the keys), for manifests and docs. */
export const TrainerEnvSchema = z.object({
  ...DataEnvSchema.shape,
  ...ModelEnvSchema.shape,
  ...GateEnvSchema.shape,
  ...ChallengerEnvSchema.shape,
  ...OpsEnvSchema.shape,
});
export type TrainerEnv = z.output<typeof TrainerEnvSchema>;

export const GateThresholdsSchema = z.object({
  minAuc: z.number().min(0).max(1),
  maxNe: z.number().positive(),
  calibrationMin: z.number().positive(),
  calibrationMax: z.number().positive(),
  minTrainRows: z.number().int().min(0),
  minTrainClicks: z.number().int().min(0),
  minHoldoutRows: z.number().int().min(0),
  minHoldoutClicks: z.number().int().min(0),
  maxBaseRateShift: z.number().min(0),
  maxLoglossIncrease: z.number().min(0),
  maxAucDrop: z.number().min(0),
});
export type GateThresholds = z.infer<typeof GateThresholdsSchema>;

export const ChallengerSettingsSchema = z.object({
  promoteVia: z.enum(['champion', 'challenger']),
  minHours: z.number().min(0),
  windowHours: z.number().positive(),
  /** Fixed end of the live window, or undefined for "now minus the attribution window". */
  windowEnd: z.date().optional(),
  minImpressions: z.number().int().min(1),
  minClicks: z.number().int().min(0),
  maxLoglossIncrease: z.number().min(0),
  calibrationTolerance: z.number().min(0),
  annotationKey: z.string(),
});
export type ChallengerSettings = z.infer<typeof ChallengerSettingsSchema>;

/** The trainer's settings, typed from the schemas through `configFromEnv` (no second, hand-written shape). */
export type TrainerConfig = ReturnType<typeof configFromEnv>;

export interface LoadTrainerConfigOptions {
  /** The "now" a fixed TRAIN_WINDOW_END is checked against. */
  clock?: () => Date;
  /** false for commands that can do without the click-log database (`status`). Default true. */
  requireDatabase?: boolean;
}

/** The schema with DATABASE_URL optional, for commands that can do without the database. */
const TrainerEnvWithoutDatabaseSchema = TrainerEnvSchema.extend({
  DATABASE_URL: TrainerEnvSchema.shape.DATABASE_URL.optional(),
});

/**
 * The FTRL settings and passes a run starts from (the search may then choose α, λ1, λ2 and the passes),
 * from the model variables: the one mapping the trainer and the feature-insight analysis both read.
 */
export function trainingSettings(e: z.output<typeof ModelEnvSchema>) {
  return {
    ftrl: {
      alpha: e.FTRL_ALPHA ?? FTRL_DEFAULTS.alpha,
      beta: e.FTRL_BETA,
      l1: e.FTRL_L1 ?? FTRL_DEFAULTS.l1,
      l2: e.FTRL_L2 ?? FTRL_DEFAULTS.l2,
      missingRate: e.TRAIN_MISSING_RATE,
      rareRate: e.TRAIN_RARE_RATE,
      /** k of the vocabulary (0: none). */
      minValueCount: e.TRAIN_MIN_VALUE_COUNT,
      /** Share of non-clicks kept (1: all); the database drops the others from the run's training reads. */
      negativeSamplingRate: e.TRAIN_NEGATIVE_SAMPLING_RATE,
    },
    passes: e.TRAIN_PASSES ?? 1,
    /** The hyper-parameter search: on by default; an axis whose variable is set is pinned to it. */
    search: {
      enabled: e.TRAIN_SEARCH,
      /** Most training rows (the most recent) the search runs on. */
      maxRows: e.TRAIN_SEARCH_MAX_ROWS,
      /** Most training rows held in memory for the search and the refit. */
      maxRowsInMemory: e.TRAIN_MAX_ROWS_IN_MEMORY,
      /** Below these the validation slice cannot rank candidates: the defaults are kept (search-guard.ts). */
      minValidationRows: e.TRAIN_SEARCH_MIN_VALIDATION_ROWS,
      minValidationClicks: e.TRAIN_SEARCH_MIN_VALIDATION_CLICKS,
      pinned: {
        ...(e.FTRL_ALPHA === undefined ? {} : { alpha: e.FTRL_ALPHA }),
        ...(e.FTRL_L1 === undefined ? {} : { l1: e.FTRL_L1 }),
        ...(e.FTRL_L2 === undefined ? {} : { l2: e.FTRL_L2 }),
        ...(e.TRAIN_PASSES === undefined ? {} : { passes: e.TRAIN_PASSES }),
      },
    },
  };
}

/**
 * Reads and validates the environment; throws one ConfigError listing every bad variable, a
 * FEATURE_SPEC that is not a valid feature spec included.
 */
export function loadTrainerConfig(env: Env = process.env, options: LoadTrainerConfigOptions = {}): TrainerConfig {
  const { clock = () => new Date(), requireDatabase = true } = options;
  const base = requireDatabase ? TrainerEnvSchema : TrainerEnvWithoutDatabaseSchema;
  const schema = base.superRefine((e, ctx) => {
    // A later end would count impressions whose clicks have not arrived yet as unclicked.
    for (const key of ['TRAIN_WINDOW_END', 'SHADOW_WINDOW_END'] as const) {
      const end = e[key];
      if (end === undefined) continue;
      const latest = new Date(clock().getTime() - e.ATTRIBUTION_WINDOW_MINUTES * 60_000);
      if (Date.parse(end) > latest.getTime()) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `a time at or before ${latest.toISOString()} (now minus ATTRIBUTION_WINDOW_MINUTES): later impressions have no final labels yet`,
        });
      }
    }
    if (e.HOLDOUT_HOURS >= e.TRAIN_WINDOW_HOURS) {
      ctx.addIssue({ code: 'custom', path: ['HOLDOUT_HOURS'], message: 'a value < TRAIN_WINDOW_HOURS' });
    }
    if (e.GATE_CALIBRATION_MIN > e.GATE_CALIBRATION_MAX) {
      ctx.addIssue({ code: 'custom', path: ['GATE_CALIBRATION_MIN'], message: 'a value <= GATE_CALIBRATION_MAX' });
    }
  });
  return configFromEnv(parseEnv(schema, env), env);
}

/** The parsed variables as the trainer's settings, grouped by the stage that reads them. */
function configFromEnv(e: z.output<typeof TrainerEnvWithoutDatabaseSchema>, env: Env) {
  return {
    /** Unset only for commands that read nothing but MLflow (`status`); see requireDatabaseUrl. */
    databaseUrl: e.DATABASE_URL,
    clicklogSchema: e.CLICKLOG_SCHEMA,
    window: {
      trainWindowHours: e.TRAIN_WINDOW_HOURS,
      holdoutHours: e.HOLDOUT_HOURS,
      attributionWindowMinutes: e.ATTRIBUTION_WINDOW_MINUTES,
      /** Fixed window end, or undefined for "now minus the attribution window". */
      end: e.TRAIN_WINDOW_END === undefined ? undefined : new Date(e.TRAIN_WINDOW_END),
    },
    dataChecks: {
      minFieldCoverage: e.DATA_MIN_FIELD_COVERAGE,
      minRows: e.DATA_MIN_ROWS,
      maxLateClickShare: e.DATA_MAX_LATE_CLICK_SHARE,
    },
    /** Raw FEATURE_SPEC text (JSON or a path); resolved by resolveFeatureSpec. */
    featureSpecSource: e.FEATURE_SPEC,
    ...trainingSettings(e),
    progressIntervalMs: e.PROGRESS_INTERVAL_SECONDS * 1000,
    progressEveryRows: e.PROGRESS_EVERY_ROWS,
    gate: {
      minAuc: e.GATE_MIN_AUC,
      maxNe: e.GATE_MAX_NE,
      calibrationMin: e.GATE_CALIBRATION_MIN,
      calibrationMax: e.GATE_CALIBRATION_MAX,
      minTrainRows: e.GATE_MIN_TRAIN_ROWS,
      minTrainClicks: e.GATE_MIN_TRAIN_CLICKS,
      minHoldoutRows: e.GATE_MIN_HOLDOUT_ROWS,
      minHoldoutClicks: e.GATE_MIN_HOLDOUT_CLICKS,
      maxBaseRateShift: e.GATE_MAX_BASE_RATE_SHIFT,
      maxLoglossIncrease: e.GATE_MAX_LOGLOSS_INCREASE,
      maxAucDrop: e.GATE_MAX_AUC_DROP,
    },
    challenger: {
      promoteVia: e.PROMOTE_VIA,
      minHours: e.SHADOW_MIN_HOURS,
      windowHours: e.SHADOW_WINDOW_HOURS,
      windowEnd: e.SHADOW_WINDOW_END === undefined ? undefined : new Date(e.SHADOW_WINDOW_END),
      minImpressions: e.SHADOW_MIN_IMPRESSIONS,
      minClicks: e.SHADOW_MIN_CLICKS,
      maxLoglossIncrease: e.SHADOW_MAX_LOGLOSS_INCREASE,
      calibrationTolerance: e.SHADOW_CALIBRATION_TOLERANCE,
      annotationKey: e.K8S_CHALLENGER_ANNOTATION_KEY,
    },
    mlflow: {
      modelName: e.MODEL_NAME,
      experimentName: e.MLFLOW_EXPERIMENT_NAME ?? e.MODEL_NAME,
      /** Client options from MLflow's standard variables (credentials, timeout, retries). */
      clientOptions: optionsFromEnv(env),
    },
    schedule: { cron: e.SCHEDULE, timeZone: e.SCHEDULE_TIMEZONE },
    rollout: {
      mode: e.ROLLOUT_MODE,
      namespace: e.K8S_NAMESPACE,
      deployment: e.K8S_DEPLOYMENT,
      annotationKey: e.K8S_ANNOTATION_KEY,
      timeoutMs: e.ROLLOUT_TIMEOUT_SECONDS * 1000,
      pollMs: e.ROLLOUT_POLL_SECONDS * 1000,
    },
    maxArtifactBytes: e.MAX_ARTIFACT_BYTES,
    lockWaitMs: e.LOCK_WAIT_SECONDS * 1000,
    logLevel: e.LOG_LEVEL,
  };
}

/** DATABASE_URL, for the code that needs it; the CLI has already refused commands that need it without it. */
export function requireDatabaseUrl(config: Pick<TrainerConfig, 'databaseUrl'>): string {
  if (config.databaseUrl === undefined)
    throw new ConfigError([{ variable: 'DATABASE_URL', expected: 'a string (required)', received: '(missing)' }]);
  return config.databaseUrl;
}

/** The variable names, e.g. for checking a Kubernetes manifest's env against them. */
export const TRAINER_ENV_NAMES: readonly string[] = Object.keys(TrainerEnvSchema.shape);
