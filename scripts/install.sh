#!/usr/bin/env bash
# Installs the project's own dependencies when they are missing or stale: npm packages (npm ci,
# from the committed lock file) and the pinned Python virtualenv (.venv) with MLflow. Idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

lock_stamp="node_modules/.fallback-ctr-lock.sha256"
want=$(sha256sum package-lock.json | cut -c1-64)
if [ ! -f "$lock_stamp" ] || [ "$(cat "$lock_stamp")" != "$want" ]; then
  echo "[install] npm ci (package-lock.json changed or node_modules missing)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$lock_stamp"
else
  echo "[install] node_modules up to date"
fi

bash scripts/services.sh venv
