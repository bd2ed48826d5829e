import { type ErrorCodeOf, PackageError } from '@fallback-ctr/runtime';

/** Stable error codes of @fallback-ctr/learn. The README's troubleshooting section lists them. */
export const LearnErrorCode = {
  /** Training options failed validation (negative α, w outside (0, 1], ...). */
  OPTIONS_INVALID: 'LEARN_OPTIONS_INVALID',
  /** A training row or batch is inconsistent (label not 0/1, index outside the hash space, width mismatch). */
  INPUT_INVALID: 'LEARN_INPUT_INVALID',
  /** Several passes were asked of a one-shot stream; pass a function that opens the stream anew. */
  SOURCE_NOT_REPEATABLE: 'LEARN_SOURCE_NOT_REPEATABLE',
  /** Metrics were given a prediction outside [0, 1] (or NaN), a bad label, or arrays of different lengths. */
  METRICS_INPUT_INVALID: 'LEARN_METRICS_INPUT_INVALID',
} as const;
export type LearnErrorCode = ErrorCodeOf<typeof LearnErrorCode>;

export class LearnError extends PackageError<LearnErrorCode> {}

/** The LEARN_OPTIONS_INVALID error for parseOrThrow: "Invalid <what> options:" and every issue. */
export function invalidOptions(what: string): (issues: string, cause: unknown) => LearnError {
  return (issues, cause) =>
    new LearnError(LearnErrorCode.OPTIONS_INVALID, `Invalid ${what} options:\n${issues}`, { cause });
}
