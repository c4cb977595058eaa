#!/usr/bin/env bash
# Time from process start to a confirmed mapping against a real miniupnpd (tests/lab), for
# `ethp2p nat map` over PCP, NAT-PMP and UPnP, next to the reference clients natpmpc and upnpc
# doing the same in the same run.  Then, for a running `ethp2p node` per mechanism: time from
# a router restart (miniupnpd back up, its mappings flushed) to the node's port forwarded
# again, and from a WAN address change (miniupnpd told with SIGUSR1) to a record with the new
# address.  Prints medians of RUNS runs as BENCH lines (FOLLOW_RUNS for the node figures).
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

# Time from `ethp2p node` start to a record on stdout that carries the router's WAN address
# (the first record carries the fallback 127.0.0.1 until the router has answered).
node_ms() { # prints microseconds for one node start with mechanism $1, or nothing on failure
  # stdout goes through a FIFO read with bash builtins ($EPOCHREALTIME, read -t), so the
  # measurement itself forks nothing while it waits.
  local m=$1 dir t0 now line pid n=0 ip
  dir=$(mktemp -d "$LAB_DIR/node.XXXXXX")
  mkfifo "$dir/fifo"
  t0=${EPOCHREALTIME/./}
  # `ip netns exec` directly (not the lab_lan function): it execs the node, so $! is the node.
  ip netns exec "$LAB_L" "$BIN" node --datadir "$dir" --nat "$m" --port $((20000 + RANDOM % 20000)) \
    --verbosity 0 >"$dir/fifo" 2>/dev/null &
  pid=$!
  exec 7<"$dir/fifo"
  while IFS= read -r -t 10 line <&7; do
    now=${EPOCHREALTIME/./}
    case $line in enr:*) ;; *) continue ;; esac
    ip=$("$BIN" enr dump "$line" 2>/dev/null | grep -E '"(ip|tcp)"' | tr -s ' ' | tr '\n' ' ')
    # mapped: the router's address and a TCP port in the record
    if [[ $ip == *"$LAB_WAN_IP"* && $ip == *'"tcp"'* ]]; then echo $((now - t0)); break; fi
  done
  kill -TERM $pid 2>/dev/null; cat <&7 >/dev/null; exec 7<&-; wait $pid 2>/dev/null
  rm -rf "$dir"
}
for m in pcp pmp upnp any; do
  samples=""
  for i in $(seq 1 "$RUNS"); do samples+="$(node_ms $m)"$'\n'; done
  n=$(printf '%s' "$samples" | grep -c '[0-9]')
  if [ "$n" -gt 0 ]; then
    echo "BENCH node_time_to_mapped_record_ms_$m $(printf '%s' "$samples" | grep '[0-9]' | median) ms"
  else
    echo "BENCH-FAIL node_time_to_mapped_record_ms_$m: no mapped record seen"
  fi
done

# --- a running node follows the router -----------------------------------------------------
FOLLOW_RUNS=${FOLLOW_RUNS:-3}
ms_now() { echo $(( $(date +%s%N) / 1000000 )); }
# forwarded PORT: miniupnpd's nft DNAT rule for the TCP port is there
forwarded() {
  lab_router nft list chain inet filter prerouting_miniupnpd 2>/dev/null |
    grep -Eq "0x6 th dport $1 dnat ip to ${LAB_LAN_IP//./\\.}:$1"
}
# record_has FILE IP: the last record in FILE carries IP
record_has() {
  local rec
  rec=$(grep '^enr:' "$1" | tail -1)
  [ -n "$rec" ] && "$BIN" enr dump "$rec" 2>/dev/null | grep -Eq "^ *\"ip\" +${2//./\\.}\$"
}
wait_ms() { # wait_ms MS CMD...: prints the ms CMD took to succeed, or nothing
  local t0 deadline
  t0=$(ms_now); deadline=$((t0 + $1)); shift
  until "$@"; do [ "$(ms_now)" -lt "$deadline" ] || return 1; sleep 0.02; done
  echo $(( $(ms_now) - t0 ))
}
declare -A fol
for m in upnp pcp pmp; do
  for i in $(seq 1 "$FOLLOW_RUNS"); do
    dir=$(mktemp -d "$LAB_DIR/follow.XXXXXX")
    port=$((20000 + RANDOM % 20000))
    ip netns exec "$LAB_L" "$BIN" node --datadir "$dir" --nat "$m" --port "$port" \
      --verbosity 3 >"$dir/out" 2>"$dir/err" &
    pid=$!
    if wait_ms 20000 forwarded "$port" >/dev/null && wait_ms 20000 record_has "$dir/out" "$LAB_WAN_IP" >/dev/null; then
      # A reboot right after start-up cannot be told from a NAT-PMP/PCP epoch (RFC 6886 §3.6
      # allows 2 s of slack and 7/8 of the elapsed time): every mechanism gets 8 s first.
      sleep 8
      lab_stop_miniupnpd
      for c in miniupnpd prerouting_miniupnpd postrouting_miniupnpd; do
        lab_router nft flush chain inet filter $c
      done
      lab_start_miniupnpd >/dev/null 2>&1
      t=$(wait_ms 30000 forwarded "$port") && fol[${m}_restart]+="$((t * 1000))"$'\n'
      old=$LAB_WAN_IP
      if [ "$old" = 11.22.33.1 ]; then new=11.22.44.1; else new=11.22.33.1; fi
      t0=$(ms_now)
      lab_change_wan_ip "$new"
      t=$(wait_ms 30000 record_has "$dir/out" "$new") && fol[${m}_newip]+="$(( ($(ms_now) - t0) * 1000 ))"$'\n'
    fi
    kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    rm -rf "$dir"
  done
done
for m in upnp pcp pmp; do
  for k in restart newip; do
    name=$([ $k = restart ] && echo "${m}_restart_to_mapped_ms" || echo "${m}_newip_to_record_ms")
    v=${fol[${m}_$k]:-}
    if [ -n "$v" ]; then
      echo "BENCH $name $(printf '%s' "$v" | median) ms"
    else
      echo "BENCH-FAIL $name: not seen within 30 s"
    fi
  done
done
# Reference in the same run: a bare `nat map` over each mechanism (what a re-map costs).
awk -v a="$(printf '%s' "${fol[upnp_restart]:-0}" | median)" -v b="$upnp" \
  'BEGIN {if (b > 0) printf "BENCH upnp_restart_to_mapped_vs_nat_map %.2f ratio\n", a/b}'
