#!/usr/bin/env bash
# tests/upnp_dhcp_netns_test.sh — `ethp2p node --nat upnp` behind a real miniupnpd 2.3.1
# (tests/lab) survives a DHCP change of its own LAN address, as a user would see it:
#   1. the node maps its TCP and UDP port and prints a record with the router's WAN address;
#   2. the LAN host's address changes from 192.168.77.2 to 192.168.77.3 (ip addr del/add in
#      its namespace, default route re-added), as a new DHCP lease does;
#   3. within LIMIT_MS miniupnpd forwards the ports the node's latest record advertises to
#      the NEW address (its nft DNAT rules and `upnpc -l` from the LAN), and that record
#      still carries the router's WAN address.
# Two routers: miniupnpd in secure mode (the default: a host may not delete another host's
# mapping, so the old address keeps its ports until their lease ends and the node gets
# other external ports) and with secure_mode=no (the node deletes its old mappings and gets
# its own ports back).  Each case runs in its own lab.
# Usage: bash tests/upnp_dhcp_netns_test.sh BIN TESTDATA.  Skips (77) without root,
# namespaces or miniupnpd.  Everything runs in namespaces the lab creates (names carry $$)
# and removes in its EXIT trap, even on failure.
set -u
BIN=$(readlink -f "${1:?usage: upnp_dhcp_netns_test.sh BIN TESTDATA}")
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${LAB_SECURE_MODE:-}" ]; then
  rc=0
  for mode in yes no; do
    echo "=== miniupnpd secure_mode=$mode"
    LAB_SECURE_MODE=$mode bash "$0" "$@"
    r=$?
    [ "$r" = 77 ] && exit 77
    [ "$r" = 0 ] || rc=1
  done
  exit $rc
fi
source "$here/lab/router-lab.sh"
lab_available || exit 77
"$BIN" node --help >/dev/null 2>&1 || { echo "SKIP: no node command"; exit 77; }
LIMIT_MS=${LIMIT_MS:-5000}
lab_up || exit 1

NODE_PID=
stop_node() {
  [ -n "$NODE_PID" ] && kill -TERM "$NODE_PID" 2>/dev/null && wait "$NODE_PID" 2>/dev/null
  NODE_PID=
}
trap 'stop_node; lab_down' EXIT
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
ms_now() { echo $(( $(date +%s%N) / 1000000 )); }

PORT=$(( 20000 + $$ % 20000 ))
DATA="$LAB_DIR/node"
OLD_IP=$LAB_LAN_IP
NEW_IP=192.168.77.3
ip netns exec "$LAB_L" "$BIN" node --datadir "$DATA" --nat upnp --port "$PORT" --verbosity 4 \
  >"$LAB_DIR/node.out" 2>"$LAB_DIR/node.err" &
NODE_PID=$!

# rec_field KEY: a key of the last record on stdout ("" if none)
rec_field() {
  local rec
  rec=$(grep '^enr:' "$LAB_DIR/node.out" | tail -1)
  [ -n "$rec" ] || return 1
  "$BIN" enr dump "$rec" 2>/dev/null | awk -v k="\"$1\"" '$1 == k { print $2 }'
}
# record_ok IP: the last record carries IP and a TCP and UDP port; sets EXT_TCP and EXT_UDP
record_ok() {
  [ "$(rec_field ip)" = "$1" ] || return 1
  EXT_TCP=$(rec_field tcp)
  EXT_UDP=$(rec_field udp)
  [ -n "$EXT_TCP" ] && [ -n "$EXT_UDP" ]
}
# forwarded IP: miniupnpd's nft DNAT rules forward the record's TCP (0x6) and UDP (0x11)
# port to IP:PORT, the node's own port
forwarded() {
  local rules
  record_ok "$LAB_WAN_IP" || return 1
  rules=$(lab_router nft list chain inet filter prerouting_miniupnpd 2>/dev/null) || return 1
  grep -Eq "0x6 th dport $EXT_TCP dnat ip to ${1//./\\.}:$PORT\$" <<<"$rules" &&
    grep -Eq "0x11 th dport $EXT_UDP dnat ip to ${1//./\\.}:$PORT\$" <<<"$rules"
}
wait_for() { # wait_for MS CMD...: true when CMD succeeds within MS milliseconds
  local deadline=$(( $(ms_now) + $1 ))
  shift
  until "$@"; do
    [ "$(ms_now)" -lt "$deadline" ] || return 1
    kill -0 "$NODE_PID" 2>/dev/null || return 1
    sleep 0.05
  done
}
dump_state() {
  echo "--- nft"; lab_router nft list chain inet filter prerouting_miniupnpd
  echo "--- record"; "$BIN" enr dump "$(grep '^enr:' "$LAB_DIR/node.out" | tail -1)"
  echo "--- node log (tail)"; grep -iE 'upnp|gateway|mapping|address' "$LAB_DIR/node.err" | tail -30
}

if wait_for 20000 forwarded "$OLD_IP"; then
  ok "node mapped tcp $EXT_TCP udp $EXT_UDP to $OLD_IP:$PORT and advertises $LAB_WAN_IP"
else
  bad "no mapping to $OLD_IP with a record of $LAB_WAN_IP within 20 s"; dump_state; exit 1
fi

# The DHCP change: the old lease's address goes, the new one comes, the route with it.
t0=$(ms_now)
lab_lan ip addr del "$OLD_IP/24" dev eth0
lab_lan ip addr add "$NEW_IP/24" dev eth0
lab_lan ip route replace default via "$LAB_LAN_GW"
if wait_for 30000 forwarded "$NEW_IP"; then
  took=$(( $(ms_now) - t0 ))
  echo "dhcp_to_mapped_ms $took"
  [ "$took" -le "$LIMIT_MS" ] &&
    ok "record's tcp $EXT_TCP udp $EXT_UDP forwarded to $NEW_IP:$PORT ${took} ms after the change" ||
    bad "ports forwarded to $NEW_IP only after ${took} ms (limit $LIMIT_MS)"
else
  bad "record's ports not forwarded to $NEW_IP within 30 s of the change"; dump_state
fi
if [ "$LAB_SECURE_MODE" = no ]; then
  # The router let the node delete its old mappings: it got its own ports back.
  [ "$EXT_TCP" = "$PORT" ] && [ "$EXT_UDP" = "$PORT" ] &&
    ok "old mappings deleted: the record keeps port $PORT" ||
    bad "record moved to tcp $EXT_TCP udp $EXT_UDP though the router allows deleting"
  lab_router nft list chain inet filter prerouting_miniupnpd | grep -q "dnat ip to ${OLD_IP//./\\.}:" &&
    bad "a mapping to the old address $OLD_IP is left"
fi
# What a user on the LAN sees: upnpc lists the node's ports on the new address.
list=$(lab_lan timeout 10 upnpc -l 2>/dev/null)
if grep -Eq "TCP +$EXT_TCP->${NEW_IP//./\\.}:$PORT " <<<"$list" &&
   grep -Eq "UDP +$EXT_UDP->${NEW_IP//./\\.}:$PORT " <<<"$list"; then
  ok "upnpc -l lists tcp $EXT_TCP and udp $EXT_UDP -> $NEW_IP:$PORT"
else
  bad "upnpc -l does not list the record's ports -> $NEW_IP:$PORT"; echo "$list" | tail -8
fi
if record_ok "$LAB_WAN_IP"; then
  ok "record still advertises $LAB_WAN_IP"
else
  bad "record lost $LAB_WAN_IP or the ports"; dump_state
fi
kill -0 "$NODE_PID" 2>/dev/null || bad "node exited"
exit $fail
