import { expect } from 'vitest';
import { MlflowError } from '../../src/index.js';

/** The MlflowError `call` rejects with; fails the test when it resolves or rejects with anything else. */
export async function mlflowRejection(call: Promise<unknown>): Promise<MlflowError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MlflowError);
  return error as MlflowError;
}
