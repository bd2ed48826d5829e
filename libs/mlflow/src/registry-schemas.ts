import { z } from 'zod';
import { Int64Schema, repeated, TagListSchema } from './tracking-schemas.js';

export const ModelVersionStatusSchema = z.enum(['PENDING_REGISTRATION', 'FAILED_REGISTRATION', 'READY']);
export type ModelVersionStatus = z.output<typeof ModelVersionStatusSchema>;

export const ModelVersionSchema = z
  .object({
    name: z.string(),
    version: z.union([z.string(), z.number()]).transform((v) => String(v)),
    creation_timestamp: Int64Schema.optional(),
    last_updated_timestamp: Int64Schema.optional(),
    description: z.string().optional(),
    source: z.string().optional(),
    run_id: z.string().optional(),
    status: ModelVersionStatusSchema.optional(),
    status_message: z.string().optional(),
    tags: TagListSchema,
    aliases: z.array(z.string()).optional(),
  })
  .transform((v) => ({
    name: v.name,
    /** A string, as MLflow sends it ("1", "2", …). */
    version: v.version,
    creationTimestamp: v.creation_timestamp,
    lastUpdatedTimestamp: v.last_updated_timestamp,
    description: v.description ?? '',
    source: v.source ?? '',
    runId: v.run_id ?? '',
    status: v.status ?? 'READY',
    statusMessage: v.status_message,
    tags: v.tags,
    /** Reliable from get / get-by-alias only: search results may omit aliases. */
    aliases: v.aliases ?? [],
  }));
export type ModelVersion = z.output<typeof ModelVersionSchema>;

export const RegisteredModelSchema = z
  .object({
    name: z.string(),
    creation_timestamp: Int64Schema.optional(),
    last_updated_timestamp: Int64Schema.optional(),
    description: z.string().optional(),
    tags: TagListSchema,
    aliases: z
      .array(z.object({ alias: z.string(), version: z.union([z.string(), z.number()]).transform((v) => String(v)) }))
      .optional(),
    latest_versions: z.array(ModelVersionSchema).optional(),
  })
  .transform((m) => ({
    name: m.name,
    creationTimestamp: m.creation_timestamp,
    lastUpdatedTimestamp: m.last_updated_timestamp,
    description: m.description ?? '',
    tags: m.tags,
    /** alias → version */
    aliases: Object.fromEntries((m.aliases ?? []).map((a) => [a.alias, a.version])) as Record<string, string>,
    latestVersions: m.latest_versions ?? [],
  }));
export type RegisteredModel = z.output<typeof RegisteredModelSchema>;

export const RegisteredModelResponseSchema = z.object({ registered_model: RegisteredModelSchema });
export const ModelVersionResponseSchema = z.object({ model_version: ModelVersionSchema });
export const SearchModelVersionsResponseSchema = z.object({
  model_versions: repeated(ModelVersionSchema),
  next_page_token: z.string().optional(),
});
export const DownloadUriResponseSchema = z.object({ artifact_uri: z.string() });
