import { type ErrorCodeOf, PackageError } from '@fallback-ctr/runtime';

/** Stable error codes of @fallback-ctr/inference. The README's troubleshooting section lists them. */
export const InferenceErrorCode = {
  /** The request body, headers or content type were wrong (a 4xx; `issues` says where). */
  INVALID_REQUEST: 'INFERENCE_INVALID_REQUEST',
  /** Missing or wrong bearer token on /predict. */
  UNAUTHORIZED: 'INFERENCE_UNAUTHORIZED',
  /** No model is loaded yet, or the server is draining: try another replica. */
  NOT_READY: 'INFERENCE_NOT_READY',
  /** A fault of the server itself; never caused by what a client sent. */
  INTERNAL: 'INFERENCE_INTERNAL',
  /** MLflow stayed unreachable (or kept failing) until the start-up deadline: the pod exits to be restarted. */
  MODEL_LOAD_DEADLINE: 'INFERENCE_MODEL_LOAD_DEADLINE',
  /** The alias or pinned version does not exist in the registry: a configuration or promotion problem. */
  MODEL_NOT_FOUND: 'INFERENCE_MODEL_NOT_FOUND',
  /** The downloaded artifact failed verification (sha256, format version, shape): it is never served. */
  ARTIFACT_REJECTED: 'INFERENCE_ARTIFACT_REJECTED',
  /** A cluster worker could not read the artifact the primary handed over. */
  HANDOFF_FAILED: 'INFERENCE_HANDOFF_FAILED',
} as const;
export type InferenceErrorCode = ErrorCodeOf<typeof InferenceErrorCode>;

export class InferenceError extends PackageError<InferenceErrorCode> {}
