import { z } from 'zod';
import { ModelMetaSchema } from './model-meta.js';

/** Messages between the cluster primary and its workers (validated on receipt: IPC is a boundary too). */
export const ToWorkerSchema = z.discriminatedUnion('type', [
  /** The verified artifact is at `path` (a file only the pod can read). */
  z.object({ type: z.literal('fctr:model'), path: z.string().min(1), meta: ModelMetaSchema }),
  /** The challenger to score in shadow, verified like the model; never served. */
  z.object({ type: z.literal('fctr:shadow-model'), path: z.string().min(1), meta: ModelMetaSchema }),
  /** The primary is still fetching the model: listen now (live, not ready), the model follows. */
  z.object({ type: z.literal('fctr:no-model-yet') }),
  z.object({ type: z.literal('fctr:shutdown') }),
  z.object({ type: z.literal('fctr:metrics'), id: z.number().int(), text: z.string(), error: z.string().optional() }),
]);
export type ToWorker = z.infer<typeof ToWorkerSchema>;

export const ToPrimarySchema = z.discriminatedUnion('type', [
  /** Sent first, before listening: the primary answers with the model or with "no model yet". */
  z.object({ type: z.literal('fctr:want-model') }),
  /** The worker could not load the hand-off; it exits next. */
  z.object({ type: z.literal('fctr:handoff-failed'), message: z.string() }),
  z.object({ type: z.literal('fctr:metrics-request'), id: z.number().int() }),
]);
export type ToPrimary = z.infer<typeof ToPrimarySchema>;
