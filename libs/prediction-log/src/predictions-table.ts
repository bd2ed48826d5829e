import type { SqlMigration } from '@fallback-ctr/runtime';
/** Who a logged score was for: `served` went back to the ad server, `shadow` was scored and never returned. */
export const PREDICTION_ROLES = ['served', 'shadow'] as const;
export type PredictionRole = (typeof PREDICTION_ROLES)[number];

/** Every migration of the predictions log, in the order they apply. Append only. */
export const PREDICTION_LOG_MIGRATIONS: readonly SqlMigration[] = [
  {
    name: '0001_create_predictions',
    sql: (s) => `
-- No foreign key to impressions: the inference API logs at request time, the ad server's impression
-- row may come later or never (the fallback's answer was not used). The reader joins on id.
CREATE TABLE ${s}.predictions (
  impression_id text NOT NULL,
  model_name    text NOT NULL,
  model_version text NOT NULL,
  role          text NOT NULL CHECK (role IN (${PREDICTION_ROLES.map((r) => `'${r}'`).join(', ')})),
  score         double precision NOT NULL CHECK (score >= 0 AND score <= 1),
  served_at     timestamptz NOT NULL
);
-- The monitor reads an hour range of one model in time order.
CREATE INDEX predictions_served_at_idx ON ${s}.predictions (served_at);
CREATE INDEX predictions_impression_id_idx ON ${s}.predictions (impression_id);
`,
  },
];

/** Binary: the writer sends the columns' own types (copy-binary-chunk.ts encodes them, in this order). */
export const PREDICTIONS_COPY_SQL = (schema: string) =>
  `COPY ${schema}.predictions (impression_id, model_name, model_version, role, score, served_at) FROM STDIN (FORMAT binary)`;
