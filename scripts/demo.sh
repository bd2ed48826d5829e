#!/usr/bin/env bash
# The whole fallback-ctr lifecycle, end to end, on embedded defaults (see README, Quick start):
# embedded PostgreSQL (PGlite) unless DATABASE_URL is set, MLflow on SQLite unless MLFLOW_TRACKING_URI
# is set, synthetic click logs, two trainer runs, and the inference API serving the champion.
# Pass --exit to stop everything at the end instead of waiting for Ctrl-C.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/install.sh
exec node --conditions=source --import tsx scripts/demo/demo.ts "$@"
