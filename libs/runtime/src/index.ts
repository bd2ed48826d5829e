export {
  type Env,
  envBoolean,
  envInt,
  envList,
  envNumber,
  envUrl,
  isSecretName,
  logLevel,
  parseEnv,
  redactUrlPassword,
} from './config.js';
export { errorCode, errorMessage } from './error-message.js';
export {
  AbortedError,
  ConfigError,
  type ConfigIssue,
  type ErrorCodeOf,
  FallbackCtrError,
  PackageError,
  RetryError,
  RuntimeErrorCode,
} from './errors.js';
export { type CreateLoggerOptions, createLogger, type Logger, REDACT_PATHS, silentLogger } from './logger.js';
export { parseOrThrow } from './parse-or-throw.js';
export { checkedSchemaName, SchemaNameSchema } from './postgres-schema.js';
export { raceTimer } from './race-timer.js';
export { type AttemptContext, backoffDelay, type RetryOptions, retry } from './retry.js';
export { type Closer, createShutdown, type Shutdown, type ShutdownOptions } from './shutdown.js';
export { runSqlMigrations, type SqlClient, type SqlMigration, type SqlMigrationRun } from './sql-migrations.js';
