#!/usr/bin/env bash
# tests/gateway_netns_test.sh — Debian's reference clients against `ethp2p gateway`.
#
# Usage: bash tests/gateway_netns_test.sh <ethp2p-binary> <testdata-dir>
# Needs root and `ip netns`; exits 77 (skipped) otherwise.  Creates two
# namespaces (gateway and client) joined by a veth pair on 192.168.77.0/24,
# runs `ethp2p gateway` as the client's router and checks that `upnpc -s/-a/-l/-d`
# and `natpmpc -a` succeed and that a mapping for another host is refused.
# Nothing is sent outside the two namespaces; they are always removed.
set -u

BIN=${1:?usage: gateway_netns_test.sh <ethp2p> <testdata>}
SUF=$$
GWNS="ethp2p-gw-$SUF"
CLNS="ethp2p-cl-$SUF"
GWIF="egw$SUF"
CLIF="ecl$SUF"
GWIP=192.168.77.1
CLIP=192.168.77.2
OTHER=192.168.77.3
EXTIP=11.22.33.44
WORK=$(mktemp -d /tmp/ethp2p-gwtest.XXXXXX)
GWPID=

HOLD_PID=
early_cleanup() { [ -n "$HOLD_PID" ] && kill "$HOLD_PID" 2>/dev/null; rm -rf "$WORK"; }
trap early_cleanup EXIT
skip() { echo "SKIP: $*"; exit 77; }
[ -x "$BIN" ] || skip "no binary $BIN"

# Usage checks first: they need no privileges and touch no network.
usage_rc() { "$BIN" gateway "$@" >/dev/null 2>&1; echo $?; }
if [ "$(usage_rc --help)" != 0 ] || ! "$BIN" gateway --help | grep -q -- '--quirk NAME'; then
  echo "FAIL: gateway --help"; exit 1
fi
[ "$(usage_rc --lan-addr 192.168.77.1)" = 2 ] || { echo "FAIL: missing --external-ip accepted"; exit 1; }
[ "$(usage_rc --lan-addr 192.168.77.1 --external-ip 1.2.3.4 --quirk fast)" = 2 ] \
  || { echo "FAIL: unknown quirk accepted"; exit 1; }
[ "$(usage_rc --lan-addr 192.168.77.1 --external-ip 1.2.3.4 --allow 5-3)" = 2 ] \
  || { echo "FAIL: bad --allow accepted"; exit 1; }
[ "$(usage_rc --lan-addr nope --external-ip 1.2.3.4)" = 2 ] || { echo "FAIL: bad --lan-addr accepted"; exit 1; }
echo "ok: usage errors exit 2, --help exits 0"

# A gateway that cannot start exits 1 with its reason (it aborted in uv_close, exit 134).
# Loopback only; nothing is sent (UPnP only, --quirk no-notify: no advertisements).
start_fail() { # start_fail WANT_REGEX ARGS...: runs a gateway that must fail at once
  local want=$1 rc out
  shift
  out=$(timeout 10 "$BIN" gateway "$@" 2>&1 >/dev/null); rc=$?
  [ "$rc" = 1 ] || { echo "FAIL: gateway $* exited $rc, want 1: $out"; exit 1; }
  echo "$out" | grep -Eq "$want" || { echo "FAIL: gateway $*: no '$want' in: $out"; exit 1; }
}
start_fail 'cannot start: 192\.0\.2\.1 is not an address of this host' \
  --lan-addr 192.0.2.1 --external-ip 1.2.3.4
start_fail 'cannot start: every service is disabled' \
  --lan-addr 127.0.0.1 --external-ip 1.2.3.4 --no-upnp --no-pmp --no-pcp
HOLD_PORT=$(( 20000 + $$ % 20000 ))
"$BIN" gateway --lan-addr 127.0.0.1 --external-ip 1.2.3.4 --no-pmp --no-pcp --quirk no-notify \
  --http-port "$HOLD_PORT" >/dev/null 2>"$WORK/hold.err" &
HOLD_PID=$!
DEADLINE=$(( $(date +%s) + 5 ))
until grep -q '^gateway: lan' "$WORK/hold.err" 2>/dev/null; do
  kill -0 "$HOLD_PID" 2>/dev/null || { echo "FAIL: holder gateway exited: $(cat "$WORK/hold.err")"; exit 1; }
  [ "$(date +%s)" -lt "$DEADLINE" ] || { echo "FAIL: holder gateway did not start"; exit 1; }
  sleep 0.05
done
start_fail "cannot start: a port is already in use on 127\.0\.0\.1 \(1900/udp, $HOLD_PORT/tcp\)" \
  --lan-addr 127.0.0.1 --external-ip 1.2.3.4 --no-pmp --no-pcp --quirk no-notify --http-port "$HOLD_PORT"
kill "$HOLD_PID"; wait "$HOLD_PID" 2>/dev/null; HOLD_PID=
echo "ok: failed starts exit 1 with the reason (address not here, port in use, all disabled)"

[ "$(id -u)" = 0 ] || skip "needs root"
command -v ip >/dev/null 2>&1 || skip "no ip(8)"
command -v upnpc >/dev/null 2>&1 || skip "no upnpc (Debian miniupnpc)"
command -v natpmpc >/dev/null 2>&1 || skip "no natpmpc (Debian natpmpc)"

# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
  if [ -n "$GWPID" ] && kill -0 "$GWPID" 2>/dev/null; then
    kill "$GWPID" 2>/dev/null
    wait "$GWPID" 2>/dev/null
  fi
  ip netns del "$GWNS" 2>/dev/null
  ip netns del "$CLNS" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

ip netns add "$GWNS" 2>/dev/null || skip "cannot create network namespaces"
ip netns add "$CLNS" || exit 1

FAIL=0
fail() { echo "FAIL: $*"; FAIL=1; }
ok() { echo "ok: $*"; }
gw() { ip netns exec "$GWNS" "$@"; }
cl() { ip netns exec "$CLNS" "$@"; }

ip link add "$GWIF" netns "$GWNS" type veth peer name "$CLIF" netns "$CLNS" || exit 1
gw ip link set lo up
cl ip link set lo up
gw ip addr add "$GWIP/24" dev "$GWIF"
cl ip addr add "$CLIP/24" dev "$CLIF"
gw ip link set "$GWIF" up
cl ip link set "$CLIF" up
cl ip route add default via "$GWIP"
# Multicast (SSDP) from the client leaves through the LAN link.
cl ip route add 224.0.0.0/4 dev "$CLIF" 2>/dev/null
gw ip route add 224.0.0.0/4 dev "$GWIF" 2>/dev/null

# Not through the gw() function: $! must be the gateway itself (ip netns exec execs it).
ip netns exec "$GWNS" "$BIN" gateway --lan-addr "$GWIP" --external-ip "$EXTIP" --http-port 5000 \
  >"$WORK/gw.out" 2>"$WORK/gw.err" &
GWPID=$!
for _ in $(seq 1 50); do
  grep -q '^gateway: lan' "$WORK/gw.err" 2>/dev/null && break
  kill -0 "$GWPID" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q '^gateway: lan' "$WORK/gw.err"; then
  cat "$WORK/gw.err"
  echo "FAIL: gateway did not start"
  exit 1
fi

# upnpc -s: finds the IGD and reads the external address.
cl upnpc -m "$CLIF" -s >"$WORK/s.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "ExternalIPAddress = $EXTIP" "$WORK/s.out"; then
  ok "upnpc -s"
else
  cat "$WORK/s.out"; fail "upnpc -s (rc=$rc)"
fi

# upnpc -a: maps TCP 4000 for ourselves.
cl upnpc -m "$CLIF" -a "$CLIP" 4000 4000 TCP >"$WORK/a.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "external $EXTIP:4000 TCP is redirected to internal $CLIP:4000" "$WORK/a.out"; then
  ok "upnpc -a"
else
  cat "$WORK/a.out"; fail "upnpc -a (rc=$rc)"
fi

# upnpc -l: lists it.
cl upnpc -m "$CLIF" -l >"$WORK/l.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -Eq "TCP +4000->$CLIP:4000" "$WORK/l.out"; then
  ok "upnpc -l"
else
  cat "$WORK/l.out"; fail "upnpc -l (rc=$rc)"
fi

# upnpc -L: IGDv2's GetListOfPortMappings.
cl upnpc -m "$CLIF" -L >"$WORK/L.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -Eq "TCP +4000->$CLIP:4000" "$WORK/L.out"; then
  ok "upnpc -L"
else
  cat "$WORK/L.out"; fail "upnpc -L (rc=$rc)"
fi

# upnpc -a for another host: refused (606 on IGDv2), nothing mapped.
cl upnpc -m "$CLIF" -a "$OTHER" 4002 4002 TCP >"$WORK/o.out" 2>&1
if grep -q "failed with code 606" "$WORK/o.out" && ! grep -q "tcp 4002" "$WORK/gw.out"; then
  ok "mapping for another host refused"
else
  cat "$WORK/o.out"; fail "mapping for another host was not refused with 606"
fi

# upnpc -d: deletes it.
cl upnpc -m "$CLIF" -d 4000 TCP >"$WORK/d.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "^deleted tcp 4000 " "$WORK/gw.out"; then
  ok "upnpc -d"
else
  cat "$WORK/d.out"; fail "upnpc -d (rc=$rc)"
fi

# natpmpc -a: NAT-PMP mapping of UDP 4001 for an hour.
cl natpmpc -g "$GWIP" -a 4001 4001 udp 3600 >"$WORK/n.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "Mapped public port 4001 protocol UDP to local port 4001" "$WORK/n.out" \
  && grep -q "^added udp 4001 -> $CLIP:4001 lease 3600s by NAT-PMP" "$WORK/gw.out"; then
  ok "natpmpc -a"
else
  cat "$WORK/n.out"; fail "natpmpc -a (rc=$rc)"
fi

# SIGHUP: a restart clears the table; SIGTERM: clean exit 0.
kill -HUP "$GWPID"
for _ in $(seq 1 30); do grep -q "^cleared udp 4001" "$WORK/gw.out" && break; sleep 0.1; done
if grep -q "^cleared udp 4001" "$WORK/gw.out"; then ok "SIGHUP restart clears mappings"; else fail "SIGHUP"; fi
kill -TERM "$GWPID"
wait "$GWPID"
rc=$?
GWPID=
if [ $rc -eq 0 ]; then ok "SIGTERM exits 0"; else fail "gateway exit status $rc"; fi

# Second router: IGDv1 with quirks seen in the field; upnpc still works, a mapping
# for another host gets IGDv1's 718, and the HTTP port moves on restart.
ip netns exec "$GWNS" "$BIN" gateway --lan-addr "$GWIP" --external-ip "$EXTIP" --http-port 5100 \
  --igd 1 --quirk chunked --quirk unnamespaced-soap --quirk no-natrsip --quirk http-port-moves \
  >"$WORK/gw2.out" 2>"$WORK/gw2.err" &
GWPID=$!
for _ in $(seq 1 50); do
  grep -q '^gateway: lan' "$WORK/gw2.err" 2>/dev/null && break
  sleep 0.1
done
kill -HUP "$GWPID"
for _ in $(seq 1 30); do grep -q 'http port 5101' "$WORK/gw2.err" && break; sleep 0.1; done
if grep -q 'http port 5101' "$WORK/gw2.err"; then
  ok "http-port-moves: port 5100 -> 5101"
else
  fail "http port did not move"
fi
cl upnpc -m "$CLIF" -a "$CLIP" 4010 4010 UDP >"$WORK/a2.out" 2>&1
if grep -q "external $EXTIP:4010 UDP is redirected to internal $CLIP:4010" "$WORK/a2.out" \
  && grep -q '^added udp 4010 ' "$WORK/gw2.out"; then
  ok "upnpc -a against IGDv1 with chunked, unnamespaced SOAP, no GetNATRSIPStatus"
else
  cat "$WORK/a2.out"; fail "upnpc -a against the quirky IGDv1"
fi
cl upnpc -m "$CLIF" -a "$OTHER" 4011 4011 UDP >"$WORK/o2.out" 2>&1
if grep -q "failed with code 718" "$WORK/o2.out"; then
  ok "IGDv1 refuses a mapping for another host with 718"
else
  cat "$WORK/o2.out"; fail "IGDv1 other-host refusal"
fi
kill -INT "$GWPID"
wait "$GWPID"
rc=$?
GWPID=
if [ $rc -eq 0 ]; then ok "SIGINT exits 0"; else fail "second gateway exit status $rc"; fi

if [ $FAIL -ne 0 ]; then
  echo "--- gateway stdout"; cat "$WORK/gw.out"
  echo "--- gateway stderr"; cat "$WORK/gw.err"
  [ -f "$WORK/gw2.err" ] && { echo "--- second gateway"; cat "$WORK/gw2.out" "$WORK/gw2.err"; }
  exit 1
fi
exit 0
