import { envInt } from '@fallback-ctr/runtime';
import { z } from 'zod';

export const DemoEnvSchema = z.object({
  DATABASE_URL: z.string().min(1).optional().describe('Use this PostgreSQL instead of the embedded one.'),
  MLFLOW_TRACKING_URI: z.url().optional().describe('Use this MLflow instead of starting one on SQLite.'),
  DEMO_IMPRESSIONS_PER_DAY: envInt(1000, 10_000_000).default(60_000).describe('Synthetic impressions per day.'),
  DEMO_SEED: z.string().min(1).default('demo').describe('Seed of the synthetic traffic.'),
  DEMO_MODEL_NAME: z.string().min(1).default('fallback-ctr').describe('Registered model name.'),
  DEMO_INFERENCE_PORT: envInt(0, 65_535).default(8080).describe('Port of the inference API (0: any free port).'),
  DEMO_DATA_DIR: z
    .string()
    .min(1)
    .default('.data/demo')
    .describe('Where the demo keeps its MLflow data (relative to the checkout); emptied at each start.'),
  DEMO_EXIT: z
    .enum(['true', 'false'])
    .default('false')
    .describe('true: stop everything at the end instead of waiting for Ctrl-C.'),
});
