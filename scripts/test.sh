#!/usr/bin/env bash
# The one test command: installs what a fresh machine lacks, starts the real PostgreSQL and MLflow
# (scripts/services.sh, idempotent) and the local Kubernetes control plane (scripts/cluster.sh:
# built from source on first use, ≈ 15 min on 2 idle cores, then cached), then runs lint, typecheck
# and every test, and prints the counts. Extra arguments go to vitest, e.g. `scripts/test.sh libs/model`.
# The cluster tests (*.cluster.test.ts, vitest project "cluster") are skipped, with a notice, only
# when no control plane is running or cached and there is no Go >= 1.26 to build one, or when
# FALLBACK_CTR_SKIP_CLUSTER=1. The Prometheus Pushgateway (scripts/pushgateway.sh) is built the same way,
# and the one check that needs it is skipped, with a notice, only when there is no Go to build it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

step() { printf '\n== %s ==\n' "$*"; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 20 ] || { echo "Node.js >= 20 is required (found: $(node --version 2>/dev/null || echo none))" >&2; exit 1; }

step "dependencies"
bash scripts/install.sh

step "services"
bash scripts/services.sh up

step "cluster"
# The cluster tests need the local control plane: a running one is used, a cached one started, a
# missing one built first (≈ 15 min on 2 idle cores, once). Without Go >= 1.26 to build it they are
# skipped, and this says so.
project_args=()
skip_cluster() {
  echo "SKIPPING the cluster tests (*.cluster.test.ts, vitest project \"cluster\"): $*"
  project_args=(--project unit)
}
if [ "${FALLBACK_CTR_SKIP_CLUSTER:-0}" = "1" ]; then
  skip_cluster "FALLBACK_CTR_SKIP_CLUSTER=1"
elif bash scripts/cluster.sh running; then
  echo "control plane already running: the cluster tests use it"
elif bash scripts/cluster.sh buildable; then
  if [ $# -eq 0 ]; then
    bash scripts/cluster.sh up
    trap 'bash "$ROOT/scripts/cluster.sh" down' EXIT
  fi
else
  skip_cluster "no control plane running or cached, and no Go >= 1.26 to build one (https://go.dev/dl/; then scripts/cluster.sh up)"
fi

step "pushgateway"
# The monitor's end-to-end test pushes to a real Prometheus Pushgateway built from source (Go module
# proxy, cached; ≈ 30 CPU-seconds once). Without Go to build it, that one check is skipped, and this says so.
if bash scripts/pushgateway.sh buildable; then
  bash scripts/pushgateway.sh build
  echo "Pushgateway: $(bash scripts/pushgateway.sh path)"
else
  echo "SKIPPING the real-Pushgateway check of the monitor's e2e test: none cached and no Go >= 1.26 to build one (https://go.dev/dl/)"
fi

step "lint"
npx biome check .

step "typecheck"
npx tsc -p tsconfig.json --noEmit

step "tests"
report="$ROOT/.data/vitest-report.json"
mkdir -p "$ROOT/.data"
rm -f "$report"
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "${project_args[@]}" "$@" || status=$?
if [ -f "$report" ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const skipped = r.numPendingTests + (r.numTodoTests ?? 0);
    console.log(`\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
  ' "$report"
fi
exit "$status"
