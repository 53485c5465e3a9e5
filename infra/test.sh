#!/usr/bin/env bash
# `npm test`: everything a fresh Debian machine with Node >= 20 and npm needs to run every test, then the tests.
#   pnpm + dependencies (bootstrap.sh) → Redis, InfluxDB 1.6.7, VictoriaMetrics on loopback (services.sh,
#   test profile) → lint → typecheck → unit and integration tests against those real servers.
# The servers are left running for the next run; stop them with `bash infra/services.sh down --profile test`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"

# shellcheck source=infra/bootstrap.sh
source infra/bootstrap.sh
set -a
eval "$(bash infra/services.sh up --profile test)"
set +a

step() { printf '\n== %s\n' "$*" >&2; }
step 'lint' && pnpm run --silent lint
step 'typecheck' && pnpm run --silent typecheck

step 'unit and integration tests'
mkdir -p .data
report=.data/vitest-report.json
status=0
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# Vitest's summary is not a format CI reads; this closing line is.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' "$report" || echo "0 passed, 1 failed"
exit "$status"
