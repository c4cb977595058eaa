#!/usr/bin/env bash
# tests/rlpx_errors_test.sh — `ethp2p rlpx` on bad input and unreachable or wrong
# peers: clear messages, exit 1 (failure) or 2 (usage), bounded time.  Loopback only.
# Args: the ethp2p binary, the testdata folder.
set -u
BIN=${1:?usage: rlpx_errors_test.sh ETHP2P TESTDATA}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rlpx_errors.$$.XXXXXX")
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
  exit 1
}
# expect RC PATTERN -- command...: runs it (20 s cap), checks exit code and stderr+stdout.
expect() {
  local want=$1 pat=$2 rc
  shift 3
  timeout 20 "$@" >"$TMP/out" 2>&1
  rc=$?
  [ $rc -eq "$want" ] || fail "$* exited $rc, want $want: $(head -3 "$TMP/out")"
  grep -q -- "$pat" "$TMP/out" || fail "$*: no \"$pat\" in: $(head -3 "$TMP/out")"
}
printf '%s' 4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318 >"$TMP/k.key"
chmod 600 "$TMP/k.key"
# A free port: listen on 0 and read it back from a short-lived listener.
"$BIN" rlpx listen --port 0 --duration 30 >"$TMP/listen.out" 2>&1 &
PIDS+=($!)
deadline=$(($(date +%s) + 10))
until grep -q '^listening ' "$TMP/listen.out" 2>/dev/null; do
  [ "$(date +%s)" -le "$deadline" ] || fail "listener did not start"
  sleep 0.1
done
PORT=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$TMP/listen.out")
OTHER=$("$BIN" key to-enode "$TMP/k.key" --ip 127.0.0.1 --tcp "$PORT") || fail "to-enode"
REFUSED=$("$BIN" key to-enode "$TMP/k.key" --ip 127.0.0.1 --tcp 9) || fail "to-enode"

expect 2 "unknown subcommand" -- "$BIN" rlpx bogus
expect 2 "expected exactly one" -- "$BIN" rlpx ping
expect 2 "expected 0..1000" -- "$BIN" rlpx ping --count x "$REFUSED"
expect 2 "NAME/VERSION" -- "$BIN" rlpx ping --cap eth "$REFUSED"
expect 2 "valid secp256k1 key" -- "$BIN" rlpx ping --nodekeyhex 00 "$REFUSED"
expect 1 "bad enode URL" -- "$BIN" rlpx ping enode://1234@127.0.0.1:1
expect 1 "bad record" -- "$BIN" rlpx ping "enr:!!"
# the EIP-778 example record: valid, but it has no tcp port
expect 1 "no secp256k1 key, ip or tcp port" -- "$BIN" rlpx ping enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8
expect 1 "connection refused" -- "$BIN" rlpx ping "$REFUSED"
expect 1 '"ok":false' -- "$BIN" rlpx ping --json "$REFUSED"
# The listener has another key: it cannot decrypt our auth and closes.
expect 1 "node key in the URL right" -- "$BIN" rlpx ping --timeout 5 "$OTHER"
printf '["enode://nothex@1.2.3.4:1"]' >"$TMP/bad-static.json"
expect 1 "bad-static.json: node 1: .*at byte 1" -- "$BIN" rlpx listen --port 0 --static-nodes "$TMP/bad-static.json"
expect 1 "cannot read" -- "$BIN" rlpx listen --port 0 --trusted-nodes "$TMP/missing.json"
expect 1 "cannot listen" -- "$BIN" rlpx listen --port "$PORT" --duration 1
echo "PASS"
