#!/usr/bin/env bash
# tests/rlpx_interop_test.sh — RLPx against a real devp2p peer (@ethereumjs/devp2p 10.0.0,
# tests/interop/rlpx_peer.mjs), both directions, on loopback only:
#   1. we dial it (`ethp2p rlpx ping`): handshake, Hello, our Pings answered, and it
#      reads our Disconnect reason (client quitting);
#   2. it dials us (`ethp2p rlpx listen`): handshake, Hello, its Ping answered, ours
#      answered, and we read its Disconnect reason (subprotocol error, 0x10).
# Args: the ethp2p binary, the testdata folder.  Exit 77 (skipped) without node or
# the npm packages.
set -u
BIN=${1:?usage: rlpx_interop_test.sh ETHP2P TESTDATA}
HERE=$(cd "$(dirname "$0")" && pwd)
INTEROP=$HERE/interop
if ! command -v node >/dev/null 2>&1 || [ ! -d "$INTEROP/node_modules/@ethereumjs/devp2p" ]; then
  echo "SKIP: node or @ethereumjs/devp2p not installed (bash scripts/install-deps.sh)"
  exit 77
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rlpx_interop.$$.XXXXXX")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$TMP"/*.out; do echo "--- $f"; cat "$f"; done
  exit 1
}
# Waits (at most $2 seconds, by the clock) until file $1 contains pattern $3.
wait_for() {
  local deadline=$(($(date +%s) + $2))
  while [ "$(date +%s)" -le "$deadline" ]; do
    grep -q -- "$3" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# --- 1. we dial the JavaScript peer ---
(cd "$INTEROP" && exec node rlpx_peer.mjs listen --timeout 30000) >"$TMP/js_listen.out" 2>&1 &
PIDS+=($!)
wait_for "$TMP/js_listen.out" 15 READY || fail "the JavaScript peer did not start"
ENODE=$(sed -n 's/^READY //p' "$TMP/js_listen.out")
case "$ENODE" in enode://*@127.0.0.1:*) ;; *) fail "unexpected enode $ENODE" ;; esac
timeout 30 "$BIN" rlpx ping --json --count 2 --identity ethp2p-interop "$ENODE" \
  >"$TMP/ping.out" 2>"$TMP/ping.err.out"
rc=$?
[ $rc -eq 0 ] || fail "ethp2p rlpx ping exited $rc"
grep -q '"ok":true' "$TMP/ping.out" || fail "ping did not report ok"
grep -q '"client_id":"ethereumjs-devp2p/interop"' "$TMP/ping.out" || fail "peer client ID missing"
grep -q '"caps":\[{"name":"tiny","version":1}\]' "$TMP/ping.out" || fail "peer caps missing"
grep -q '"pongs":2' "$TMP/ping.out" || fail "not both Pings answered"
wait_for "$TMP/js_listen.out" 10 PEER_REMOVED || fail "the peer did not see us leave"
grep -q 'PEER_ADDED client=ethp2p-interop version=5 caps=tiny/1' "$TMP/js_listen.out" ||
  fail "the peer did not read our Hello"
grep -q '^PONG' "$TMP/js_listen.out" || fail "we did not answer the peer's Ping"
grep -q 'PEER_REMOVED reason=8 name=CLIENT_QUITTING we=false' "$TMP/js_listen.out" ||
  fail "the peer did not read our Disconnect reason"
echo "ok: ethp2p -> ethereumjs: $(tr -d '\n' <"$TMP/ping.out" | head -c 300)"

# --- 1b. the same by ENR: the peer's key is known, its record made with `ethp2p key` ---
KEYHEX=4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318
printf '%s' "$KEYHEX" >"$TMP/js.key"
chmod 600 "$TMP/js.key"
(cd "$INTEROP" && exec node rlpx_peer.mjs listen --key "$KEYHEX" --timeout 30000) \
  >"$TMP/js_listen2.out" 2>&1 &
PIDS+=($!)
wait_for "$TMP/js_listen2.out" 15 READY || fail "the second JavaScript peer did not start"
JSPORT=$(sed -n 's/^READY .*:\([0-9]*\)$/\1/p' "$TMP/js_listen2.out")
ENR=$("$BIN" key to-enr "$TMP/js.key" --ip 127.0.0.1 --tcp "$JSPORT" --udp "$JSPORT") ||
  fail "ethp2p key to-enr failed"
case "$ENR" in enr:*) ;; *) fail "unexpected record $ENR" ;; esac
timeout 30 "$BIN" rlpx ping "$ENR" >"$TMP/ping_enr.out" 2>&1 || fail "ping by ENR failed"
grep -q '^client    ethereumjs-devp2p/interop' "$TMP/ping_enr.out" || fail "ping by ENR: no Hello"
grep -q '^rtt ' "$TMP/ping_enr.out" || fail "ping by ENR: no round trip"
echo "ok: ping by ENR"

# --- 2. the JavaScript peer dials us ---
"$BIN" rlpx listen --port 0 --once --duration 30 --identity ethp2p-interop \
  >"$TMP/listen.out" 2>"$TMP/listen.err.out" &
LPID=$!
PIDS+=($LPID)
wait_for "$TMP/listen.out" 10 '^listening ' || fail "ethp2p rlpx listen did not start"
OURS=$(sed -n 's/^listening //p' "$TMP/listen.out")
(cd "$INTEROP" && exec node rlpx_peer.mjs dial "$OURS" --disconnect-after-pong 16 --timeout 20000) \
  >"$TMP/js_dial.out" 2>&1 &
PIDS+=($!)
wait_for "$TMP/listen.out" 20 'peer removed' || fail "we did not see the peer leave"
grep -q 'peer added .*client="ethereumjs-devp2p/interop" version=5 caps=tiny/1' "$TMP/listen.out" ||
  fail "we did not read the peer's Hello"
grep -q 'peer pong' "$TMP/listen.out" || fail "the peer did not answer our Ping"
grep -q 'peer removed .*reason=16 by_peer=1 why="subprotocol error"' "$TMP/listen.out" ||
  fail "we did not read the peer's Disconnect reason"
wait_for "$TMP/js_dial.out" 10 PEER_REMOVED || fail "the peer did not finish"
grep -q 'PEER_ADDED client=ethp2p-interop' "$TMP/js_dial.out" || fail "the peer did not read our Hello"
grep -q '^PONG' "$TMP/js_dial.out" || fail "we did not answer the peer's Ping"
deadline=$(($(date +%s) + 5))
while kill -0 "$LPID" 2>/dev/null && [ "$(date +%s)" -le "$deadline" ]; do sleep 0.1; done
wait "$LPID"
rc=$?
[ $rc -eq 0 ] || fail "ethp2p rlpx listen exited $rc"
echo "ok: ethereumjs -> ethp2p: $(grep -c . "$TMP/listen.out") event lines"

# --- 3. a static node from a static-nodes.json file is dialed by the host ---
(cd "$INTEROP" && exec node rlpx_peer.mjs listen --disconnect-after-pong 4 --timeout 30000) \
  >"$TMP/js_listen3.out" 2>&1 &
PIDS+=($!)
wait_for "$TMP/js_listen3.out" 15 READY || fail "the third JavaScript peer did not start"
printf '[\n  "%s"\n]\n' "$(sed -n 's/^READY //p' "$TMP/js_listen3.out")" >"$TMP/static-nodes.json"
timeout 30 "$BIN" rlpx listen --port 0 --once --duration 20 --static-nodes "$TMP/static-nodes.json" \
  >"$TMP/static.out" 2>&1 || fail "rlpx listen with static nodes failed"
grep -q 'peer added .*inbound=0 client="ethereumjs-devp2p/interop"' "$TMP/static.out" ||
  fail "the static node was not dialed"
grep -q 'peer removed .*reason=4 by_peer=1 why="too many peers"' "$TMP/static.out" ||
  fail "we did not read the static node's Disconnect reason"
echo "ok: static node dialed from static-nodes.json"
echo "PASS"
