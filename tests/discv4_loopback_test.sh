#!/usr/bin/env bash
# tests/discv4_loopback_test.sh — `ethp2p discv4` between ethp2p processes on loopback
# (no JavaScript needed): one CLI keeps a node up (crawl), the others ping it,
# ask for its record and resolve it; bad input and silent nodes give clear
# errors, the right exit codes, and return within their timeouts.
# Args: the ethp2p binary, the testdata folder.
set -u
BIN=$1
command -v jq >/dev/null 2>&1 || { echo "SKIP: jq missing"; exit 77; }
TMP=$(mktemp -d /tmp/ethp2p-discv4-loop.$$.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/*.log "$TMP"/*.err; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done; exit 1; }

BASE=$((42000 + ($$ % 2000) * 4))
P1=$BASE P2=$((BASE + 1)) PDEAD=$((BASE + 2))
"$BIN" key generate "$TMP/a.key" >/dev/null 2>&1 || fail "key generate"
"$BIN" key generate "$TMP/b.key" >/dev/null 2>&1 || fail "key generate"
EA=$("$BIN" key to-enode "$TMP/a.key" --ip 127.0.0.1 --udp "$P1" --tcp "$P1")
EB=$("$BIN" key to-enode "$TMP/b.key" --ip 127.0.0.1 --udp "$P2" --tcp "$P2")
ID_A=$("$BIN" key to-id "$TMP/a.key")

# node A stays up (a crawl that has only B to walk to)
"$BIN" discv4 crawl --timeout 10 --listen "127.0.0.1:$P1" --nodekey "$TMP/a.key" "$EB" \
  > "$TMP/a.out" 2>"$TMP/a.log" &
PIDS+=($!)
sleep 0.5

OUT=$("$BIN" discv4 ping --json --timeout 3 --listen "127.0.0.1:$P2" --nodekey "$TMP/b.key" "$EA" 2>"$TMP/ping.err") \
  || fail "ping"
echo "$OUT" | jq -e --arg e "$EA" '.node == $e and .seen_as == "127.0.0.1:'"$P2"'" and .enr_seq > 0' >/dev/null \
  || fail "ping output: $OUT"
echo "ok: ping: pong with our endpoint and the peer's enr-seq"
TXT=$("$BIN" discv4 ping --timeout 3 "$EA") || fail "ping text"
echo "$TXT" | grep -q '^pong from enode://' || fail "ping text: $TXT"
echo "$TXT" | grep -q '^seen as  127.0.0.1:' || fail "ping text: $TXT"

OUT=$("$BIN" discv4 requestenr --json --timeout 3 "$EA" 2>"$TMP/req.err") || fail "requestenr"
echo "$OUT" | jq -e --arg id "$ID_A" '.id == $id and (.enr | startswith("enr:-"))' >/dev/null \
  || fail "requestenr output: $OUT"
REC=$(echo "$OUT" | jq -r .enr)
"$BIN" enr dump "$REC" >/dev/null || fail "the record we got does not verify"
echo "ok: requestenr returns A's signed record"

# a record works as NODE too
OUT=$("$BIN" discv4 ping --json --timeout 3 "$REC" 2>"$TMP/ping2.err") || fail "ping by record"
echo "ok: ping by enr: record"
OUT=$("$BIN" discv4 resolve --json --timeout 4 "$EA" 2>"$TMP/res.err") || fail "resolve"
echo "$OUT" | jq -e --arg id "$ID_A" '.id == $id' >/dev/null || fail "resolve output: $OUT"
echo "ok: resolve"

START=$(date +%s)
DEAD=$("$BIN" key to-enode "$TMP/b.key" --ip 127.0.0.1 --udp "$PDEAD" --tcp "$PDEAD")
"$BIN" discv4 ping --timeout 2 "$DEAD" >/dev/null 2>"$TMP/dead.err"; RC=$?
[ $RC -eq 1 ] && grep -q 'no pong' "$TMP/dead.err" || fail "silent node: exit $RC"
"$BIN" discv4 requestenr --timeout 2 "$DEAD" >/dev/null 2>"$TMP/dead2.err"; RC=$?
[ $RC -eq 1 ] && grep -q 'no answer' "$TMP/dead2.err" || fail "silent requestenr: exit $RC"
[ $(($(date +%s) - START)) -le 6 ] || fail "silent nodes took longer than the timeouts"
echo "ok: silent nodes: clear errors within the timeout"

for bad in "enode://zz@127.0.0.1:1" "enr:AAAA" "enode://$(printf '%0128d' 0)@127.0.0.1:30303" "127.0.0.1:30303"; do
  "$BIN" discv4 ping --timeout 1 "$bad" >/dev/null 2>"$TMP/bad.err"; RC=$?
  [ $RC -eq 1 ] && grep -q 'invalid node' "$TMP/bad.err" || fail "bad node $bad: exit $RC $(cat "$TMP/bad.err")"
done
KEYONLY=${EA%@*}
"$BIN" discv4 ping "$KEYONLY" >/dev/null 2>"$TMP/bad.err"; RC=$?
[ $RC -eq 1 ] && grep -q 'no IP' "$TMP/bad.err" || fail "node without address: exit $RC"
echo "ok: invalid nodes are refused with a reason"

for args in "" "ping" "frobnicate x" "ping --timeout 0 $EA" "ping --timeout x $EA" "ping $EA $EA" \
            "ping --bogus $EA" "crawl" "ping --listen nonsense $EA"; do
  "$BIN" discv4 $args >/dev/null 2>&1; RC=$?
  [ $RC -eq 2 ] || fail "usage '$args': exit $RC"
done
"$BIN" discv4 --help | grep -q 'requestenr' || fail "help"
echo "ok: usage errors exit 2"
echo "PASS"
