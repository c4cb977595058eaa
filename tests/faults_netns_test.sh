#!/usr/bin/env bash
# tests/faults_netns_test.sh — faults on real sockets (issue 8): `ethp2p gateway`
# as the router of a LAN in network namespaces, the project's own clients
# (`ethp2p nat extip|map`) and, when `ethp2p node` exists, a node on a LAN host.
#
# Usage: bash tests/faults_netns_test.sh <ethp2p-binary> <testdata-dir>
# Needs root and `ip netns`; exits 77 (skipped) otherwise.  Three namespaces:
#   router  bridge with 192.168.77.1 (main gateway: UPnP + NAT-PMP + PCP),
#           .9 (a slow NAT-PMP/PCP gateway), .10 (a slow gateway that gets
#           killed), .11 (a forger's address on the router itself)
#   lan     192.168.77.2: the clients and the node
#   evil    192.168.77.3: a second LAN host that forges and floods
# Cases print "ok <case>" or "FAIL <case>"; any FAIL makes the exit status 1.
# No packet leaves the namespaces; a trap always removes them.  Takes ~45 s.
set -u

BIN=${1:?usage: faults_netns_test.sh <ethp2p> <testdata>}
SUF=$$
RNS="ethp2p-fr-$SUF"
LNS="ethp2p-fl-$SUF"
ENS="ethp2p-fe-$SUF"
BR="fbr$SUF"
GWIP=192.168.77.1
SLOWIP=192.168.77.9
KILLIP=192.168.77.10
FORGEIP=192.168.77.11
NODEGWIP=192.168.77.12
LANIP=192.168.77.2
EVILIP=192.168.77.3
EXTIP=11.22.33.44
FAKEIP=6.6.6.6
WORK=$(mktemp -d /tmp/ethp2p-faults.XXXXXX)
PIDS=()
declare -A GWPID=() # gateway name -> pid

skip() { echo "SKIP: $*"; rm -rf "$WORK"; exit 77; }
[ -x "$BIN" ] || skip "no binary $BIN"
[ "$(id -u)" = 0 ] || skip "needs root"
command -v ip >/dev/null 2>&1 || skip "no ip(8)"
command -v nc >/dev/null 2>&1 || skip "no nc (netcat-openbsd)"
"$BIN" gateway --help >/dev/null 2>&1 || skip "no 'ethp2p gateway'"

# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    kill -9 "$p" 2>/dev/null
  done
  for p in "${PIDS[@]}"; do
    wait "$p" 2>/dev/null
  done
  ip netns del "$RNS" 2>/dev/null
  ip netns del "$LNS" 2>/dev/null
  ip netns del "$ENS" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

ip netns add "$RNS" 2>/dev/null || skip "cannot create network namespaces"
ip netns add "$LNS" || exit 1
ip netns add "$ENS" || exit 1

FAIL=0
ok() { echo "ok $*"; }
fail() { echo "FAIL $*"; FAIL=1; }
rt() { ip netns exec "$RNS" "$@"; }
lan() { ip netns exec "$LNS" "$@"; }
evil() { ip netns exec "$ENS" "$@"; }
# Sends the bytes of a printf format as one UDP datagram: udp_send NS SRC SPORT DST DPORT FMT
udp_send() {
  local ns=$1 src=$2 sport=$3 dst=$4 dport=$5 fmt=$6
  # shellcheck disable=SC2059 # the format is the payload
  printf "$fmt" | ip netns exec "$ns" nc -u -w0 -s "$src" -p "$sport" "$dst" "$dport" >/dev/null 2>&1
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# The local UDP port of the one `ethp2p` client socket not on 5350/5351 in the lan namespace.
client_port() {
  lan ss -Hunap 2>/dev/null | awk '/ethp2p/ {n = split($4, a, ":"); p = a[n]; if (p != 5350 && p != 5351) print p}' | head -1
}
wait_for() { # wait_for FILE PATTERN TENTHS
  local i
  for ((i = 0; i < $3; i++)); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# ---- topology ----------------------------------------------------------------
rt ip link add "$BR" type bridge || exit 1
rt ip link set lo up
rt ip link set "$BR" up
for a in $GWIP $SLOWIP $KILLIP $FORGEIP $NODEGWIP; do rt ip addr add "$a/24" dev "$BR"; done
i=0
for ns in "$LNS" "$ENS"; do
  i=$((i + 1))
  rt ip link add "fr$i$SUF" type veth peer name "fh$i$SUF" netns "$ns" || exit 1
  rt ip link set "fr$i$SUF" master "$BR" up
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" ip link set "fh$i$SUF" up
  ip netns exec "$ns" ip route add 224.0.0.0/4 dev "fh$i$SUF" 2>/dev/null
done
lan ip addr add "$LANIP/24" dev "fh1$SUF"
evil ip addr add "$EVILIP/24" dev "fh2$SUF"
lan ip route add default via "$GWIP"
evil ip route add default via "$GWIP"
rt ip route add 224.0.0.0/4 dev "$BR" 2>/dev/null
sleep 1.5 # IPv4 DAD is instant, but give the bridge ports time to forward

start_gw() { # start_gw NAME LANADDR ARGS...: sets GWPID[NAME]
  local name=$1 addr=$2
  shift 2
  ip netns exec "$RNS" "$BIN" gateway --lan-addr "$addr" --external-ip "$EXTIP" "$@" \
    >"$WORK/$name.out" 2>"$WORK/$name.err" &
  local pid=$!
  PIDS+=("$pid")
  GWPID[$name]=$pid
  if ! wait_for "$WORK/$name.err" '^gateway: lan' 50; then
    cat "$WORK/$name.err"
    echo "FAIL gateway $name did not start"
    exit 1
  fi
}

# ---- case: router killed mid-request (UPnP) ----------------------------------
# The slow quirk holds every reply 1.5 s; the router dies while the client
# waits for its HTTP answer.  The client must fail with a message in a few
# seconds, not hang.
start_gw upnpkill "$GWIP" --http-port 5000 --quirk slow --slow-ms 800 --no-pmp --no-pcp
t0=$(date +%s%N)
lan timeout 40 "$BIN" nat map --nat upnp --proto tcp --port 4100 -v >"$WORK/k1.out" 2>"$WORK/k1.err" &
K1=$!
PIDS+=("$K1")
sleep 1.2
{ kill -9 "${GWPID[upnpkill]}"; wait "${GWPID[upnpkill]}"; } 2>/dev/null
wait "$K1"
rc=$?
dt=$((($(date +%s%N) - t0) / 1000000))
if [ $rc = 1 ] && [ $dt -lt 20000 ] && grep -Eq "Fetching device description|SOAP request" "$WORK/k1.err" &&
  grep -q "^ethp2p nat map: " "$WORK/k1.err" && ! [ -s "$WORK/k1.out" ]; then
  ok "router-killed-upnp (killed during HTTP; exit 1 after ${dt} ms: $(grep "^ethp2p nat map: " "$WORK/k1.err"))"
else
  cat "$WORK/k1.out" "$WORK/k1.err"
  fail "router-killed-upnp (rc=$rc after ${dt} ms)"
fi

# ---- gateways for the other cases ---------------------------------------------
start_gw main "$GWIP" --http-port 5000
start_gw slow "$SLOWIP" --no-upnp --quirk slow --slow-ms 2500
start_gw kill "$KILLIP" --no-upnp --quirk slow --slow-ms 5000
# The node's router (node cases below); started now so that its restart later is
# detectable from the epoch (RFC 6886 §3.6 needs a few seconds of history).
start_gw nodegw "$NODEGWIP" --no-upnp --quirk random-port

# ---- case: router killed mid-request (PCP), in the background -----------------
# PCP bounds its wait at 30 s (docs/nat.md); it is checked at the end.
t_pcpkill=$(date +%s%N)
lan timeout 50 "$BIN" nat map --nat "pcp:$KILLIP" --proto udp --port 4200 \
  >"$WORK/k2.out" 2>"$WORK/k2.err" &
K2=$!
PIDS+=("$K2")
sleep 1 # the request is out; the router dies before its (5 s slow) answer
{ kill -9 "${GWPID[kill]}"; wait "${GWPID[kill]}"; } 2>/dev/null

# ---- case: replies from the wrong address --------------------------------------
# The client asks the slow gateway (.9); while the real answer is held back,
# forged answers that match the request arrive from a second LAN host (right
# port), from another address of the router (right port) and from the right
# address but the wrong port.  The client must wait for the real answer.
pmp_ext_reply() { printf '\\x00\\x80\\x00\\x00\\x00\\x00\\x00\\x05\\x06\\x06\\x06\\x06'; }
lan timeout 20 "$BIN" nat extip --nat "pmp:$SLOWIP" >"$WORK/w1.out" 2>"$WORK/w1.err" &
W1=$!
PIDS+=("$W1")
port=
for _ in $(seq 1 20); do
  port=$(client_port)
  [ -n "$port" ] && break
  sleep 0.05
done
if [ -n "$port" ]; then
  udp_send "$ENS" "$EVILIP" 5351 "$LANIP" "$port" "$(pmp_ext_reply)"
  udp_send "$RNS" "$FORGEIP" 5351 "$LANIP" "$port" "$(pmp_ext_reply)"
  udp_send "$RNS" "$SLOWIP" 5350 "$LANIP" "$port" "$(pmp_ext_reply)"
fi
wait "$W1"
rc=$?
if [ -n "$port" ] && [ $rc = 0 ] && grep -qx "$EXTIP" "$WORK/w1.out" && ! grep -q "$FAKEIP" "$WORK/w1.out"; then
  ok "wrong-address-pmp (3 forged replies to port $port ignored, real answer $EXTIP)"
else
  cat "$WORK/w1.out" "$WORK/w1.err"
  fail "wrong-address-pmp (rc=$rc port=${port:-none})"
fi

# The same for a PCP MAP: forged responses (wrong sources) claim external port 9999.
pcp_map_reply() {
  printf '\\x02\\x81\\x00\\x00\\x00\\x00\\x0e\\x10\\x00\\x00\\x00\\x05'
  printf '\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00'
  printf '\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00'
  printf '\\x11\\x00\\x00\\x00\\x10\\x68\\x27\\x0f'
  printf '\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\xff\\xff\\x06\\x06\\x06\\x06'
}
lan timeout 20 "$BIN" nat map --nat "pcp:$SLOWIP" --proto udp --port 4200 \
  >"$WORK/w2.out" 2>"$WORK/w2.err" &
W2=$!
PIDS+=("$W2")
port=
for _ in $(seq 1 20); do
  port=$(client_port)
  [ -n "$port" ] && break
  sleep 0.05
done
if [ -n "$port" ]; then
  udp_send "$ENS" "$EVILIP" 5351 "$LANIP" "$port" "$(pcp_map_reply)"
  udp_send "$RNS" "$FORGEIP" 5351 "$LANIP" "$port" "$(pcp_map_reply)"
fi
wait "$W2"
rc=$?
if [ -n "$port" ] && [ $rc = 0 ] && grep -q "mapped udp 4200 -> $EXTIP:4200 " "$WORK/w2.out"; then
  ok "wrong-address-pcp (forged responses to port $port ignored: $(cat "$WORK/w2.out"))"
else
  cat "$WORK/w2.out" "$WORK/w2.err"
  fail "wrong-address-pcp (rc=$rc port=${port:-none})"
fi

# ---- case: forged announcements from a host that is not the gateway ------------
# A NAT-PMP announcement with epoch 0 (a "restart") and another address, and a
# PCP ANNOUNCE, multicast to 224.0.0.1:5350 by the evil host while a client of
# the slow gateway listens; its -v log must name them as from a stranger and
# never act on them.
lan timeout 20 "$BIN" nat extip --nat "pmp:$SLOWIP" -v >"$WORK/a1.out" 2>"$WORK/a1.err" &
A1=$!
PIDS+=("$A1")
sleep 0.7
udp_send "$ENS" "$EVILIP" 5351 224.0.0.1 5350 "$(pmp_ext_reply)"
udp_send "$ENS" "$EVILIP" 5351 224.0.0.1 5350 \
  '\x02\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
wait "$A1"
rc=$?
if [ $rc = 0 ] && grep -qx "$EXTIP" "$WORK/a1.out" &&
  grep -q "Ignored announcement from a stranger.*from=$EVILIP:5351" "$WORK/a1.err" &&
  ! grep -q "extip=$FAKEIP" "$WORK/a1.err"; then
  ok "forged-announcements ($(grep -c "stranger.*$EVILIP" "$WORK/a1.err") ignored from $EVILIP)"
else
  cat "$WORK/a1.out" "$WORK/a1.err"
  fail "forged-announcements (rc=$rc)"
fi

# ---- case: floods at the gateway while reference clients use it ------------------
# Junk datagrams at 5351 (NAT-PMP/PCP) and 1900 (SSDP), oversized and slowloris
# HTTP at the HTTP port, all from the evil host; meanwhile the LAN host maps
# with upnpc -a and natpmpc -a.  The gateway's RSS must stay bounded.
rss0=$(rss_kb "${GWPID[main]}")
flood_udp() { # random-ish junk, many sizes
  local port=$1 n
  for n in $(seq 1 300); do
    head -c $((n % 97 + 1)) /dev/urandom
    printf '\n'
  done | evil nc -u -w0 -s "$EVILIP" "$GWIP" "$port" >/dev/null 2>&1
}
flood_pmp_like() { # well-formed-looking requests: map floods from a foreign host
  local n
  for n in $(seq 1 200); do
    # shellcheck disable=SC2059
    printf "\\x00\\x01\\x00\\x00\\x$(printf %02x $((n % 200 + 16)))\\x00\\x00\\x00\\x00\\x00\\x0e\\x10" |
      evil nc -u -w0 -s "$EVILIP" "$GWIP" 5351 >/dev/null 2>&1
  done
}
slowloris() { # many connections that send a header byte every 0.3 s and never finish
  local n
  for n in $(seq 1 20); do
    (for _ in $(seq 1 30); do printf 'X'; sleep 0.3; done) |
      evil timeout 12 nc -w 12 "$GWIP" 5000 >/dev/null 2>&1 &
  done
}
oversized() { # a 1 MiB header and a 4 MiB body, from a host the slowloris has not used up
  { printf 'GET /rootDesc.xml HTTP/1.1\r\nHost: x\r\nX-Junk: '; head -c 1048576 /dev/zero | tr '\0' a; printf '\r\n\r\n'; } |
    rt timeout 5 nc -w 3 -s "$FORGEIP" "$GWIP" 5000 >"$WORK/big1.out" 2>/dev/null
  { printf 'POST /ctl/IPConn HTTP/1.1\r\nHost: x\r\nContent-Length: 4194304\r\n\r\n'; head -c 4194304 /dev/zero; } |
    rt timeout 5 nc -w 3 -s "$FORGEIP" "$GWIP" 5000 >"$WORK/big2.out" 2>/dev/null
}
slowloris
flood_udp 5351 &
F1=$!
flood_udp 1900 &
F2=$!
flood_pmp_like &
F3=$!
oversized &
F4=$!
PIDS+=("$F1" "$F2" "$F3" "$F4")
sleep 0.5
upnp_ok=0 pmp_ok=0
if command -v upnpc >/dev/null 2>&1; then
  lan timeout 15 upnpc -m "fh1$SUF" -a "$LANIP" 4300 4300 TCP >"$WORK/u.out" 2>&1 &&
    grep -q "external $EXTIP:4300 TCP is redirected to internal $LANIP:4300" "$WORK/u.out" && upnp_ok=1
else
  lan timeout 15 "$BIN" nat map --nat upnp --proto tcp --port 4300 >"$WORK/u.out" 2>&1 &&
    grep -q "mapped tcp 4300 -> $EXTIP:" "$WORK/u.out" && upnp_ok=1
fi
if command -v natpmpc >/dev/null 2>&1; then
  lan timeout 15 natpmpc -g "$GWIP" -a 4301 4301 udp 3600 >"$WORK/n.out" 2>&1 &&
    grep -q "Mapped public port 4301 protocol UDP to local port 4301" "$WORK/n.out" && pmp_ok=1
else
  lan timeout 15 "$BIN" nat map --nat "pmp:$GWIP" --proto udp --port 4301 >"$WORK/n.out" 2>&1 &&
    grep -q "mapped udp 4301 -> $EXTIP:4301" "$WORK/n.out" && pmp_ok=1
fi
wait "$F1" "$F2" "$F3" "$F4" 2>/dev/null
sleep 0.3
rss1=$(rss_kb "${GWPID[main]}")
alive=1
kill -0 "${GWPID[main]}" 2>/dev/null || alive=0
if [ $upnp_ok = 1 ] && [ $pmp_ok = 1 ] && [ $alive = 1 ] && [ "$rss1" -lt $((rss0 + 8192)) ]; then
  ok "floods-at-gateway (upnp and nat-pmp mappings made during the flood; RSS ${rss0} -> ${rss1} kB)"
else
  cat "$WORK/u.out" "$WORK/n.out"
  fail "floods-at-gateway (upnp=$upnp_ok pmp=$pmp_ok alive=$alive RSS ${rss0} -> ${rss1} kB)"
fi
evil_maps=$(grep -c -- "^added .* -> $EVILIP:" "$WORK/main.out")
if grep -q "^HTTP/1.1 431" "$WORK/big1.out" && grep -q "^HTTP/1.1 413" "$WORK/big2.out" && [ "$evil_maps" -le 32 ]; then
  ok "oversized-http (431 and 413 answered; the flooder holds $evil_maps mappings, its quota is 32)"
else
  head -c 300 "$WORK/big1.out"
  fail "oversized-http"
fi

# ---- node cases (only when `ethp2p node` exists) ----------------------------------
# The node runs on the LAN host behind its own gateway (.12, NAT-PMP with the
# random-port quirk, so that a router restart changes the mapped ports and thus
# the record).  Its data directory is a bind mount in a private mount
# namespace, so it can be made read-only under the running node.
node_cases() {
  local nd="$WORK/node" npid line0 lines0 rc
  mkdir -p "$nd"
  # shellcheck disable=SC2016 # expanded by the inner sh
  ip netns exec "$LNS" unshare -m --propagation private sh -c \
    'mount --bind "$1" "$1" && exec "$2" node --datadir "$1" --nat "pmp:$3" --port 30303 --verbosity 4' \
    sh "$nd" "$BIN" "$NODEGWIP" >"$WORK/node.out" 2>"$WORK/node.err" &
  npid=$!
  PIDS+=("$npid")
  # Running once both mappings are made and the record says so.
  if ! wait_for "$WORK/nodegw.out" '^added tcp' 100 || ! wait_for "$WORK/nodegw.out" '^added udp' 50 ||
    ! wait_for "$WORK/node.out" '^enr:' 50; then
    cat "$WORK/node.err" "$WORK/nodegw.out"
    fail "node-start (the node did not map its ports)"
    return
  fi
  sleep 1
  lines0=$(wc -l <"$WORK/node.out")
  line0=$(tail -1 "$WORK/node.out")

  # Junk UDP at the discovery port and junk TCP connections at the listener.
  local n junk=()
  for n in $(seq 1 300); do
    head -c $((n % 200 + 1)) /dev/urandom
    printf '\n'
  done | evil nc -u -w0 -s "$EVILIP" "$LANIP" 30303 >/dev/null 2>&1
  for n in $(seq 1 40); do
    head -c $((n * 37)) /dev/urandom | evil timeout 2 nc -w 1 "$LANIP" 30303 >/dev/null 2>&1 &
    junk+=("$!")
  done
  for n in $(seq 1 20); do
    evil timeout 1 nc -z -w 1 "$LANIP" 30303 >/dev/null 2>&1 &
    junk+=("$!")
  done
  wait "${junk[@]}" 2>/dev/null
  sleep 0.5
  if kill -0 "$npid" 2>/dev/null && [ "$(wc -l <"$WORK/node.out")" = "$lines0" ] &&
    [ "$(tail -1 "$WORK/node.out")" = "$line0" ]; then
    ok "node-junk-udp-tcp (node running, record unchanged: ${line0:0:40}...)"
  else
    tail -n 8 "$WORK/node.out" "$WORK/node.err" "$WORK/nodegw.out"
    fail "node-junk-udp-tcp"
  fi

  # Read-only data directory when seq is written: remount it read-only inside
  # the node's mount namespace, then restart the router (mappings lost; new
  # random ports; the record changes and its seq must be stored).
  local seqfile="$nd/enr-seq" seq0
  seq0=$(cat "$seqfile" 2>/dev/null)
  if ! nsenter -t "$npid" -m mount -o remount,bind,ro "$nd" 2>"$WORK/ro.err" ||
    nsenter -t "$npid" -m sh -c "echo x >'$nd/probe'" 2>/dev/null; then
    cat "$WORK/ro.err"
    fail "node-readonly-datadir (cannot make the data directory read-only)"
    return
  fi
  kill -HUP "${GWPID[nodegw]}"
  if wait_for "$WORK/node.err" "Couldn't store record sequence number" 100; then
    sleep 0.5
  fi
  rc=0
  kill -0 "$npid" 2>/dev/null || rc=1
  if [ $rc = 0 ] && grep -q "Couldn't store record sequence number" "$WORK/node.err" &&
    [ "$(wc -l <"$WORK/node.out")" -gt "$lines0" ] && [ "$(cat "$seqfile" 2>/dev/null)" = "$seq0" ]; then
    ok "node-readonly-datadir (said: $(grep -m1 "Couldn't store record sequence number" "$WORK/node.err" | cut -c1-110); still running with a new record)"
  else
    tail -n 8 "$WORK/node.out" "$WORK/node.err" "$WORK/nodegw.out"
    fail "node-readonly-datadir (alive=$((1 - rc)))"
  fi
  { kill -INT "$npid"; wait "$npid"; } 2>/dev/null
}
if "$BIN" node --help >/dev/null 2>&1; then
  node_cases
else
  echo "ok node-cases skipped: this ethp2p has no 'node' command"
fi

# ---- the PCP kill case started above ----------------------------------------------
wait "$K2"
rc=$?
dt=$((($(date +%s%N) - t_pcpkill) / 1000000))
if [ $rc = 1 ] && [ $dt -lt 40000 ] && [ -s "$WORK/k2.err" ] && ! [ -s "$WORK/k2.out" ]; then
  ok "router-killed-pcp (exit 1 after ${dt} ms: $(head -1 "$WORK/k2.err"))"
else
  cat "$WORK/k2.out" "$WORK/k2.err"
  fail "router-killed-pcp (rc=$rc after ${dt} ms)"
fi

# ---- the survivors exit cleanly, and no sanitizer spoke (ASan builds) ----------------
rcs=
for name in main slow nodegw; do
  pid=${GWPID[$name]}
  kill -TERM "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  rcs="$rcs $name=$?"
done
if [ "$rcs" = " main=0 slow=0 nodegw=0" ] &&
  ! grep -l -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$WORK"/*.err >/dev/null 2>&1; then
  ok "clean-exit (gateways exit 0 on SIGTERM after all of the above; no sanitizer report)"
else
  grep -h -A5 -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$WORK"/*.err 2>/dev/null | head -40
  fail "clean-exit (exit codes:$rcs)"
fi

exit $FAIL
