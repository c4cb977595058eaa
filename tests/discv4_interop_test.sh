#!/usr/bin/env bash
# tests/discv4_interop_test.sh — ethp2p's discv4 against a real peer:
# @ethereumjs/devp2p 10.0.0 (its DPT), on loopback only.
#   - we ping it and get its Pong (seen-as endpoint on 127.0.0.1);
#   - it pings us and we answer: it puts our node in its table;
#   - a crawl from peer A finds A and B (B is known only to A): our lookup works
#     across their nodes, and both of them find our node;
#   - ethp2p to ethp2p: requestenr and resolve return the other node's record;
#   - a crawl from B alone lists the mixed network (A, B and an ethp2p node);
#   - invalid or silent nodes give a clear error and exit 1 within the timeout.
# Args: the ethp2p binary, the testdata folder.  Exit 77 = skipped (no node/npm peer).
set -u
BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
PEER=$HERE/interop/discv4_peer.mjs
if ! command -v node >/dev/null 2>&1 || [ ! -d "$HERE/interop/node_modules/@ethereumjs/devp2p" ]; then
  echo "SKIP: node or @ethereumjs/devp2p missing (bash scripts/install-deps.sh)"
  exit 77
fi
TMP=$(mktemp -d /tmp/ethp2p-discv4-interop.$$.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/*.log; do echo "--- $f"; cat "$f"; done; exit 1; }

# Ports: a per-run block so parallel runs do not collide.
BASE=$((20000 + ($$ % 2000) * 10))
PA=$BASE PB=$((BASE + 1)) PUS=$((BASE + 2)) PUS2=$((BASE + 3)) PDEAD=$((BASE + 4))
KEY=4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318
KEY2=8b2a7a0e0ee4f7a9c5b2cb1b2e1b3f5d4f9d31a3c2b0c9e8d7f6a5b4c3d2e1f0
echo -n "$KEY" > "$TMP/us.key"
chmod 600 "$TMP/us.key"
US_ID=$("$BIN" key to-id "$TMP/us.key") || fail "key to-id"

wait_for() { # file pattern seconds
  local end=$(($(date +%s) + $3))
  while [ "$(date +%s)" -le $end ]; do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

node "$PEER" "$PA" --us "$KEY:$PUS" > "$TMP/a.log" 2>&1 &
PIDS+=($!)
wait_for "$TMP/a.log" '^enode ' 10 || fail "peer A did not start"
EA=$(awk '/^enode /{print $2; exit}' "$TMP/a.log")
node "$PEER" "$PB" --boot "$EA" > "$TMP/b.log" 2>&1 &
PIDS+=($!)
wait_for "$TMP/b.log" '^enode ' 10 || fail "peer B did not start"
EB=$(awk '/^enode /{print $2; exit}' "$TMP/b.log")
ID_A=${EA#enode://}; ID_A=${ID_A%@*}
ID_B=${EB#enode://}; ID_B=${ID_B%@*}

# 1. we ping it
OUT=$("$BIN" discv4 ping --json --timeout 5 "$EA" 2>"$TMP/ping.err") || fail "ping A: $(cat "$TMP/ping.err")"
echo "$OUT" | jq -e --arg e "$EA" '.node == $e and (.seen_as | startswith("127.0.0.1:")) and .rtt_ms > 0' >/dev/null \
  || fail "ping output: $OUT"
echo "ok: ping to @ethereumjs/devp2p answered: $OUT"

# 2. a crawl from A: it pings us and we answer; our lookups find A and B
"$BIN" discv4 crawl --json --timeout 8 --listen "127.0.0.1:$PUS" --nodekey "$TMP/us.key" "$EA" \
  > "$TMP/crawl.json" 2>"$TMP/crawl.log" || fail "crawl failed"
jq -e --arg a "$ID_A" --arg b "$ID_B" \
  '[.nodes[].enode | select(. != null) | sub("^enode://"; "") | sub("@.*"; "")] as $k
   | ($k | index($a)) != null and ($k | index($b)) != null' "$TMP/crawl.json" >/dev/null \
  || fail "crawl did not list A and B: $(cat "$TMP/crawl.json")"
echo "ok: crawl from A found A and B ($(jq .count "$TMP/crawl.json") nodes)"
grep -q '^found-us' "$TMP/a.log" || fail "peer A never put our node in its table"
PUB_US=$("$BIN" key to-enode "$TMP/us.key" --ip 127.0.0.1 --udp "$PUS" --tcp "$PUS") || fail "to-enode"
PUB_US=${PUB_US#enode://}; PUB_US=${PUB_US%@*}
grep -q "^added $PUB_US" "$TMP/b.log" || fail "peer B never found our node"
echo "ok: both JavaScript peers found our node"

# 3. ethp2p to ethp2p: one CLI serves (a crawl keeps it running), the other asks for its record
"$BIN" discv4 crawl --timeout 16 --listen "127.0.0.1:$PUS" --nodekey "$TMP/us.key" "$EA" \
  > "$TMP/serve.out" 2>"$TMP/serve.log" &
SERVE=$!
PIDS+=($SERVE)
sleep 1
EUS=$("$BIN" key to-enode "$TMP/us.key" --ip 127.0.0.1 --udp "$PUS" --tcp "$PUS")
OUT=$("$BIN" discv4 requestenr --json --timeout 5 --listen "127.0.0.1:$PUS2" --nodekeyhex "$KEY2" "$EUS" 2>"$TMP/req.err") \
  || fail "requestenr: $(cat "$TMP/req.err")"
echo "$OUT" | jq -e --arg id "$US_ID" '.id == $id and (.enr | startswith("enr:")) and .seq > 0' >/dev/null \
  || fail "requestenr output: $OUT"
echo "ok: requestenr between two ethp2p nodes returned the record"
OUT=$("$BIN" discv4 resolve --json --timeout 5 "$EUS" 2>"$TMP/res.err") || fail "resolve: $(cat "$TMP/res.err")"
echo "$OUT" | jq -e --arg id "$US_ID" '.id == $id' >/dev/null || fail "resolve output: $OUT"
echo "ok: resolve found the node in the DHT and fetched its record"
# a lookup across the mixed network (two JavaScript nodes, one ethp2p node) from B alone
"$BIN" discv4 crawl --json --timeout 4 "$EB" > "$TMP/mixed.json" 2>"$TMP/mixed.log" || fail "mixed crawl failed"
jq -e --arg a "$ID_A" --arg b "$ID_B" --arg us "$US_ID" \
  '[.nodes[].enode | select(. != null) | sub("^enode://"; "") | sub("@.*"; "")] as $k
   | ($k | index($a)) != null and ($k | index($b)) != null and ([.nodes[].id] | index($us)) != null' \
  "$TMP/mixed.json" >/dev/null || fail "mixed crawl from B: $(cat "$TMP/mixed.json")"
echo "ok: a crawl from B alone finds A, B and the ethp2p node"

# 4. errors: a peer without EIP-868, a silent port, an invalid node
START=$(date +%s)
"$BIN" discv4 requestenr --timeout 3 "$EA" > /dev/null 2>"$TMP/err1" && fail "requestenr to DPT succeeded?"
grep -q 'no answer' "$TMP/err1" || fail "requestenr error: $(cat "$TMP/err1")"
DEAD=$(echo "$EA" | sed "s/:$PA\$/:$PDEAD/")
"$BIN" discv4 ping --timeout 3 "$DEAD" > /dev/null 2>"$TMP/err2"; RC=$?
[ $RC -eq 1 ] || fail "ping to a silent port: exit $RC"
grep -q 'no pong' "$TMP/err2" || fail "silent port error: $(cat "$TMP/err2")"
[ $(($(date +%s) - START)) -le 8 ] || fail "errors took longer than their timeouts"
"$BIN" discv4 ping "enode://1234@127.0.0.1:1" > /dev/null 2>"$TMP/err3"; RC=$?
[ $RC -eq 1 ] && grep -q 'invalid node' "$TMP/err3" || fail "invalid node: exit $RC $(cat "$TMP/err3")"
"$BIN" discv4 ping > /dev/null 2>&1; RC=$?
[ $RC -eq 2 ] || fail "usage error exit $RC"
echo "ok: clear errors for a peer without EIP-868, a silent port and an invalid node"
kill $SERVE 2>/dev/null
echo "PASS"
