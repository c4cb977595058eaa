#!/usr/bin/env bash
# tests/upnp_follow_netns_test.sh — `ethp2p node --nat upnp` behind a real miniupnpd 2.3.1
# (tests/lab) follows the router in seconds, as a user would see it:
#   1. the node maps its port and prints a record with the router's WAN address;
#   2. miniupnpd restarts (mappings lost, new BOOTID and HTTP port, ssdp:alive): the
#      router forwards the node's port again within 2 s of its start;
#   3. the WAN address changes and miniupnpd is told (SIGUSR1: GENA event with
#      ExternalIPAddress): the node prints a record with the new address within 2 s.
# Usage: bash tests/upnp_follow_netns_test.sh BIN TESTDATA.  Skips (77) without root,
# namespaces or miniupnpd.  Everything runs in namespaces the lab creates and removes.
set -u
BIN=$(readlink -f "${1:?usage: upnp_follow_netns_test.sh BIN TESTDATA}")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lab/router-lab.sh"
lab_available || exit 77
"$BIN" node --help >/dev/null 2>&1 || { echo "SKIP: no node command"; exit 77; }
LIMIT_MS=${LIMIT_MS:-2000}
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
# `ip netns exec` directly, so $! is the node itself.
ip netns exec "$LAB_L" "$BIN" node --datadir "$DATA" --nat upnp --port "$PORT" --verbosity 4 \
  >"$LAB_DIR/node.out" 2>"$LAB_DIR/node.err" &
NODE_PID=$!

# record_has IP: the last record on stdout carries IP and a TCP port
record_has() {
  local rec
  rec=$(grep '^enr:' "$LAB_DIR/node.out" | tail -1)
  [ -n "$rec" ] || return 1
  "$BIN" enr dump "$rec" 2>/dev/null | grep -Eq "^ *\"ip\" +${1//./\\.}\$" &&
    "$BIN" enr dump "$rec" 2>/dev/null | grep -q '"tcp"'
}
# forwarded: miniupnpd's nft DNAT rule forwards the node's TCP port (protocol byte 0x6:
# "iif "wan0" @nh,72,8 0x6 th dport P dnat ip to 192.168.77.2:P")
forwarded() {
  lab_router nft list chain inet filter prerouting_miniupnpd 2>/dev/null |
    grep -Eq "0x6 th dport $PORT dnat ip to ${LAB_LAN_IP//./\\.}:$PORT"
}
wait_for() { # wait_for MS CMD...: true when CMD succeeds within MS milliseconds
  local deadline=$(( $(ms_now) + $1 ))
  shift
  until "$@"; do
    [ "$(ms_now)" -lt "$deadline" ] || return 1
    kill -0 "$NODE_PID" 2>/dev/null || return 1
    sleep 0.02
  done
}

mapped_and_recorded() { forwarded && record_has "$LAB_WAN_IP"; }
if wait_for 20000 mapped_and_recorded; then
  ok "node mapped $PORT and advertises $LAB_WAN_IP"
else
  bad "no mapped record with $LAB_WAN_IP within 20 s"
  "$BIN" enr dump "$(grep "^enr:" "$LAB_DIR/node.out" | tail -1)"
  lab_router nft list ruleset | grep -n dport
  tail -20 "$LAB_DIR/node.err"
  exit 1
fi

# 2. Router restart.
lab_stop_miniupnpd
lab_router nft flush chain inet filter miniupnpd
lab_router nft flush chain inet filter prerouting_miniupnpd
lab_router nft flush chain inet filter postrouting_miniupnpd
forwarded && bad "mapping survived the flush (test is wrong)"
lab_start_miniupnpd || exit 1
t0=$(ms_now)
if wait_for 30000 forwarded; then
  took=$(( $(ms_now) - t0 ))
  echo "restart_to_mapped_ms $took"
  [ "$took" -le "$LIMIT_MS" ] && ok "mapping back ${took} ms after the router restarted" ||
    bad "mapping back only ${took} ms after the restart (limit $LIMIT_MS)"
else
  bad "mapping not back within 30 s of the restart"
fi

# 3. WAN address change, announced by miniupnpd on SIGUSR1.
NEW_IP=11.22.44.1
before=$(grep -c '^enr:' "$LAB_DIR/node.out")
t0=$(ms_now)
lab_change_wan_ip "$NEW_IP"
if wait_for 30000 record_has "$NEW_IP"; then
  took=$(( $(ms_now) - t0 ))
  echo "newip_to_record_ms $took"
  [ "$took" -le "$LIMIT_MS" ] && ok "record carries $NEW_IP ${took} ms after the change" ||
    bad "record followed only after ${took} ms (limit $LIMIT_MS)"
  after=$(grep -c '^enr:' "$LAB_DIR/node.out")
  [ "$after" -gt "$before" ] || bad "no new record version printed"
else
  bad "record did not follow the WAN address within 30 s"
fi
[ "$fail" = 0 ] || { echo "--- node log (tail)"; grep -iE 'upnp|gateway|mapping' "$LAB_DIR/node.err" | tail -30; }
exit $fail
