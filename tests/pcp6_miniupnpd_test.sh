#!/usr/bin/env bash
# tests/pcp6_miniupnpd_test.sh — PCP over IPv6 (nat/pcp.c, `ethp2p nat map --nat pcp:<IPv6>`)
# against the real miniupnpd (2.3.1, nftables backend), in network namespaces this script
# creates (names end in its pid) and removes on exit:
#
#   [lan] 3fff:0:1::10/64 --veth-- 3fff:0:1::1 [router: miniupnpd, nft inet filter] 3fff:0:2::1 --veth-- 3fff:0:2::2 [wan]
#
# 3fff::/20 is the documentation prefix of RFC 9637: global-looking, exists only in here.
# The router forwards IPv6 with a stateful firewall (forward policy drop, established
# accepted, LAN->WAN accepted, then miniupnpd's chain).  miniupnpd answers PCP on
# [3fff:0:1::1]:5351 (ipv6_listening_ip); a MAP whose client address is the LAN host's own
# IPv6 address opens a pinhole there.  Proven, probing with `nc -z` from the WAN host to a
# listener on the LAN host:
#   - closed before; `nat map` over PCP succeeds, keeps the internal port and reports the
#     LAN host's own address as external; the WAN host connects; miniupnpd's chain holds
#     the pinhole rule for 3fff:0:1::10;
#   - a second `nat map` (new process, same nonce from the key) renews it, not refused;
#   - `nat unmap` (new process) deletes it: the WAN host cannot connect, the rule is gone.
#     miniupnpd 2.3.1's nftables backend refuses every PCP delete of a pinhole
#     (NOT_AUTHORIZED: it keeps no description on the rule, so the nonce never matches); the
#     test accepts that refusal and then proves the pinhole ends with its lifetime (3 s);
#   - `pmp:<IPv6>` stays a usage error (NAT-PMP is IPv4-only).
#
# Args: the ethp2p binary and the testdata folder.
# Exit 77 (skipped) without root, iproute2, nftables, nc or miniupnpd.
set -u
ETHP2P=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ "$(id -u)" = 0 ] || { echo "skipped: needs root"; exit 77; }
for t in ip nft nc miniupnpd timeout; do
  command -v "$t" >/dev/null || { echo "skipped: needs $t"; exit 77; }
done
[ -x "$ETHP2P" ] || { echo "missing $ETHP2P"; exit 1; }

ID=$$
R="e2pc6r-$ID" L="e2pc6l-$ID" W="e2pc6w-$ID"
DIR=$(mktemp -d /tmp/e2p-pcp6.XXXXXX)
MPID="" LPID=""
cleanup() {
  local pid
  pid=$(cat "$DIR/miniupnpd.pid" 2>/dev/null)
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  [ -n "$MPID" ] && wait "$MPID" 2>/dev/null
  [ -n "$LPID" ] && kill "$LPID" 2>/dev/null && wait "$LPID" 2>/dev/null
  for ns in "$R" "$L" "$W"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
ip netns add "$R" || { echo "skipped: cannot create network namespaces"; exit 77; }
ip netns add "$L"; ip netns add "$W"
ip link add "c6l$ID" type veth peer name lan0 netns "$R"
ip link set "c6l$ID" netns "$L"; ip -n "$L" link set "c6l$ID" name eth0
ip link add "c6w$ID" type veth peer name wan0 netns "$R"
ip link set "c6w$ID" netns "$W"; ip -n "$W" link set "c6w$ID" name eth0
for ns in "$R" "$L" "$W"; do ip -n "$ns" link set lo up; done
ip -n "$R" link set lan0 up; ip -n "$R" link set wan0 up
ip -n "$L" link set eth0 up; ip -n "$W" link set eth0 up
# IPv4 too: miniupnpd's listening_ip and ext_ifname want it.
ip -n "$R" addr add 192.168.79.1/24 dev lan0; ip -n "$R" addr add 11.22.35.1/24 dev wan0
ip -n "$L" addr add 192.168.79.2/24 dev eth0
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
enable_natpmp=yes
enable_upnp=no
secure_mode=yes
system_uptime=no
min_lifetime=2
max_lifetime=86400
uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07d
upnp_table_name=filter
upnp_nat_table_name=filter
allow 1024-65535 192.168.79.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
ip netns exec "$R" miniupnpd -d -f "$DIR/miniupnpd.conf" -P "$DIR/miniupnpd.pid" >"$DIR/miniupnpd.log" 2>&1 &
MPID=$!
deadline=$((SECONDS + 5))
until [ -s "$DIR/miniupnpd.pid" ] && ip netns exec "$R" ss -uln | grep -q '\[3fff:0:1::1\]:5351 '; do
  [ $SECONDS -lt $deadline ] || { echo "miniupnpd did not listen on [3fff:0:1::1]:5351"; cat "$DIR/miniupnpd.log"; ip netns exec "$R" ss -uln; exit 1; }
  sleep 0.1
done

PORT=40011
ip netns exec "$L" nc -6 -l -k 3fff:0:1::10 "$PORT" >/dev/null 2>&1 &
LPID=$!
deadline=$((SECONDS + 5))
until ip netns exec "$L" ss -tln | grep -q "\[3fff:0:1::10\]:$PORT "; do
  [ $SECONDS -lt $deadline ] || { echo "LAN listener did not start"; exit 1; }
  sleep 0.1
done

FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }
reachable() { ip netns exec "$W" nc -6 -z -w 1 3fff:0:1::10 "$PORT" 2>/dev/null; }
rules() { ip netns exec "$R" nft list chain inet filter miniupnpd 2>/dev/null; }
# The PCP nonce key lives in ETHP2P_DATADIR, so map and unmap (two processes) agree on the nonce.
export ETHP2P_DATADIR="$DIR/data"
mkdir -p "$ETHP2P_DATADIR"
nat() { ip netns exec "$L" timeout 40 "$ETHP2P" nat "$@" --timeout 10s -v; }

if reachable; then fail "the WAN host reaches the LAN listener before any pinhole"; else ok "closed before"; fi

out=$(nat map --nat pcp:3fff:0:1::1 --proto tcp --port "$PORT" --lifetime 600 2>&1); rc=$?
echo "$out" | sed 's/^/  map: /'
if [ $rc -eq 0 ]; then ok "nat map over PCP/IPv6 succeeded"; else fail "nat map exited $rc"; fi
echo "$out" | grep -q "3fff:0:1::10" && ok "external address is the LAN host's own" ||
  fail "map output does not name 3fff:0:1::10"
echo "$out" | grep -Eq "(port|:)[ ]?$PORT\b" && ok "external port = internal port" ||
  fail "map output does not show port $PORT"
rules | grep -q "dport $PORT" && ok "miniupnpd installed a pinhole rule" || { fail "no pinhole rule"; rules; }
if reachable; then ok "the WAN host connects through the pinhole"; else fail "the WAN host cannot connect after map"; fi

out=$(nat map --nat pcp:3fff:0:1::1 --proto tcp --port "$PORT" --lifetime 600 2>&1); rc=$?
if [ $rc -eq 0 ]; then ok "a second map (renewal, same nonce) is accepted"; else
  fail "renewal exited $rc"; echo "$out" | sed 's/^/  renew: /'; fi
n=$(rules | grep -c "dport $PORT")
[ "$n" = 1 ] && ok "one rule after renewal" || fail "$n rules after renewal"

out=$(nat unmap --nat pcp:3fff:0:1::1 --proto tcp --port "$PORT" 2>&1); rc=$?
echo "$out" | sed 's/^/  unmap: /'
if [ $rc -eq 0 ]; then
  ok "nat unmap succeeded"
  if rules | grep -q "dport $PORT"; then fail "the pinhole rule is still there"; rules; else ok "rule gone"; fi
  if reachable; then fail "the WAN host still connects after unmap"; else ok "closed after unmap"; fi
elif echo "$out" | grep -q "NOT_AUTHORIZED\|refused"; then
  # miniupnpd 2.3.1 (nftables backend) keeps no description on pinhole rules, and its
  # DeletePCPMap compares the rule's description with "PCP MAP <nonce>": every PCP delete of an
  # IPv6 pinhole is NOT_AUTHORIZED there.  The pinhole then ends with its lifetime: a renewal
  # with 3 s (min_lifetime=2 here) must make it disappear.
  ok "unmap refused by miniupnpd (NOT_AUTHORIZED: its nft backend loses the nonce)"
  out=$(nat map --nat pcp:3fff:0:1::1 --proto tcp --port "$PORT" --lifetime 3 2>&1) ||
    fail "short renewal failed: $out"
  deadline=$((SECONDS + 15))
  while rules | grep -q "dport $PORT" && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
  if rules | grep -q "dport $PORT"; then fail "the pinhole outlived its 3 s lifetime"; rules; else ok "pinhole gone when its lifetime ended"; fi
  if reachable; then fail "the WAN host still connects after expiry"; else ok "closed after expiry"; fi
else
  fail "nat unmap exited $rc"
fi

out=$(ip netns exec "$L" "$ETHP2P" nat map --nat pmp:3fff:0:1::1 --proto tcp --port "$PORT" 2>&1); rc=$?
[ $rc -eq 2 ] && ok "pmp:<IPv6> is a usage error" || fail "pmp:<IPv6> exited $rc: $out"

if [ $FAILS -ne 0 ]; then
  echo "--- miniupnpd log"; tail -n 100 "$DIR/miniupnpd.log"
  echo "--- nft"; ip netns exec "$R" nft list ruleset
  exit 1
fi
echo "all PCP/IPv6 checks passed"
