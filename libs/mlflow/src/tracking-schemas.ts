import { z } from 'zod';

/** int64 fields arrive as JSON numbers from MLflow's server; a string form is accepted too. */
export const Int64Schema = z.union([z.number(), z.string().regex(/^-?\d+$/)]).transform((v) => Number(v));

/** A repeated field: MLflow's JSON leaves it out when it is empty (proto3), so an absent one reads as []. */
export const repeated = <Item extends z.ZodType>(item: Item) =>
  z
    .array(item)
    .optional()
    .transform((list) => list ?? []);

const KeyValueSchema = z.object({ key: z.string(), value: z.string().default('') });

/** `[{key, value}]` on the wire → `{ key: value }` for callers. */
export const TagListSchema = repeated(KeyValueSchema).transform(
  (list) => Object.fromEntries(list.map((t) => [t.key, t.value])) as Record<string, string>,
);

export const ExperimentSchema = z
  .object({
    experiment_id: z.string(),
    name: z.string(),
    artifact_location: z.string().optional(),
    lifecycle_stage: z.string().optional(),
    creation_time: Int64Schema.optional(),
    last_update_time: Int64Schema.optional(),
    tags: TagListSchema,
  })
  .transform((e) => ({
    experimentId: e.experiment_id,
    name: e.name,
    artifactLocation: e.artifact_location,
    lifecycleStage: e.lifecycle_stage,
    creationTime: e.creation_time,
    lastUpdateTime: e.last_update_time,
    tags: e.tags,
  }));
export type Experiment = z.output<typeof ExperimentSchema>;

export const RunStatusSchema = z.enum(['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED']);
export type RunStatus = z.output<typeof RunStatusSchema>;
/** Statuses a run can be finished with. */
export type TerminalRunStatus = Extract<RunStatus, 'FINISHED' | 'FAILED' | 'KILLED'>;

export const RunInfoSchema = z
  .object({
    run_id: z.string(),
    experiment_id: z.string(),
    run_name: z.string().optional(),
    user_id: z.string().optional(),
    status: RunStatusSchema,
    start_time: Int64Schema.optional(),
    end_time: Int64Schema.optional(),
    artifact_uri: z.string(),
    lifecycle_stage: z.string().optional(),
  })
  .transform((i) => ({
    runId: i.run_id,
    experimentId: i.experiment_id,
    runName: i.run_name,
    userId: i.user_id,
    status: i.status,
    startTime: i.start_time,
    endTime: i.end_time,
    artifactUri: i.artifact_uri,
    lifecycleStage: i.lifecycle_stage,
  }));
export type RunInfo = z.output<typeof RunInfoSchema>;

export const MetricSchema = z
  .object({
    key: z.string(),
    value: z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]).transform((v) => Number(v)),
    timestamp: Int64Schema.optional(),
    step: Int64Schema.optional(),
  })
  .transform((m) => ({ key: m.key, value: m.value, timestamp: m.timestamp ?? 0, step: m.step ?? 0 }));
export type Metric = z.output<typeof MetricSchema>;

export const RunDataSchema = z
  .object({
    metrics: z.array(MetricSchema).optional(),
    params: TagListSchema,
    tags: TagListSchema,
  })
  .transform((d) => ({
    /** Latest value of each metric, as MLflow reports it on a run. */
    metrics: Object.fromEntries((d.metrics ?? []).map((m) => [m.key, m.value])) as Record<string, number>,
    params: d.params,
    tags: d.tags,
  }));
export type RunData = z.output<typeof RunDataSchema>;

export const RunSchema = z.object({
  info: RunInfoSchema,
  data: RunDataSchema.optional().transform((d) => d ?? { metrics: {}, params: {}, tags: {} }),
});
export type Run = z.output<typeof RunSchema>;

export const GetExperimentResponseSchema = z.object({ experiment: ExperimentSchema });
export const CreateExperimentResponseSchema = z.object({ experiment_id: z.string() });
export const RunResponseSchema = z.object({ run: RunSchema });
export const UpdateRunResponseSchema = z.object({ run_info: RunInfoSchema });
export const EmptyResponseSchema = z.object({}).loose();

export const MetricHistoryResponseSchema = z.object({
  metrics: repeated(MetricSchema),
  next_page_token: z.string().optional(),
});
