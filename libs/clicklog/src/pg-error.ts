import { errorMessage } from '@fallback-ctr/runtime';
import { ClicklogError, ClicklogErrorCode } from './errors.js';

const UNDEFINED_TABLE = '42P01';
const INVALID_SCHEMA = '3F000';

function pgCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

const UNIQUE_VIOLATION = '23505';

/** A unique violation on the impressions table (an id already there), wherever COPY wrapped it. */
export function isDuplicateImpression(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    if (pgCode(current) === UNIQUE_VIOLATION && 'table' in current && current.table === 'impressions') return true;
    current = 'cause' in current ? current.cause : undefined;
  }
  return false;
}

export function isMissingRelation(error: unknown): boolean {
  const code = pgCode(error);
  return code === UNDEFINED_TABLE || code === INVALID_SCHEMA;
}

export function missingSchemaError(schema: string, error: unknown): ClicklogError {
  return new ClicklogError(
    ClicklogErrorCode.SCHEMA_MISSING,
    `The click-log tables of schema "${schema}" are missing (${errorMessage(error)}): run the clicklog migrations first (migrate() or \`clicklog migrate --schema ${schema}\`)`,
    { cause: error },
  );
}

export function writeError(error: unknown, schema: string, what: string): ClicklogError {
  if (isMissingRelation(error)) return missingSchemaError(schema, error);
  return new ClicklogError(
    ClicklogErrorCode.WRITE_FAILED,
    `Writing ${what} into schema "${schema}" failed, nothing was written: ${errorMessage(error)}`,
    { cause: error },
  );
}
