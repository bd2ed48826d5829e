import { z } from 'zod';
import { ModelMetaSchema } from './model-meta.js';

/** Messages between the cluster primary and its workers (validated on receipt: IPC is a boundary too). */
export const ToWorkerSchema = z.discriminatedUnion('type', [
  /** The verified artifact is at `path` (a file only the pod can read). */
  z.object({ type: z.literal('fctr:model'), path: z.string().min(1), meta: ModelMetaSchema }),
  z.object({ type: z.literal('fctr:shutdown') }),
  z.object({ type: z.literal('fctr:metrics'), id: z.number().int(), text: z.string(), error: z.string().optional() }),
]);
export type ToWorker = z.infer<typeof ToWorkerSchema>;

export const ToPrimarySchema = z.discriminatedUnion('type', [
  /** Sent once the worker listens: the primary answers with the model as soon as it has one. */
  z.object({ type: z.literal('fctr:want-model') }),
  z.object({ type: z.literal('fctr:metrics-request'), id: z.number().int() }),
]);
export type ToPrimary = z.infer<typeof ToPrimarySchema>;
