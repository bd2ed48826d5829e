import { z } from 'zod';

/** Registry facts about the served model; also the IPC message body from the cluster primary. */
export const ModelMetaSchema = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  resolvedFrom: z.string(),
  runId: z.string(),
  tags: z.record(z.string(), z.string()),
  loadedAt: z.iso.datetime({ offset: true }),
  /** sha256 of the verified artifact; a worker re-checks the handed-over bytes against it. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ModelMeta = z.infer<typeof ModelMetaSchema>;
