#!/usr/bin/env bash
# tests/firsthour_router_refuses_test.sh — the node behind a router that answers
# but will not help: it reports a carrier-grade-NAT external address (double NAT)
# and has room for one mapping only (TCP gets it, UDP is refused: NAT-PMP result 4).  At the default verbosity the
# node must WARN about both, the refusal with the router's code and reason, and
# must not claim that no gateway answered.  Then a forced exit (the 4th signal
# while the frozen router leaves the delete unanswered) returns 1.  The router is `ethp2p gateway` in a
# network namespace of our own (names carry $$), removed on exit.
# Usage: bash tests/firsthour_router_refuses_test.sh BIN TESTDATA   (exit 77 = skipped)
set -u
BIN=${1:?usage: firsthour_router_refuses_test.sh ETHP2P_BINARY TESTDATA}
BIN=$(readlink -f "$BIN")
[ -x "$BIN" ] || { echo "SKIP: $BIN not executable"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for network namespaces"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: no ip(8)"; exit 77; }
"$BIN" gateway --help >/dev/null 2>&1 || { echo "SKIP: no gateway command"; exit 77; }

LAN=fh-rlan-$$
GW=fh-rgw-$$
VL=fhrl$$
VG=fhrg$$
WORK=$(mktemp -d /tmp/ethp2p-fh-refuse-XXXXXX)
PID=
GPID=
PASS=0
cleanup() {
  [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
  [ -n "$GPID" ] && kill -KILL "$GPID" 2>/dev/null
  ip netns del "$LAN" 2>/dev/null
  ip netns del "$GW" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$WORK"/*.err; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done
  exit 1
}
ok() { PASS=$((PASS + 1)); echo "ok: $*"; }
now_ms() { date +%s%3N; }

ip netns add "$LAN" || { echo "SKIP: cannot create network namespaces"; exit 77; }
ip netns add "$GW" || fail "cannot create $GW"
ip link add "$VL" type veth peer name "$VG" || fail "cannot create veth pair"
ip link set "$VL" netns "$LAN"
ip link set "$VG" netns "$GW"
ip -n "$LAN" addr add 10.78.0.2/24 dev "$VL"
ip -n "$GW" addr add 10.78.0.1/24 dev "$VG"
for ns in "$LAN" "$GW"; do ip -n "$ns" link set lo up; done
ip -n "$LAN" link set "$VL" up
ip -n "$GW" link set "$VG" up
ip -n "$LAN" route add default via 10.78.0.1 || fail "no default route in $LAN"

ip netns exec "$GW" "$BIN" gateway --lan-addr 10.78.0.1 --external-ip 100.64.7.9 \
  --no-upnp --max-mappings 1 >"$WORK/gateway.out" 2>"$WORK/gateway.err" &
GPID=$!
sleep 0.5
kill -0 "$GPID" 2>/dev/null || fail "the gateway emulator did not start"

ip netns exec "$LAN" "$BIN" node --datadir "$WORK/node" --nat pmp --port 0 --nat.retry 2s \
  >"$WORK/node.out" 2>"$WORK/node.err" &
PID=$!
deadline=$(($(now_ms) + 8000))
while [ "$(now_ms)" -lt "$deadline" ]; do
  grep -q 'Router refuses the port mapping' "$WORK/node.err" 2>/dev/null &&
    grep -q 'non-public external address' "$WORK/node.err" 2>/dev/null && break
  kill -0 "$PID" 2>/dev/null || fail "node exited early"
  sleep 0.1
done
grep -Eq '^WARN .*Router refuses the port mapping .*proto=udp .*code=4 reason="OUT_OF_RESOURCES"' \
  "$WORK/node.err" || fail "no WARN with the router's code and reason for udp"
ok "refused udp mapping is a WARN with the router's code and reason"
grep -Eq 'Router refuses the port mapping .*proto=tcp' "$WORK/node.err" &&
  fail "warns about tcp, which was mapped"
ok "no refusal warning for the mapped tcp port"
grep -Eq '^WARN .*non-public external address.*ip=100\.64\.7\.9 kind=cgnat' "$WORK/node.err" ||
  fail "no WARN about the CGNAT external address"
ok "CGNAT external address is a WARN"
# Wait past the answer bound (the router did answer, so no "No gateway answered")
# and through several retries (every 2 s): the refusal is not repeated.
sleep 11
grep -q 'No gateway answered' "$WORK/node.err" && fail "claims no gateway answered"
ok "does not claim that no gateway answered"
[ "$(grep -c 'Router refuses the port mapping' "$WORK/node.err")" -eq 1 ] ||
  fail "refusal warnings repeated: $(grep -c 'Router refuses' "$WORK/node.err")"
ok "the refusal is said once"
# Forced exit: freeze the router so the delete of the TCP mapping is never
# answered (the clean stop would wait its 3 s bound), then signal four times.
kill -STOP "$GPID"
t0=$(now_ms)
for n in 1 2 3 4; do kill -TERM "$PID"; sleep 0.2; done
deadline=$((t0 + 5000))
while [ "$(now_ms)" -lt "$deadline" ] && kill -0 "$PID" 2>/dev/null; do sleep 0.05; done
wait "$PID"
rc=$?
PID=
took=$(($(now_ms) - t0))
kill -CONT "$GPID"
[ "$rc" -eq 1 ] || fail "forced exit returned $rc, want 1"
ok "a forced exit (4th signal) returns 1, after $took ms"
[ "$(grep -c 'Already shutting down, interrupt more to force exit' "$WORK/node.err")" -eq 2 ] ||
  fail "want two 'Already shutting down' warnings (signals 2 and 3)"
grep -q 'Forced exit' "$WORK/node.err" || fail "no 'Forced exit' warning"
ok "signals 2 and 3 are refused with a warning, the 4th forces the exit"
[ "$took" -lt 2900 ] || fail "forced exit took $took ms: not before the 3 s bound"
ok "the forced exit does not wait for the bound"
echo "PASS: $PASS checks"
