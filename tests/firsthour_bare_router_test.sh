#!/usr/bin/env bash
# tests/firsthour_bare_router_test.sh — a new user behind a router that speaks
# none of the protocols (no UPnP, NAT-PMP, PCP, not even an ICMP error):
#   - `nat extip` and `nat map` give up by themselves within about 10 s, or after
#     --timeout, exit 1 and say what they tried and what to do;
#   - `ethp2p node` says, once, at the default verbosity, that no gateway answered,
#     what its record advertises and to run `ethp2p nat doctor`; SIGTERM still
#     exits 0 promptly.
# The lab is two network namespaces of our own (names carry $$), a veth pair and
# a "gateway" namespace whose firewall drops every packet; all of it is removed on
# exit.  Traffic goes only into these namespaces.
# Usage: bash tests/firsthour_bare_router_test.sh BIN TESTDATA   (exit 77 = skipped)
set -u
BIN=${1:?usage: firsthour_bare_router_test.sh ETHP2P_BINARY TESTDATA}
BIN=$(readlink -f "$BIN")
[ -x "$BIN" ] || { echo "SKIP: $BIN not executable"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for network namespaces"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: no ip(8)"; exit 77; }
command -v nft >/dev/null || { echo "SKIP: no nft(8)"; exit 77; }

LAN=fh-lan-$$
GW=fh-gw-$$
VL=fhl$$
VG=fhg$$
WORK=$(mktemp -d /tmp/ethp2p-fh-bare-XXXXXX)
PID=
PASS=0
cleanup() {
  [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
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
ip -n "$LAN" addr add 10.77.0.2/24 dev "$VL"
ip -n "$GW" addr add 10.77.0.1/24 dev "$VG"
ip -n "$LAN" link set lo up
ip -n "$GW" link set lo up
ip -n "$LAN" link set "$VL" up
ip -n "$GW" link set "$VG" up
ip -n "$LAN" route add default via 10.77.0.1 || fail "no default route in $LAN"
# The gateway answers nothing at all: no SSDP, no 5351, no ICMP port unreachable.
ip netns exec "$GW" nft -f - <<'EOF' || fail "cannot load the drop-all firewall"
table inet bare {
  chain input { type filter hook input priority 0; policy drop; }
}
EOF
ip netns exec "$LAN" ping -c1 -W1 10.77.0.1 >/dev/null 2>&1 && fail "the gateway answered a ping; the lab is not bare"

export HOME="$WORK/home" ETHP2P_DATADIR="$WORK/natdata"
mkdir -p "$HOME"

# run_timed NAME LO_MS HI_MS ARGS...: runs ethp2p in the LAN, expects exit 1 within [LO, HI] ms
run_timed() {
  local name=$1 lo=$2 hi=$3 t0 t1 rc
  shift 3
  t0=$(now_ms)
  timeout 60 ip netns exec "$LAN" "$BIN" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
  rc=$?
  t1=$(now_ms)
  ELAPSED=$((t1 - t0))
  echo "$name: exit $rc after $ELAPSED ms"
  [ "$rc" -eq 1 ] || fail "$name: exit $rc, want 1"
  [ "$ELAPSED" -ge "$lo" ] && [ "$ELAPSED" -le "$hi" ] || fail "$name: took $ELAPSED ms, want $lo..$hi"
  [ -s "$WORK/$name.out" ] && fail "$name: printed on stdout: $(cat "$WORK/$name.out")"
  ok "$name exits 1 in $ELAPSED ms"
}
expect_err() { # expect_err NAME REGEX
  grep -Eq -- "$2" "$WORK/$1.err" || fail "$1: stderr lacks /$2/"
  ok "$1: stderr has /$2/"
}

# ---- nat extip, default timeout: about 10 s, not 128 s
run_timed extip 9000 13000 nat extip
expect_err extip '^ethp2p nat extip: no answer via any within 10s'
expect_err extip 'UPnP IGD: SSDP search .*239\.255\.255\.250:1900'
expect_err extip 'PCP and NAT-PMP: UDP requests to 10\.77\.0\.1:5351 \(the default gateway\)'
expect_err extip 'turn on UPnP or NAT-PMP/PCP'
expect_err extip '--nat extip:'
expect_err extip 'ethp2p nat doctor'

# ---- nat extip --timeout sets another limit
run_timed extip_2s 1800 4000 nat extip --timeout 2s
expect_err extip_2s 'no answer via any within 2s'

# ---- nat map, NAT-PMP only, Go-style single-dash flags, 1500ms
run_timed map_pmp 1300 3500 nat map -nat pmp -proto tcp -port 30303 -timeout 1500ms
expect_err map_pmp '^ethp2p nat map: no answer via NAT-PMP within 1500ms'
expect_err map_pmp 'NAT-PMP: UDP requests to 10\.77\.0\.1:5351'
grep -q 'UPnP IGD' "$WORK/map_pmp.err" && fail "map_pmp: claims to have tried UPnP"
ok "map_pmp: says only what it tried"

# ---- nat map, default timeout
run_timed map 9000 13000 nat map --proto udp --port 30303
expect_err map 'no answer via any within 10s'
expect_err map 'ethp2p nat doctor'

# ---- nat unmap via PCP, 1s
run_timed unmap_pcp 800 3000 nat unmap --nat pcp --proto udp --port 30303 --timeout 1s
expect_err unmap_pcp '^ethp2p nat unmap: no answer via PCP within 1s'
expect_err unmap_pcp 'PCP and NAT-PMP: UDP requests to 10\.77\.0\.1:5351'

# ---- a bad --timeout is a usage error, before any packet
ip netns exec "$LAN" "$BIN" nat extip --timeout 0 >/dev/null 2>"$WORK/bad_timeout.err"
rc=$?
[ "$rc" -eq 2 ] || fail "--timeout 0: exit $rc, want 2"
expect_err bad_timeout '--timeout: expected a duration'

# ---- the node: one warning at the default verbosity, about 10 s after start
ip netns exec "$LAN" "$BIN" node --datadir "$WORK/node" --port 0 \
  >"$WORK/node.out" 2>"$WORK/node.err" &
PID=$!
T0=$(now_ms)
deadline=$((T0 + 20000))
while [ "$(now_ms)" -lt "$deadline" ]; do
  grep -q 'No gateway answered' "$WORK/node.err" 2>/dev/null && break
  kill -0 "$PID" 2>/dev/null || fail "node exited early"
  sleep 0.1
done
T1=$(now_ms)
grep -q 'No gateway answered' "$WORK/node.err" || fail "node: no warning within 20 s"
echo "node warned after $((T1 - T0)) ms"
[ $((T1 - T0)) -ge 8000 ] && [ $((T1 - T0)) -le 14000 ] || fail "node warned after $((T1 - T0)) ms, want about 10 s"
ok "node warns after $((T1 - T0)) ms"
expect_err node '^WARN .*No gateway answered UPnP, NAT-PMP or PCP; the record advertises 127\.0\.0\.1; run `ethp2p nat doctor`'
grep -q '^enr:' "$WORK/node.out" || fail "node printed no record"
sleep 1.5
[ "$(grep -c 'No gateway answered' "$WORK/node.err")" -eq 1 ] || fail "node: the warning is not said once"
ok "node: the warning is said once"
kill -TERM "$PID"
t0=$(now_ms)
while [ "$(now_ms)" -lt $((t0 + 6000)) ] && kill -0 "$PID" 2>/dev/null; do sleep 0.05; done
kill -0 "$PID" 2>/dev/null && fail "node still running 6 s after SIGTERM"
wait "$PID"
rc=$?
PID=
[ "$rc" -eq 0 ] || fail "node exited $rc after SIGTERM"
ok "node stops with 0 in $(($(now_ms) - t0)) ms"

echo "PASS: $PASS checks"
