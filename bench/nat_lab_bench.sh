#!/usr/bin/env bash
# Time from process start to a confirmed mapping against a real miniupnpd (tests/lab), for
# `ethp2p nat map` over PCP, NAT-PMP and UPnP, next to the reference clients natpmpc and upnpc
# doing the same in the same run.  Prints medians of RUNS runs as BENCH lines.
# Needs root and network namespaces; otherwise prints a SKIP line and exits 0.
set -u
BIN=$(readlink -f "${1:-build/ethp2p}")
RUNS=${RUNS:-7}
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/tests/lab/router-lab.sh"
if ! lab_available 2>/dev/null || ! "$BIN" nat --help >/dev/null 2>&1; then
  echo "BENCH-SKIP nat_lab: needs root, network namespaces, miniupnpd and 'ethp2p nat'"; exit 0
fi
lab_up >/dev/null 2>&1 || { echo "BENCH-SKIP nat_lab: lab did not start"; exit 0; }

us_now() { echo $(( $(date +%s%N) / 1000 )); } # microseconds
median() { sort -n | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; printf "%.1f", m/1000}'; }

time_cmd() { # prints microseconds taken by "$@" (must succeed)
  local t0 t1
  t0=$(us_now)
  "$@" >/dev/null 2>&1 || { echo "FAILED: $*" >&2; echo 99999999; return; }
  t1=$(us_now)
  echo $((t1 - t0))
}

declare -A res
port=6000
for i in $(seq 1 "$RUNS"); do
  for m in pcp pmp upnp; do
    port=$((port + 1))
    res[$m]+="$(time_cmd lab_lan "$BIN" nat map --nat $m --proto udp --port $port --lifetime 600)"$'\n'
    lab_lan "$BIN" nat unmap --nat $m --proto udp --port $port >/dev/null 2>&1
  done
  port=$((port + 1))
  res[natpmpc]+="$(time_cmd lab_lan natpmpc -g "$LAB_LAN_GW" -a $port $port udp 600)"$'\n'
  lab_lan natpmpc -g "$LAB_LAN_GW" -a $port $port udp 0 >/dev/null 2>&1
  port=$((port + 1))
  res[upnpc]+="$(time_cmd lab_lan upnpc -a "$LAB_LAN_IP" $port $port UDP)"$'\n'
  lab_lan upnpc -d $port UDP >/dev/null 2>&1
done

pcp=$(printf '%s' "${res[pcp]}" | median)
pmp=$(printf '%s' "${res[pmp]}" | median)
upnp=$(printf '%s' "${res[upnp]}" | median)
natpmpc=$(printf '%s' "${res[natpmpc]}" | median)
upnpc=$(printf '%s' "${res[upnpc]}" | median)
echo "BENCH nat_map_pcp_ms $pcp ms"
echo "BENCH nat_map_pmp_ms $pmp ms"
echo "BENCH nat_map_upnp_ms $upnp ms"
echo "BENCH nat_map_natpmpc_ref_ms $natpmpc ms"
echo "BENCH nat_map_upnpc_ref_ms $upnpc ms"
awk -v a="$pcp" -v b="$natpmpc" 'BEGIN {printf "BENCH nat_map_pcp_vs_natpmpc %.2f ratio\n", a/b}'
awk -v a="$pmp" -v b="$natpmpc" 'BEGIN {printf "BENCH nat_map_pmp_vs_natpmpc %.2f ratio\n", a/b}'
