-- Runs once, when the compose Postgres volume is first initialised: MLflow's backend store lives
-- in its own database next to the click logs (fallback_ctr, created from POSTGRES_DB).
CREATE DATABASE mlflow;
