#!/usr/bin/env bash
# tests/discv5_interop_test.sh — ethp2p's discv5 against a real peer, @chainsafe/discv5
# 11.0.0 (the implementation Lodestar uses, tests/interop/discv5_peer.mjs), on 127.0.0.1
# only, in both directions:
#   1. the JS node pings our `ethp2p discv5 listen` node, finds its record (FINDNODE 0),
#      gets a TALKRESP and finds it by a lookup;
#   2. our CLI pings a JS node and resolves its record;
#   3. a mixed network (ours + two JS nodes) is crawled by `ethp2p discv5 crawl`;
#   4. our node boots from a JS node (--bootnodes) and appears in its table;
#   5. clear failures: an invalid record, a silent port.
# Usage: bash tests/discv5_interop_test.sh <ethp2p-binary> [testdata-dir]
# Exit 0 pass, 77 skip (node or the npm modules are missing), other = fail.
# Timing: every long-lived node (ours and the JS ones) stays until the test ends it; each
# step waits for the line that says it is done, bounded in seconds, and requests get
# 3 s x 3 attempts, so the test holds under ASan on a loaded 2-core machine.  (It once
# failed about one run in eight: the JS peer answers a request ID that starts with a zero
# byte without that byte, and such answers went unmatched; see docs/discv5.md.)
set -euo pipefail

bin=${1:?usage: discv5_interop_test.sh <ethp2p-binary> [testdata-dir]}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
interop=$src/tests/interop
command -v node >/dev/null || { echo "SKIP: node not found"; exit 77; }
for m in @chainsafe/discv5 @chainsafe/enr @libp2p/crypto @multiformats/multiaddr; do
  [ -d "$interop/node_modules/$m" ] || {
    echo "SKIP: $m missing (run: bash scripts/install-deps.sh)"
    exit 77
  }
done

tmp=$(mktemp -d "/tmp/ethp2p-discv5-$$.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$tmp"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -30 "$f"; }; done
  exit 1
}

pick_port() {
  python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + ($$ + RANDOM) % 20000))
}

# wait_line FILE REGEX SECONDS: prints the first matching line, bounded by a clock
wait_line() {
  local end=$((SECONDS + $3))
  while [ $SECONDS -lt $end ]; do
    if grep -m1 -E "$2" "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}


# --- 1. they ping us ------------------------------------------------------------------
p_ours=$(pick_port)
"$bin" discv5 listen --bind "127.0.0.1:$p_ours" --duration 600 >"$tmp/ours.log" 2>&1 &
pids+=($!)
ours_enr=$(wait_line "$tmp/ours.log" '^enr:' 10) || fail "our listen node printed no record"
ours_id=$(sed -n 's/^id //p' "$tmp/ours.log")
[ ${#ours_id} = 64 ] || fail "our listen node printed no id"

p_js1=$(pick_port)
timeout 60 node "$interop/discv5_peer.mjs" --port "$p_js1" --target "$ours_enr" >"$tmp/js1.log" 2>&1 ||
  fail "the JS node's requests to us failed"
grep -q "^PONG [0-9]* 127.0.0.1:$p_js1\$" "$tmp/js1.log" || fail "no PONG naming the JS node's endpoint"
grep -qx "FOUND0 $ours_enr" "$tmp/js1.log" || fail "FINDNODE 0 did not return our record"
grep -q "^TALK " "$tmp/js1.log" || fail "no TALKRESP"
grep -q "^LOOKUP .*$ours_id" "$tmp/js1.log" || fail "the JS lookup did not find our node"
js1_enr=$(sed -n 's/^ENR //p' "$tmp/js1.log")
# our node saw the JS node's record (from the handshake)
wait_line "$tmp/ours.log" "^node [0-9a-f]{64} seq=[0-9]+ from 127.0.0.1:$p_js1\$" 5 >/dev/null ||
  fail "our node did not learn the JS node's record"
echo "ok 1 - @chainsafe/discv5 pings us, finds our record, talks, looks us up"

# --- 2. we ping them ------------------------------------------------------------------
p_js2=$(pick_port)
node "$interop/discv5_peer.mjs" --port "$p_js2" --stay 600 --boot "$ours_enr" >"$tmp/js2.log" 2>&1 &
pids+=($!)
js2_enr=$(wait_line "$tmp/js2.log" '^ENR ' 15 | sed 's/^ENR //') || fail "JS node 2 did not start"
wait_line "$tmp/js2.log" '^BOOT ' 15 >/dev/null || fail "JS node 2 could not ping our node"

req=(--timeout 3 --retries 2)
out=$("$bin" discv5 ping "${req[@]}" "$js2_enr") || fail "ping of the JS node failed: $out"
echo "$out" | grep -q "it sees us at 127.0.0.1:" || fail "PONG without our endpoint: $out"
json=$("$bin" discv5 ping "${req[@]}" --json "$js2_enr") || fail "ping --json failed"
echo "$json" | grep -q '"recipient":"127.0.0.1:' || fail "ping --json: $json"
res=$("$bin" discv5 resolve "${req[@]}" --json "$js2_enr") || fail "resolve of the JS node failed"
echo "$res" | grep -qF "\"enr\":\"$js2_enr\"" || fail "resolve returned another record: $res"
echo "ok 2 - we ping @chainsafe/discv5 and resolve its record"

# --- 3. a mixed network ---------------------------------------------------------------
# JS node 2 knows our node (its bootnode); our node knows JS node 1 and JS node 2.
crawl=$("$bin" discv5 crawl --duration 30 "${req[@]}" "$js2_enr" 2>"$tmp/crawl.log") ||
  fail "crawl failed"
js2_id=$(echo "$res" | sed -n 's/.*"id":"\([0-9a-f]\{64\}\)".*/\1/p')
for id in "$ours_id" "$js2_id"; do
  echo "$crawl" | grep -q "^$id " || fail "crawl did not list $id: $crawl"
done
echo "$crawl" | grep -qF "$js1_enr" || fail "crawl did not list JS node 1 (known only to our node)"
echo "ok 3 - ethp2p discv5 crawl lists the mixed network"

# --- 4. our node boots from a JS node and lands in its table ----------------------------
p_js3=$(pick_port)
node "$interop/discv5_peer.mjs" --port "$p_js3" --stay 600 >"$tmp/js3.log" 2>&1 &
pids+=($!)
js3_enr=$(wait_line "$tmp/js3.log" '^ENR ' 15 | sed 's/^ENR //') || fail "JS node 3 did not start"
p_ours2=$(pick_port)
"$bin" discv5 listen -v -v --bind "127.0.0.1:$p_ours2" --bootnodes "$js3_enr" --duration 600 \
  "${req[@]}" >"$tmp/ours2.log" 2>&1 &
pids+=($!)
wait_line "$tmp/ours2.log" '^id ' 10 >/dev/null || fail "our second listen node did not start"
ours2_id=$(sed -n 's/^id //p' "$tmp/ours2.log")
wait_line "$tmp/ours2.log" '^lookup of our own id: |bootnode did not answer' 30 | grep -q '^lookup' ||
  fail "no self-lookup through the bootnode"
wait_line "$tmp/js3.log" "^TABLE .*$ours2_id" 30 >/dev/null ||
  fail "our node is not in the JS node's table"
echo "ok 4 - ethp2p discv5 listen --bootnodes <JS enr> appears in that node's table"

# --- 5. clear failures ----------------------------------------------------------------
set +e
msg=$("$bin" discv5 ping "enr:not-a-record" 2>&1)
rc=$?
set -e
[ $rc = 1 ] || fail "invalid enr: exit $rc"
echo "$msg" | grep -q "invalid enr" || fail "invalid enr message: $msg"
silent_enr=$js1_enr # JS node 1 has exited: its port is silent now
set +e
start=$SECONDS
msg=$("$bin" discv5 ping --timeout 0.5 --retries 1 "$silent_enr" 2>&1)
rc=$?
set -e
[ $rc = 1 ] || fail "silent node: exit $rc"
echo "$msg" | grep -q "no answer from 127.0.0.1:$p_js1 within 1 s" || fail "silent node message: $msg"
[ $((SECONDS - start)) -le 5 ] || fail "the silent ping took $((SECONDS - start)) s"
echo "ok 5 - invalid and unreachable nodes give clear errors"
echo "PASS"
