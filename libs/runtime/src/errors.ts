/** Stable error codes of @fallback-ctr/runtime. The README's troubleshooting section lists them. */
export const RuntimeErrorCode = {
  CONFIG_INVALID: 'FCTR_CONFIG_INVALID',
  RETRY_EXHAUSTED: 'FCTR_RETRY_EXHAUSTED',
  RETRY_DEADLINE: 'FCTR_RETRY_DEADLINE',
  ABORTED: 'FCTR_ABORTED',
  SHUTDOWN_TIMEOUT: 'FCTR_SHUTDOWN_TIMEOUT',
  SHUTDOWN_STARTED: 'FCTR_SHUTDOWN_STARTED',
} as const;
export type RuntimeErrorCode = ErrorCodeOf<typeof RuntimeErrorCode>;

/** The union of a package's code strings, from its `as const` code table. */
export type ErrorCodeOf<Table extends Record<string, string>> = Table[keyof Table];

/** Base class: every fallback-ctr error carries a stable `code` a person or a program can act on. */
export class FallbackCtrError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A package's error class in one line: `class ModelError extends PackageError<ModelErrorCode> {}`.
 * Its `code` is typed as one of that package's codes; `name` is the subclass's name.
 */
export class PackageError<Code extends string> extends FallbackCtrError {
  declare readonly code: Code;
  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export interface ConfigIssue {
  /** The environment variable at fault. */
  variable: string;
  /** What was expected, in words. */
  expected: string;
  /** What was received, or "(missing)"; never the value of a secret. */
  received: string;
}

export class ConfigError extends FallbackCtrError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    const lines = issues.map((i) => `  - ${i.variable}: expected ${i.expected}, got ${i.received}`);
    super(
      RuntimeErrorCode.CONFIG_INVALID,
      `Invalid configuration: ${issues.length} environment variable${issues.length === 1 ? '' : 's'} to fix:\n${lines.join('\n')}`,
    );
    this.issues = issues;
  }
}

export class RetryError extends FallbackCtrError {
  readonly attempts: number;
  constructor(code: RuntimeErrorCode, message: string, attempts: number, cause: unknown) {
    super(code, message, { cause });
    this.attempts = attempts;
  }
}

export class AbortedError extends FallbackCtrError {
  constructor(what: string, cause?: unknown) {
    super(RuntimeErrorCode.ABORTED, `${what} was aborted`, { cause });
  }
}
