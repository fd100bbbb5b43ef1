#!/usr/bin/env bash
# Runs the whole suite (npm test) RUNS times in a row (default 3) while two busy loops keep both
# cores of the machine loaded, and prints one line per run. Exits 1 if any run failed.
# The loops are bounded (timeout, default 3 h) and are stopped by their own process ids at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
bound="${LOAD_BOUND:-3h}"

loops=()
for _ in $(seq "$(nproc)"); do
  timeout "$bound" sh -c 'while :; do :; done' &
  loops+=("$!")
done
stop_loops() { kill "${loops[@]}" 2>/dev/null; wait "${loops[@]}" 2>/dev/null; }
trap stop_loops EXIT

failed=0
mkdir -p test-artifacts
for run in $(seq "$runs"); do
  start=$(date +%s)
  if npm test -- --reporter=dot --reporter=json --outputFile.json="test-artifacts/loaded-run-$run.json" \
    >"test-artifacts/loaded-run-$run.log" 2>&1; then
    verdict=green
  else
    verdict=RED
    failed=1
  fi
  counts=$(node -e "const r=require('./test-artifacts/loaded-run-$run.json'); console.log(r.numPassedTests + ' passed, ' + r.numFailedTests + ' failed')" 2>/dev/null || echo 'no summary')
  echo "run $run/$runs under load ($(uptime | sed 's/.*load average: //')): $verdict, $counts, $(( $(date +%s) - start )) s"
done
exit "$failed"
