#!/usr/bin/env bash
# tests/pinhole_miniupnpd_test.sh — the WANIPv6FirewallControl:1 pinhole client (nat/pinhole.c)
# against the real miniupnpd (2.3.1, nftables backend) with IPv6, in network namespaces this
# script creates (names end in its pid) and removes on exit:
#
#   [lan] 3fff:0:1::10/64 --veth-- 3fff:0:1::1 [router: miniupnpd, nft inet filter] 3fff:0:2::1 --veth-- 3fff:0:2::2 [wan]
#
# 3fff::/20 is the documentation prefix of RFC 9637: global-looking, exists only in here.
# The router forwards IPv6 with a stateful firewall (forward policy drop, established
# accepted, LAN->WAN accepted, then miniupnpd's chain), like a home router.  The driver
# (check_nat_pinhole_miniupnpd, built from tests/) runs in the LAN namespace and asserts what a
# WAN host can reach before, with and after pinholes, probing with `nc -z` from the WAN side.
#
# miniupnpd with ipv6_listening_ip=3fff:0:1::1, which binds its IPv6 SSDP socket to that
# unicast address (2.3.1) and so never hears [ff02::c]: the pinhole client with the control URL
# from the description, then the IPv6 NAT (nat/upnp6.h) discovering it by the unicast M-SEARCH
# to the IPv6 default router.  A second phase (miniupnpd on [::]:1900, multicast search only)
# was removed after it failed in CI: the multicast M-SEARCH can leave from our link-local
# address, miniupnpd then answers from its own link-local address while LOCATION names
# 3fff:0:1::1, and the anti-spoofing check (LOCATION host = sender) drops the answer.  The
# multicast path is covered by check_nat_upnp6 against the in-process router.
#
# Args: the ethp2p binary (its folder holds the check binaries) and the testdata folder.
# Exit 77 (skipped) without root, iproute2, nftables, nc or miniupnpd.
set -u
BIN_DIR=$(cd "$(dirname "$1")" && pwd)
DRIVER="$BIN_DIR/check_nat_pinhole_miniupnpd"
[ "$(id -u)" = 0 ] || { echo "skipped: needs root"; exit 77; }
for t in ip nft nc miniupnpd; do
  command -v "$t" >/dev/null || { echo "skipped: needs $t"; exit 77; }
done
[ -x "$DRIVER" ] || { echo "missing $DRIVER"; exit 1; }

ID=$$
R="e2p6r-$ID" L="e2p6l-$ID" W="e2p6w-$ID"
DIR=$(mktemp -d /tmp/e2p-pinhole.XXXXXX)
MPID=""
cleanup() {
  local pid
  pid=$(cat "$DIR/miniupnpd.pid" 2>/dev/null)
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  [ -n "$MPID" ] && wait "$MPID" 2>/dev/null
  for ns in "$R" "$L" "$W"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
ip netns add "$R" || { echo "skipped: cannot create network namespaces"; exit 77; }
ip netns add "$L"; ip netns add "$W"
ip link add "e6l$ID" type veth peer name lan0 netns "$R"
ip link set "e6l$ID" netns "$L"; ip -n "$L" link set "e6l$ID" name eth0
ip link add "e6w$ID" type veth peer name wan0 netns "$R"
ip link set "e6w$ID" netns "$W"; ip -n "$W" link set "e6w$ID" name eth0
for ns in "$R" "$L" "$W"; do ip -n "$ns" link set lo up; done
ip -n "$R" link set lan0 up; ip -n "$R" link set wan0 up
ip -n "$L" link set eth0 up; ip -n "$W" link set eth0 up
# IPv4 too: miniupnpd's listening_ip and ext_ifname want it (the WAN side public-range).
ip -n "$R" addr add 192.168.78.1/24 dev lan0; ip -n "$R" addr add 11.22.34.1/24 dev wan0
ip -n "$L" addr add 192.168.78.2/24 dev eth0
ip -n "$R" addr add 3fff:0:1::1/64 dev lan0 nodad
ip -n "$R" addr add 3fff:0:2::1/64 dev wan0 nodad
ip -n "$L" addr add 3fff:0:1::10/64 dev eth0 nodad
ip -n "$W" addr add 3fff:0:2::2/64 dev eth0 nodad
ip -n "$L" -6 route add default via 3fff:0:1::1
ip -n "$W" -6 route add 3fff:0:1::/64 via 3fff:0:2::1
ip netns exec "$R" sysctl -qw net.ipv6.conf.all.forwarding=1
ip netns exec "$R" nft -f - <<'NFT'
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
    meta l4proto ipv6-icmp accept
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
  }
}
NFT
cat >"$DIR/miniupnpd.conf" <<'CONF'
ext_ifname=wan0
ext_ifname6=wan0
listening_ip=lan0
ipv6_listening_ip=3fff:0:1::1
http_port=5000
enable_natpmp=no
enable_upnp=yes
secure_mode=yes
system_uptime=no
notify_interval=600
uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07c
upnp_table_name=filter
upnp_nat_table_name=filter
allow 1024-65535 192.168.78.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
ip netns exec "$R" miniupnpd -d -f "$DIR/miniupnpd.conf" -P "$DIR/miniupnpd.pid" >"$DIR/miniupnpd.log" 2>&1 &
MPID=$!
deadline=$((SECONDS + 5))
until [ -s "$DIR/miniupnpd.pid" ] && ip netns exec "$R" ss -tln | grep -q ':5000 '; do
  [ $SECONDS -lt $deadline ] || { echo "miniupnpd did not start"; cat "$DIR/miniupnpd.log"; exit 1; }
  sleep 0.1
done
# The control URL comes from the device description (IGDv2: WANIPv6FirewallControl:1).
desc=$(ip netns exec "$L" curl -s -g --max-time 3 "http://[3fff:0:1::1]:5000/rootDesc.xml")
ctl=$(printf '%s' "$desc" | tr -d '\r\n' | grep -o '<serviceType>urn:schemas-upnp-org:service:WANIPv6FirewallControl:1</serviceType>.*' |
  grep -o '<controlURL>[^<]*</controlURL>' | head -1 | sed 's/<[^>]*>//g')
[ -n "$ctl" ] || { echo "no WANIPv6FirewallControl:1 in the description"; printf '%s\n' "$desc" | head -c 3000; exit 1; }
echo "control URL: $ctl"
cat >"$DIR/probe" <<PROBE
#!/bin/sh
# Exit 0 when a TCP connection from the WAN host to [3fff:0:1::10]:\$1 is established.
exec ip netns exec "$W" nc -6 -z -w 1 3fff:0:1::10 "\$1"
PROBE
chmod +x "$DIR/probe"
PINHOLE_LAB_URL="http://[3fff:0:1::1]:5000$ctl" PINHOLE_LAB_PROBE="$DIR/probe" \
  PINHOLE_LAB_RULES="ip netns exec $R nft list chain inet filter miniupnpd" \
  ip netns exec "$L" "$DRIVER"
rc=$?
if [ $rc -ne 0 ]; then
  echo "--- miniupnpd log"; tail -n 60 "$DIR/miniupnpd.log"
  echo "--- nft"; ip netns exec "$R" nft list ruleset
  exit $rc
fi

exit 0
