#!/usr/bin/env bash
# Runs ctest in each build directory given and prints one closing line for all of them:
#   "tests: N passed, M failed, K skipped"
# Skipped tests (exit 77: not root, no namespaces, ...) are listed and never counted as passed.
set -uo pipefail
jobs=${JOBS:-2}
passed=0 failed=0 skipped=0 rc=0
for dir in "$@"; do
  log=$(mktemp)
  echo "== ctest in $dir"
  (cd "$dir" && ctest --output-on-failure -j "$jobs") 2>&1 | tee "$log"
  [ "${PIPESTATUS[0]}" = 0 ] || rc=1
  total=$(sed -nE 's/.* tests failed out of ([0-9]+).*/\1/p' "$log" | tail -1)
  f=$(sed -nE 's/.*, ([0-9]+) tests failed out of.*/\1/p' "$log" | tail -1)
  s=$(grep -cE '\(Skipped\)$' "$log")
  total=${total:-0} f=${f:-0}
  [ "$total" = 0 ] && { echo "no tests ran in $dir"; rc=1; }
  passed=$((passed + total - f - s)); failed=$((failed + f)); skipped=$((skipped + s))
  rm -f "$log"
done
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $rc
