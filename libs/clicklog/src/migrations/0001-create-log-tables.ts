import type { SqlMigration as Migration } from '@fallback-ctr/runtime';

/** The ad server's two logs plus the synthetic-only truth table. */
export const createLogTables: Migration = {
  name: '0001_create_log_tables',
  sql: (s) => `
CREATE TABLE ${s}.impressions (
  id            text PRIMARY KEY,
  served_at     timestamptz NOT NULL,
  slot_id       text,
  placement     text,
  ad_id         text,
  campaign_id   text,
  advertiser_id text,
  device_type   text,
  os            text,
  country       text,
  context       jsonb NOT NULL DEFAULT '{}'::jsonb
);
-- A time-window scan in served_at order walks this index; id breaks ties for a stable order.
CREATE INDEX impressions_served_at_id_idx ON ${s}.impressions (served_at, id);

-- No foreign key: clicks are a separate log and may arrive before or without their impression row.
CREATE TABLE ${s}.clicks (
  impression_id text NOT NULL,
  clicked_at    timestamptz NOT NULL
);
CREATE INDEX clicks_impression_id_clicked_at_idx ON ${s}.clicks (impression_id, clicked_at);

CREATE TABLE ${s}.truth (
  impression_id text PRIMARY KEY,
  true_ctr      double precision NOT NULL CHECK (true_ctr >= 0 AND true_ctr <= 1)
);
COMMENT ON TABLE ${s}.truth IS 'Synthetic data only: the generator''s true click probability per impression';
`,
};
