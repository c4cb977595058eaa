#!/usr/bin/env bash
# A short node run under valgrind (memcheck): start `ethp2p node --nat none` on loopback, wait for
# its record, stop it with SIGTERM, and require a clean exit with no memory errors and no leaks.
# Registered for the plain build only (valgrind cannot run an AddressSanitizer binary).
set -u
BIN=$(readlink -f "$1")
command -v valgrind >/dev/null || { echo "valgrind missing"; exit 1; }
work=$(mktemp -d); trap 'kill -9 $pid 2>/dev/null; rm -rf "$work"' EXIT
valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
  --errors-for-leak-kinds=definite,indirect --log-file="$work/vg.log" \
  "$BIN" node --datadir "$work/data" --nat none --listen 127.0.0.1 --port 0 --verbosity 4 \
  >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 1 300); do grep -q '^enr:' "$work/out" 2>/dev/null && break; sleep 0.1; done
grep -q '^enr:' "$work/out" || { echo "FAIL: no record within 30 s under valgrind"; cat "$work/err"; exit 1; }
"$BIN" enr dump "$(head -1 "$work/out")" >/dev/null || { echo "FAIL: the record does not verify"; exit 1; }
kill -TERM $pid
for _ in $(seq 1 200); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
wait $pid; rc=$?
if [ $rc -ne 0 ] || [ -s "$work/vg.log" ]; then
  echo "FAIL: exit code $rc under valgrind"; cat "$work/vg.log"; tail -5 "$work/err"; exit 1
fi
echo "ok   node under valgrind: record published, SIGTERM exit 0, no memory errors, no leaks"
