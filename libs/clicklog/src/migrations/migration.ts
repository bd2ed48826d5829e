/** One forward-only migration: SQL for a given (already validated, unquoted-safe) schema name. */
export interface Migration {
  /** Sortable, unique, never renamed once released. */
  name: string;
  sql(schema: string): string;
}
