#!/usr/bin/env bash
# tests/lab/router-lab.sh — a real home-router lab in network namespaces.
#
#   source tests/lab/router-lab.sh
#   lab_up            # creates three namespaces with a unique suffix and starts miniupnpd
#   lab_lan CMD...    # runs CMD on the LAN host (192.168.77.2, default route via the router)
#   lab_wan CMD...    # runs CMD on the WAN host (11.22.33.2)
#   lab_router CMD... # runs CMD on the router
#   lab_restart_router / lab_change_wan_ip NEWIP
#   lab_down          # removes everything (also installed as an EXIT trap by lab_up)
#   LAB_SECURE_MODE=no before lab_up: miniupnpd lets any LAN host delete any mapping
#
# Topology (all inside namespaces this script creates; nothing leaves them):
#
#   [lan host] 192.168.77.2 --veth-- 192.168.77.1 [router: miniupnpd, nft masquerade] 11.22.33.1 --veth-- 11.22.33.2 [wan host]
#
# miniupnpd refuses private and documentation WAN addresses, so the WAN side uses a public-range
# block that exists only inside these namespaces.
# Needs root, iproute2, nftables and miniupnpd-nftables.  lab_available tells whether it can run.

LAB_ID=${LAB_ID:-$$}
LAB_R=e2p-r-$LAB_ID
LAB_L=e2p-l-$LAB_ID
LAB_W=e2p-w-$LAB_ID
LAB_LAN_GW=192.168.77.1
LAB_LAN_IP=192.168.77.2
LAB_WAN_IP=${LAB_WAN_IP:-11.22.33.1}
LAB_WAN_PEER=11.22.33.2
LAB_DIR=""

lab_available() {
  [ "$(id -u)" = 0 ] || { echo "lab: not root" >&2; return 1; }
  command -v ip >/dev/null && command -v nft >/dev/null && command -v miniupnpd >/dev/null ||
    { echo "lab: needs iproute2, nftables, miniupnpd" >&2; return 1; }
  ip netns add "e2p-probe-$LAB_ID" 2>/dev/null || { echo "lab: cannot create network namespaces" >&2; return 1; }
  ip netns del "e2p-probe-$LAB_ID"
}

lab_router() { ip netns exec "$LAB_R" "$@"; }
lab_lan() { ip netns exec "$LAB_L" "$@"; }
lab_wan() { ip netns exec "$LAB_W" "$@"; }

lab_write_conf() {
  cat >"$LAB_DIR/miniupnpd.conf" <<CONF
ext_ifname=wan0
listening_ip=lan0
http_port=0
enable_natpmp=yes
enable_upnp=yes
secure_mode=${LAB_SECURE_MODE:-yes}
system_uptime=no
notify_interval=600
uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b
upnp_table_name=filter
upnp_nat_table_name=filter
allow 1024-65535 192.168.77.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
}

lab_start_miniupnpd() {
  lab_router miniupnpd -d -f "$LAB_DIR/miniupnpd.conf" -P "$LAB_DIR/miniupnpd.pid" >"$LAB_DIR/miniupnpd.log" 2>&1 &
  LAB_MINIUPNPD_PID=$!
  # Ready when it has written its pid file and listens on the NAT-PMP port.
  for _ in $(seq 1 50); do
    [ -s "$LAB_DIR/miniupnpd.pid" ] && lab_router ss -uln 2>/dev/null | grep -q ':5351 ' && return 0
    sleep 0.1
  done
  echo "lab: miniupnpd did not start" >&2; cat "$LAB_DIR/miniupnpd.log" >&2
  return 1
}

# miniupnpd's own pid (from its pid file): "$!" of `lab_router ... &` is the
# subshell running the function, not the daemon.
lab_miniupnpd_pid() { cat "$LAB_DIR/miniupnpd.pid" 2>/dev/null; }

lab_stop_miniupnpd() {
  local pid
  pid=$(lab_miniupnpd_pid)
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  [ -n "${LAB_MINIUPNPD_PID:-}" ] && wait "$LAB_MINIUPNPD_PID" 2>/dev/null
  rm -f "$LAB_DIR/miniupnpd.pid"
  LAB_MINIUPNPD_PID=""
  return 0
}

lab_up() {
  set -e
  LAB_DIR=$(mktemp -d /tmp/e2p-lab.XXXXXX)
  trap lab_down EXIT
  ip netns add "$LAB_R"; ip netns add "$LAB_L"; ip netns add "$LAB_W"
  ip link add "e2pl$LAB_ID" type veth peer name lan0 netns "$LAB_R"
  ip link set "e2pl$LAB_ID" netns "$LAB_L"
  ip -n "$LAB_L" link set "e2pl$LAB_ID" name eth0
  ip link add "e2pw$LAB_ID" type veth peer name wan0 netns "$LAB_R"
  ip link set "e2pw$LAB_ID" netns "$LAB_W"
  ip -n "$LAB_W" link set "e2pw$LAB_ID" name eth0
  for ns in "$LAB_R" "$LAB_L" "$LAB_W"; do ip -n "$ns" link set lo up; done
  ip -n "$LAB_R" addr add "$LAB_LAN_GW/24" dev lan0; ip -n "$LAB_R" link set lan0 up
  ip -n "$LAB_R" addr add "$LAB_WAN_IP/24" dev wan0; ip -n "$LAB_R" link set wan0 up
  ip -n "$LAB_L" addr add "$LAB_LAN_IP/24" dev eth0; ip -n "$LAB_L" link set eth0 up
  ip -n "$LAB_L" link set eth0 multicast on
  ip -n "$LAB_L" route add default via "$LAB_LAN_GW"
  ip -n "$LAB_W" addr add "$LAB_WAN_PEER/24" dev eth0; ip -n "$LAB_W" link set eth0 up
  lab_router sysctl -qw net.ipv4.ip_forward=1
  lab_router nft -f - <<NFT
table inet filter {
  chain miniupnpd {
  }
  chain prerouting_miniupnpd {
  }
  chain postrouting_miniupnpd {
  }
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "lan0" oifname "wan0" accept
    jump miniupnpd
  }
  chain prerouting {
    type nat hook prerouting priority -100; policy accept;
    jump prerouting_miniupnpd
  }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    jump postrouting_miniupnpd
    oifname "wan0" masquerade
  }
}
NFT
  lab_write_conf
  set +e
  lab_start_miniupnpd
}

lab_restart_router() {
  lab_stop_miniupnpd
  lab_router nft flush chain inet filter miniupnpd
  lab_router nft flush chain inet filter prerouting_miniupnpd
  lab_router nft flush chain inet filter postrouting_miniupnpd
  lab_start_miniupnpd
}

lab_change_wan_ip() {
  local new=$1
  lab_router ip addr del "$LAB_WAN_IP/24" dev wan0
  lab_router ip addr add "$new/24" dev wan0
  ip -n "$LAB_W" addr flush dev eth0
  ip -n "$LAB_W" addr add "${new%.*}.2/24" dev eth0
  LAB_WAN_IP=$new
  LAB_WAN_PEER=${new%.*}.2
  # miniupnpd re-reads the address and announces it on SIGUSR1.
  local pid
  pid=$(lab_miniupnpd_pid)
  [ -n "$pid" ] && kill -USR1 "$pid" 2>/dev/null
  return 0
}

lab_down() {
  lab_stop_miniupnpd
  for ns in "$LAB_R" "$LAB_L" "$LAB_W"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
  [ -n "$LAB_DIR" ] && rm -rf "$LAB_DIR"
  LAB_DIR=""
  return 0
}
