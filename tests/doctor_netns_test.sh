#!/usr/bin/env bash
# tests/doctor_netns_test.sh — `ethp2p nat doctor` behaviour discovery against
# coturn behind a real Linux NAT, compared with Debian's `stun` client and
# coturn's `turnutils_natdiscovery`.
#
# Usage: bash tests/doctor_netns_test.sh <ethp2p-binary> <testdata-dir>
# Needs root, ip netns, nft, turnserver (Debian coturn); exits 77 otherwise.
#
# Lab (all names end in $$; a trap always deletes them):
#   server ns  198.51.100.10 and .11 on one veth, coturn --stun-only on both
#              (RFC 5780: alternate port 34781)
#   nat ns     WAN 198.51.100.1/24, LAN 192.168.99.1/24, nftables masquerade
#              (run 1: plain; run 2: `masquerade fully-random`)
#   client ns  192.168.99.2/24, default via 192.168.99.1
# The client runs `ethp2p nat doctor --nat none --stun 198.51.100.10:34780 --json`,
# `stun 198.51.100.10:34780 -v` and `turnutils_natdiscovery -m -f`; mapping and
# filtering must agree with what Linux does (plain: endpoint-independent mapping,
# address-and-port-dependent filtering, port-preserving; fully-random:
# address-and-port-dependent mapping and filtering, random allocation) and with
# the reference classifiers wherever they give an answer.  Nothing leaves the
# namespaces (the 198.51.100.0/24 documentation range exists only inside them).
# Then, when miniupnpd is installed, the doctor runs behind tests/lab/router-lab.sh's real
# router (UPnP IGD, NAT-PMP, PCP) with coturn on the WAN side and must say "yes".
set -u

BIN=${1:?usage: doctor_netns_test.sh <ethp2p> <testdata>}
SUF=$$
SNS="e2pd-s-$SUF"
NNS="e2pd-n-$SUF"
CNS="e2pd-c-$SUF"
A=198.51.100.10
B=198.51.100.11
NATW=198.51.100.1
NATL=192.168.99.1
CLI=192.168.99.2
PORT=34780
WORK=$(mktemp -d /tmp/ethp2p-doctor.XXXXXX)
TURNPID=
FAILS=0

skip() { echo "SKIP: $*"; rm -rf "$WORK"; exit 77; }
[ -x "$BIN" ] || skip "no binary $BIN"
"$BIN" nat doctor --help >/dev/null 2>&1 || skip "this ethp2p has no 'nat doctor'"

# Usage errors first: no privileges, no network.
usage_rc() { "$BIN" nat doctor "$@" >/dev/null 2>&1; echo $?; }
for bad in "--port 0" "--port 70000" "--nat weird" "--stun 1.2.3.4:0" "--bogus" "extra"; do
  # shellcheck disable=SC2086 # split on purpose
  [ "$(usage_rc $bad)" = 2 ] || { echo "FAIL: 'nat doctor $bad' should exit 2"; rm -rf "$WORK"; exit 1; }
done
"$BIN" nat doctor --help | grep -q -- '--stun' || { echo "FAIL: --help"; rm -rf "$WORK"; exit 1; }
echo "ok: usage errors exit 2"
[ "$(id -u)" = 0 ] || skip "needs root"
command -v ip >/dev/null 2>&1 || skip "no ip(8)"
command -v nft >/dev/null 2>&1 || skip "no nft"
command -v turnserver >/dev/null 2>&1 || skip "no turnserver (Debian coturn)"
command -v jq >/dev/null 2>&1 || skip "no jq"

# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
  # Kill everything inside our namespaces first: "$!" of a backgrounded `inS ...` is the
  # subshell, not turnserver, and deleting a namespace does not end its processes.
  local ns
  for ns in "$SNS" "$NNS" "$CNS"; do ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null; done
  [ -n "$TURNPID" ] && wait "$TURNPID" 2>/dev/null
  for ns in "$SNS" "$NNS" "$CNS"; do ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null; done
  ip netns del "$SNS" 2>/dev/null
  ip netns del "$NNS" 2>/dev/null
  ip netns del "$CNS" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

ip netns add "$SNS" 2>/dev/null || skip "cannot create network namespaces"
ip netns add "$NNS" || exit 1
ip netns add "$CNS" || exit 1
inS() { ip netns exec "$SNS" "$@"; }
inN() { ip netns exec "$NNS" "$@"; }
inC() { ip netns exec "$CNS" "$@"; }

set -e
ip link add "ds$SUF" netns "$SNS" type veth peer name "dw$SUF" netns "$NNS"
ip link add "dl$SUF" netns "$NNS" type veth peer name "dc$SUF" netns "$CNS"
inS ip link set lo up
inN ip link set lo up
inC ip link set lo up
inS ip addr add "$A/24" dev "ds$SUF"
inS ip addr add "$B/24" dev "ds$SUF"
inS ip link set "ds$SUF" up
inN ip addr add "$NATW/24" dev "dw$SUF"
inN ip addr add "$NATL/24" dev "dl$SUF"
inN ip link set "dw$SUF" up
inN ip link set "dl$SUF" up
inN sysctl -qw net.ipv4.ip_forward=1
inC ip addr add "$CLI/24" dev "dc$SUF"
inC ip link set "dc$SUF" up
inC ip route add default via "$NATL"
set +e

inS turnserver -n --listening-ip="$A" --listening-ip="$B" --listening-port="$PORT" \
  --stun-only --no-tls --no-dtls --no-cli --log-file=stdout --simple-log \
  --pidfile="$WORK/turn.pid" >"$WORK/turn.log" 2>&1 &
TURNPID=$!
for _ in $(seq 1 50); do
  inS ss -uln 2>/dev/null | grep -q "$B:$((PORT + 1))" && break
  sleep 0.1
done
inS ss -uln | grep -q "$B:$((PORT + 1))" || { echo "FAIL: coturn did not start"; cat "$WORK/turn.log"; exit 1; }

set_nat() { # $1: "" or "fully-random"
  inN nft delete table ip e2pdnat 2>/dev/null
  inN nft -f - <<EOF
table ip e2pdnat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "dw$SUF" masquerade $1
  }
}
EOF
  inN conntrack -F >/dev/null 2>&1 || true
}

# Debian stun (stund 0.97) prints e.g. "Primary: Independent Mapping, Port Dependent Filter, ...".
stun_class() {
  local out
  out=$(inC timeout 20 stun "$A:$PORT" -v 2>&1)
  echo "$out" >"$WORK/stun.$1.txt"
  local m f
  case "$out" in
    *"Independent Mapping"* | *"Indepndent Mapping"*) m=endpoint-independent ;;
    *"Dependent Mapping"*) m=not-endpoint-independent ;;
    *) m=unknown ;;
  esac
  case "$out" in
    *"Independent Filter"*) f=endpoint-independent ;;
    *"Address Dependent Filter"*) f=address-dependent ;;
    *"Port Dependent Filter"*) f=address-and-port-dependent ;;
    *) f=unknown ;;
  esac
  local a h
  case "$out" in
    *"preserves ports"*) a=port-preserving ;;
    *"random port"*) a=random ;;
    *) a=unknown ;;
  esac
  case "$out" in
    *"no hairpin"*) h=no ;;
    *"will hairpin"*) h=yes ;;
    *) h=unknown ;;
  esac
  echo "$m $f $a $h"
}

# coturn's turnutils_natdiscovery prints RFC 5780 verdicts such as
# "NAT with Endpoint Independent Mapping!" / "... Address and Port Dependent Filtering!".
natdisc_class() {
  local out m f
  if ! command -v turnutils_natdiscovery >/dev/null 2>&1; then echo "unknown unknown"; return; fi
  out=$(inC timeout 30 turnutils_natdiscovery -m -f -p "$PORT" "$A" 2>&1)
  echo "$out" >"$WORK/natdisc.$1.txt"
  case "$out" in
    *"Endpoint Independent Mapping"* | *"No NAT"*) m=endpoint-independent ;;
    *"Address and Port Dependent Mapping"*) m=address-and-port-dependent ;;
    *"Address Dependent Mapping"*) m=address-dependent ;;
    *) m=unknown ;;
  esac
  case "$out" in
    *"Endpoint Independent Filtering"*) f=endpoint-independent ;;
    *"Address and Port Dependent Filtering"*) f=address-and-port-dependent ;;
    *"Address Dependent Filtering"*) f=address-dependent ;;
    *) f=unknown ;;
  esac
  echo "$m $f"
}

agree() { # $1 label, $2 ours, $3 reference ("unknown" = no answer: reported, not failed)
  if [ "$3" = unknown ]; then
    echo "  $1: ours=$2 reference=no answer"
  elif [ "$2" = "$3" ] || { [ "$3" = not-endpoint-independent ] && [ "$2" != endpoint-independent ]; }; then
    echo "  $1: ours=$2 reference=$3 AGREE"
  else
    echo "  $1: ours=$2 reference=$3 DISAGREE"
    return 1
  fi
}

run_case() { # $1 name, $2 nft masquerade flags, $3 want mapping, $4 want filtering, $5 want allocation
  local name=$1
  set_nat "$2"
  local t0 t1 json m f al
  t0=$(date +%s%N)
  json=$(inC "$BIN" nat doctor --nat none --stun "$A:$PORT" --json 2>"$WORK/doctor.$name.err")
  t1=$(date +%s%N)
  echo "$json" >"$WORK/doctor.$name.json"
  if grep -q Sanitizer "$WORK/doctor.$name.err"; then
    echo "FAIL: $name: sanitizer report"; cat "$WORK/doctor.$name.err"; FAILS=$((FAILS + 1))
  fi
  m=$(echo "$json" | jq -r .behavior.mapping)
  f=$(echo "$json" | jq -r .behavior.filtering)
  al=$(echo "$json" | jq -r .behavior.allocation)
  echo "case $name (masquerade $2): ethp2p says mapping=$m filtering=$f allocation=$al" \
    "reflexive=$(echo "$json" | jq -r .behavior.reflexive_address) in $(((t1 - t0) / 1000000)) ms"
  [ "$m" = "$3" ] || { echo "FAIL: $name mapping $m, want $3"; FAILS=$((FAILS + 1)); }
  [ "$f" = "$4" ] || { echo "FAIL: $name filtering $f, want $4"; FAILS=$((FAILS + 1)); }
  [ "$al" = "$5" ] || { echo "FAIL: $name allocation $al, want $5"; FAILS=$((FAILS + 1)); }
  [ "$(echo "$json" | jq -r .behavior.reflexive_address | cut -d: -f1)" = "$NATW" ] \
    || { echo "FAIL: $name reflexive address is not the NAT's"; FAILS=$((FAILS + 1)); }
  [ "$(echo "$json" | jq -r .verdict.reachable)" = no ] \
    || { echo "FAIL: $name verdict is not 'no'"; FAILS=$((FAILS + 1)); }
  echo "$json" | jq -e '.protocols | has("upnp") and has("natpmp") and has("pcp")' >/dev/null \
    || { echo "FAIL: $name protocols missing"; FAILS=$((FAILS + 1)); }

  local sm sf sa sh nm nf hp
  hp=$(echo "$json" | jq -r .behavior.hairpinning)
  read -r sm sf sa sh <<<"$(stun_class "$name")"
  read -r nm nf <<<"$(natdisc_class "$name")"
  echo " vs Debian stun:"
  agree mapping "$m" "$sm" || echo "    (stun output in the log below)"
  agree filtering "$f" "$sf"
  agree allocation "$al" "$sa"
  agree hairpinning "$hp" "$sh"
  echo " vs turnutils_natdiscovery:"
  agree mapping "$m" "$nm" || FAILS=$((FAILS + 1))
  agree filtering "$f" "$nf" || FAILS=$((FAILS + 1))
  echo "  stun said:  $(grep -E 'Primary|Return value' "$WORK/stun.$name.txt" | tr '\n' ' ')"
  echo "  natdiscovery said: $(grep -iE 'mapping!|filtering!|No NAT' "$WORK/natdisc.$name.txt" | tr '\n' ' ')"
}

run_case plain "" endpoint-independent address-and-port-dependent port-preserving
run_case fully-random "fully-random" address-and-port-dependent address-and-port-dependent random

# The human screen has the verdict line in its exact form.
inC "$BIN" nat doctor --nat none --stun "$A:$PORT" --port 30303 >"$WORK/screen.txt" 2>&1
grep -q '^reachable from the internet on tcp/30303 and udp/30303: no$' "$WORK/screen.txt" \
  || { echo "FAIL: verdict line"; cat "$WORK/screen.txt"; FAILS=$((FAILS + 1)); }

# A STUN server that does not answer: unknown, within a few seconds.
t0=$(date +%s)
json=$(inC "$BIN" nat doctor --nat none --stun "$A:9" --json 2>/dev/null)
t1=$(date +%s)
[ "$(echo "$json" | jq -r .behavior.mapping)" = unknown ] \
  || { echo "FAIL: no STUN answer should give unknown"; FAILS=$((FAILS + 1)); }
[ $((t1 - t0)) -le 8 ] || { echo "FAIL: doctor took $((t1 - t0)) s with no answer"; FAILS=$((FAILS + 1)); }
echo "no STUN answer: mapping unknown after $((t1 - t0)) s"

# A real home router (miniupnpd with UPnP IGD, NAT-PMP and PCP, from tests/lab/router-lab.sh)
# and coturn on its WAN side: every protocol answers, the test mappings are added, confirmed
# and deleted, and the verdict is yes.
LABSH="$(dirname "$0")/lab/router-lab.sh"
if command -v miniupnpd >/dev/null 2>&1 && [ -f "$LABSH" ]; then
  LAB_ID="d$SUF" # read by router-lab.sh
  export LAB_ID
  # shellcheck source=/dev/null
  source "$LABSH"
  lab_up >"$WORK/lab.log" 2>&1
  LABRC=$?
  # lab_up installs its own EXIT trap: keep ours too.
  trap 'lab_down >/dev/null 2>&1; cleanup' EXIT
  if [ "$LABRC" = 0 ]; then
    WIF=$(lab_wan ip -o -4 addr show | awk '$4 ~ /^11\.22\.33\.2\// {print $2}')
    lab_wan ip addr add 11.22.33.3/24 dev "$WIF"
    lab_wan turnserver -n --listening-ip=11.22.33.2 --listening-ip=11.22.33.3 \
      --listening-port="$PORT" --stun-only --no-tls --no-dtls --no-cli --log-file=stdout \
      --pidfile="$WORK/turn2.pid" >"$WORK/turn2.log" 2>&1 &
    TURN2=$!
    for _ in $(seq 1 50); do
      lab_wan ss -uln 2>/dev/null | grep -q "11.22.33.3:$((PORT + 1))" && break
      sleep 0.1
    done
    json=$(lab_lan "$BIN" nat doctor --stun "11.22.33.2:$PORT" --port 30303 --json 2>/dev/null)
    kill "$(cat "$WORK/turn2.pid" 2>/dev/null)" "$TURN2" 2>/dev/null
    wait "$TURN2" 2>/dev/null
    echo "router lab: $(echo "$json" | jq -c '{upnp: .protocols.upnp.answered, igd: .protocols.upnp.igd_version, natpmp: .protocols.natpmp.answered, pcp: .protocols.pcp.answered, ext: .external_address.address, mapping: .behavior.mapping, filtering: .behavior.filtering, verdict: .verdict.reachable}')"
    for p in upnp natpmp pcp; do
      for t in tcp udp; do
        echo "$json" | jq -e ".protocols.$p.answered and .protocols.$p.test_mapping.$t.added and .protocols.$p.test_mapping.$t.confirmed and .protocols.$p.test_mapping.$t.deleted" >/dev/null \
          || { echo "FAIL: router lab $p $t test mapping"; FAILS=$((FAILS + 1)); }
      done
    done
    [ "$(echo "$json" | jq -r .protocols.upnp.igd_version)" = 2 ] || { echo "FAIL: router lab IGD version"; FAILS=$((FAILS + 1)); }
    # The node's own UPnP discovery chose miniupnpd's IGDv2 service, and says why.
    [ "$(echo "$json" | jq -r .protocols.upnp.chosen_service)" = urn:schemas-upnp-org:service:WANIPConnection:2 ] &&
      echo "$json" | jq -e '.protocols.upnp.choice | test("at the default gateway, connected, routable")' >/dev/null ||
      { echo "FAIL: router lab UPnP service choice: $(echo "$json" | jq -c '.protocols.upnp | {chosen_service, choice}')"; FAILS=$((FAILS + 1)); }
    [ "$(echo "$json" | jq -r .external_address.address)" = 11.22.33.1 ] || { echo "FAIL: router lab external address"; FAILS=$((FAILS + 1)); }
    [ "$(echo "$json" | jq -r .behavior.mapping)" = endpoint-independent ] || { echo "FAIL: router lab mapping"; FAILS=$((FAILS + 1)); }
    [ "$(echo "$json" | jq -r .verdict.reachable)" = yes ] || { echo "FAIL: router lab verdict"; FAILS=$((FAILS + 1)); }
    # Nothing left behind on the router.
    if lab_router nft list ruleset 2>/dev/null | grep -q "dport 30303"; then
      echo "FAIL: router lab: a test mapping was left on the router"; FAILS=$((FAILS + 1))
    fi
  else
    echo "router lab: could not start (see lab log); skipped that part"
  fi
fi

if [ "$FAILS" -ne 0 ]; then
  echo "FAIL: $FAILS check(s) failed"
  exit 1
fi
echo "PASS: doctor_netns_test"
exit 0
