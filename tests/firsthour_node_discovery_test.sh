#!/usr/bin/env bash
# tests/firsthour_node_discovery_test.sh — `ethp2p node` discovery flags, on
# loopback only (--listen 127.0.0.1 --nat none):
#   - bad --bootnodes entries and --netrestrict networks are usage errors that
#     name the entry, before anything is created;
#   - node B started with --bootnodes <A's record> (and -bootnodes, Go style)
#     appears in A's table: A says at INFO that discovery found its first peers,
#     and `ethp2p discv4 crawl A` (A as the only seed) finds B;
#   - --discovery.v5 runs discv5 on the same UDP port: A says so, and
#     `ethp2p discv5 ping A` gets A's PONG; --nodiscover and
#     --discovery.v4=false keep A's table empty.
# Usage: bash tests/firsthour_node_discovery_test.sh BIN TESTDATA   (exit 77 = skipped)
set -u
BIN=${1:?usage: firsthour_node_discovery_test.sh ETHP2P_BINARY TESTDATA}
[ -x "$BIN" ] || { echo "SKIP: $BIN not executable"; exit 77; }

WORK=$(mktemp -d /tmp/ethp2p-fh-disc-XXXXXX)
PIDS=()
PASS=0
cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$WORK"/*.err; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done
  exit 1
}
ok() { PASS=$((PASS + 1)); echo "ok: $*"; }
export HOME="$WORK/home"
mkdir -p "$HOME"
L=(--listen 127.0.0.1 --port 0 --nat none)

# refuse REGEX ARGS...: exit 2 at once, REGEX on stderr, no data directory
refuse() {
  local re=$1 rc
  shift
  rm -rf "$WORK/d"
  timeout 10 "$BIN" node --datadir "$WORK/d" "${L[@]}" "$@" >"$WORK/r.out" 2>"$WORK/r.txt"
  rc=$?
  [ "$rc" -eq 2 ] || fail "node $*: exit $rc, want 2 ($(cat "$WORK/r.txt"))"
  grep -Eq -- "$re" "$WORK/r.txt" || fail "node $*: stderr lacks /$re/: $(cat "$WORK/r.txt")"
  [ -e "$WORK/d" ] && fail "node $*: created the data directory although refused"
  ok "refused: $* -> /$re/"
}
GOODKEY=$(printf 'a%.0s' {1..128}) # 128 hex digits but not a curve point
refuse 'invalid bootnode 1 "enode://abc@127.0.0.1:30303": node ID has 3 hex digits' \
  --bootnodes enode://abc@127.0.0.1:30303
refuse 'invalid bootnode 1 .*not a valid secp256k1 public key' --bootnodes "enode://$GOODKEY@127.0.0.1:1"
refuse 'invalid bootnode 1 "bogus"' -bootnodes bogus
refuse 'invalid bootnode 1 "enr:-garbage"' --bootnodes=enr:-garbage
# a long list spelled Go-style (-name=value, 6 KB) is still read as the option
LONG=$(printf 'enode://%0128d@127.0.0.1:1,' $(seq 1 40))
refuse 'invalid bootnode 1 "enode://0000.*not a valid secp256k1 public key' -bootnodes="$LONG"
refuse 'invalid --netrestrict "10.0.0.0/33"' --netrestrict 10.0.0.0/33
refuse 'invalid --netrestrict "10.0.0.0"' -netrestrict=10.0.0.0
refuse '--discovery.v4 is a switch' --discovery.v4=maybe

# start NAME ARGS...: a node in the background; its stdout (records) in NAME.out
start() {
  local name=$1
  shift
  "$BIN" node --datadir "$WORK/$name" "${L[@]}" --verbosity 4 "$@" \
    >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PIDS+=($!)
}
# wait_for FILE REGEX SECONDS
wait_for() {
  local deadline=$(($(date +%s) + $3))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    grep -Eq -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

start a --discovery.v5
wait_for "$WORK/a.out" '^enr:' 10 || fail "node a printed no record"
A=$(grep -m1 '^enr:' "$WORK/a.out")
grep -q 'Discovery v5 runs on the UDP port' "$WORK/a.err" ||
  fail "--discovery.v5 did not start discv5"
"$BIN" discv5 ping --timeout 5 "$A" >"$WORK/v5ping.out" 2>&1 ||
  fail "a does not answer discv5: $(cat "$WORK/v5ping.out")"
ok "--discovery.v5: a answers a discv5 PING on its UDP port ($(head -1 "$WORK/v5ping.out"))"
grep -q 'Discovery runs without bootnodes' "$WORK/a.err" || fail "a did not say it has no bootnodes"

start b -bootnodes "$A"
wait_for "$WORK/b.out" '^enr:' 10 || fail "node b printed no record"
B=$(grep -m1 '^enr:' "$WORK/b.out")
wait_for "$WORK/a.err" 'Discovery found its first peers' 15 ||
  fail "a never said discovery found peers"
ok "a logs: $(grep -m1 'Discovery found its first peers' "$WORK/a.err")"
wait_for "$WORK/b.err" 'Discovery found its first peers' 15 || fail "b never found a"
ok "b found a through -bootnodes"

# B is in A's table: a crawl seeded with A alone (B is not given) finds B
timeout 20 "$BIN" discv4 crawl "$A" --timeout 4 --json \
  >"$WORK/resolve.json" 2>"$WORK/resolve.err" || fail "discv4 crawl from A failed: $(cat "$WORK/resolve.err")"
timeout 5 "$BIN" enr dump --json "$B" >"$WORK/b.json" 2>/dev/null
BID=$(grep -o '"node_id": *"[0-9a-f]\{64\}"' "$WORK/b.json" | grep -o '[0-9a-f]\{64\}')
BPUB=$(grep -o 'enode://[0-9a-f]\{128\}' "$WORK/b.json" | head -1 | cut -c9-)
[ -n "$BID" ] && [ -n "$BPUB" ] || fail "cannot read b's node ID"
grep -Eq "$BID|$BPUB" "$WORK/resolve.json" ||
  fail "resolve output lacks b ($BID): $(cat "$WORK/resolve.json")"
ok "discv4 crawl seeded with a alone finds b ($BID)"

# debug table size line within its 30 s period is checked for b (verbosity 4)
wait_for "$WORK/b.err" 'Discovery table.*size=[1-9]' 35 || fail "no DEBUG table size line"
ok "b logs its table size at DEBUG"

# --nodiscover / --discovery.v4=false: nothing found even with a live bootnode
start c --nodiscover --bootnodes "$A"
start e --discovery.v4=false --bootnodes "$A"
wait_for "$WORK/c.err" 'Discovery is off \(--nodiscover\)' 10 || fail "c did not say discovery is off"
wait_for "$WORK/e.err" 'Discovery is off \(--discovery.v4=false\)' 10 || fail "e did not say v4 is off"
sleep 3
grep -q 'Discovery found' "$WORK/c.err" "$WORK/e.err" && fail "discovery ran although off"
ok "--nodiscover and --discovery.v4=false run no discovery"

for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
for p in "${PIDS[@]}"; do wait "$p" || fail "a node exited $? on SIGTERM"; done
PIDS=()
echo "PASS ($PASS checks)"
