import { z } from 'zod';

/** A Postgres schema name: a lower-case identifier, so it never needs quoting and cannot inject SQL. */
export const SchemaNameSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case Postgres identifier: [a-z_][a-z0-9_]{0,62}');

/**
 * `schema`, or `fallback` when it is unset, checked against SchemaNameSchema; when it fails, throws
 * what `invalid` makes of a message naming the bad value (each package its own error code).
 */
export function checkedSchemaName(
  schema: string | undefined,
  fallback: string,
  invalid: (message: string) => Error,
): string {
  const parsed = SchemaNameSchema.safeParse(schema ?? fallback);
  if (!parsed.success) {
    throw invalid(
      `Invalid schema name ${JSON.stringify(schema)}: expected ${parsed.error.issues[0]?.message ?? 'a lower-case identifier'}`,
    );
  }
  return parsed.data;
}
