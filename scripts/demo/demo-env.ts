import { envInt } from '@fallback-ctr/runtime';
import { z } from 'zod';

export const DemoEnvSchema = z.object({
  DATABASE_URL: z.string().min(1).optional().describe('Use this PostgreSQL instead of the embedded one.'),
  MLFLOW_TRACKING_URI: z.url().optional().describe('Use this MLflow instead of starting one on SQLite.'),
  DEMO_IMPRESSIONS_PER_DAY: envInt(1000, 10_000_000).default(60_000).describe('Synthetic impressions per day.'),
  DEMO_SEED: z.string().min(1).default('demo').describe('Seed of the synthetic traffic.'),
  DEMO_MODEL_NAME: z.string().min(1).default('fallback-ctr').describe('Registered model name.'),
  DEMO_INFERENCE_PORT: envInt(0, 65_535)
    .optional()
    .describe(
      'Port of the inference API; unset: 8080 if free, else any free port; 0: any free port. A port set here that is taken stops the demo before it starts.',
    ),
  DEMO_DATA_DIR: z
    .string()
    .min(1)
    .default('.data/demo')
    .describe('Where the demo keeps its MLflow data (relative to the checkout); emptied at each start.'),
  DEMO_LOG_FORMAT: z
    .enum(['pretty', 'json'])
    .optional()
    .describe(
      'pretty: one short line per log line (JSON kept in the data dir); json: pino JSON as is. Default: pretty on a terminal, else json.',
    ),
  DEMO_EXIT: z
    .enum(['true', 'false'])
    .default('false')
    .describe('true: stop everything at the end instead of waiting for Ctrl-C.'),
});

/**
 * What the person asked for: --exit (or DEMO_EXIT=true) stops everything at the end; log lines are
 * readable on a terminal and JSON when the output is not one (a pipe, a file, CI), unless DEMO_LOG_FORMAT says.
 */
export function demoOptions(
  env: Pick<z.infer<typeof DemoEnvSchema>, 'DEMO_EXIT' | 'DEMO_LOG_FORMAT'>,
  args: readonly string[],
  stdoutIsTTY: boolean,
): { exitAtEnd: boolean; format: 'pretty' | 'json' } {
  return {
    exitAtEnd: env.DEMO_EXIT === 'true' || args.includes('--exit'),
    format: env.DEMO_LOG_FORMAT ?? (stdoutIsTTY ? 'pretty' : 'json'),
  };
}
