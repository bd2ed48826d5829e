#!/usr/bin/env bash
# The one test command: installs what a fresh machine lacks, starts the real PostgreSQL and MLflow
# (scripts/services.sh, idempotent), then runs lint, typecheck and every test, and prints the counts.
# Extra arguments go to vitest, e.g. `scripts/test.sh libs/model`.
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

step "lint"
npx biome check .

step "typecheck"
npx tsc -p tsconfig.json --noEmit

step "tests"
report="$ROOT/.data/vitest-report.json"
mkdir -p "$ROOT/.data"
rm -f "$report"
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
if [ -f "$report" ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const skipped = r.numPendingTests + (r.numTodoTests ?? 0);
    console.log(`\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
  ' "$report"
fi
exit "$status"
