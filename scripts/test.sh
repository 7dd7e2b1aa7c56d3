#!/usr/bin/env bash
# The whole suite, as CI runs it: install, types, lint, unit + integration (vitest, real HTTP/SQLite/
# Redis), then the console in real Chromium (Playwright). Prints one "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh || exit 1

# Reports live outside test-results/, which Playwright empties when it starts.
mkdir -p reports
failed_steps=()
step() {
  local name=$1; shift
  echo "=== $name"
  if ! "$@"; then failed_steps+=("$name"); fi
}

step typecheck npx tsc -p tsconfig.json
step lint npx eslint .
step build-renderer npx vite build --logLevel warn
step vitest npx vitest run --reporter=default --reporter=json --outputFile.json=reports/vitest.json
step playwright npx playwright test

node scripts/summarize-tests.js
if [ "${#failed_steps[@]}" -gt 0 ]; then
  echo "failed steps: ${failed_steps[*]}"
  exit 1
fi
