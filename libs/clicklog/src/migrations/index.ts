import type { SqlMigration as Migration } from '@fallback-ctr/runtime';
import { createLogTables } from './0001-create-log-tables.js';

/** Every migration, in the order they apply. Append only. */
export const MIGRATIONS: readonly Migration[] = [createLogTables];
