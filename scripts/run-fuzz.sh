#!/usr/bin/env bash
# Runs each libFuzzer target in BUILD for SECONDS, starting from fuzz/corpus/<target>/.
# The seed corpus is copied so a run never writes into the repository.
set -euo pipefail
build=$1 seconds=$2
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
total=0 n=0
for t in "$build"/fuzz_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  mkdir -p "$work/$name"
  [ -d "$root/fuzz/corpus/$name" ] && cp -r "$root/fuzz/corpus/$name/." "$work/$name/"
  log="$work/$name.log"
  if ! "$t" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$work/$name-" "$work/$name" >"$log" 2>&1; then
    echo "FUZZ $name FAILED"; tail -40 "$log"; exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  echo "FUZZ $name ok executions=$runs seconds=$seconds"
  total=$((total + runs)); n=$((n + 1))
done
echo "FUZZ total targets=$n executions=$total"
