import { createLogTables } from './0001-create-log-tables.js';
import type { Migration } from './migration.js';

/** Every migration, in the order they apply. Append only. */
export const MIGRATIONS: readonly Migration[] = [createLogTables];
