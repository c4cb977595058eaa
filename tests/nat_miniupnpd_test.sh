#!/usr/bin/env bash
# Our NAT clients against a real router: miniupnpd 2.3.1 in network namespaces (tests/lab).
# For each mechanism (pmp, pcp, upnp): the external address is found, TCP and UDP ports are mapped
# so that a host on the WAN side really reaches the LAN host, the router lists them, and unmap
# removes them.  Skips (77) when not root or when namespaces/miniupnpd are unavailable.
set -u
BIN=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lab/router-lab.sh"
lab_available || exit 77
"$BIN" nat --help >/dev/null 2>&1 || { echo "ethp2p has no nat command"; exit 1; }
command -v nc >/dev/null || { echo "nc missing (netcat-openbsd)"; exit 1; }
lab_up || exit 1

fail=0
check() { # check NAME CONDITION-EXIT-CODE
  if [ "$2" = 0 ]; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi
}

port=5100
for mech in pmp pcp upnp; do
  out=$(lab_lan timeout 20 "$BIN" nat extip --nat "$mech" 2>&1)
  [ "$out" = "$LAB_WAN_IP" ]; check "$mech extip prints $LAB_WAN_IP (got: $out)" $?

  for proto in tcp udp; do
    port=$((port + 1))
    out=$(lab_lan timeout 20 "$BIN" nat map --nat "$mech" --proto $proto --port $port --lifetime 600 2>&1)
    rc=$?
    echo "$out" | grep -Eq "^mapped $proto $port -> $LAB_WAN_IP:[0-9]+ lifetime [0-9]+s via "; check "$mech map $proto $port: $out" $((rc + $?))
    ext=$(echo "$out" | sed -nE "s/^mapped $proto $port -> [0-9.]+:([0-9]+) .*/\1/p")
    [ -n "$ext" ] || ext=0
    # A WAN host reaches the LAN host through the mapping.
    rm -f "$LAB_DIR/got"
    if [ $proto = tcp ]; then
      lab_lan timeout 5 nc -l -p "$port" >"$LAB_DIR/got" 2>/dev/null &
      lpid=$!; sleep 0.3
      echo "hello-$mech" | lab_wan timeout 3 nc -N -w 2 "$LAB_WAN_IP" "$ext" 2>/dev/null
    else
      lab_lan timeout 3 nc -u -l -p "$port" >"$LAB_DIR/got" 2>/dev/null &
      lpid=$!; sleep 0.3
      echo "hello-$mech" | lab_wan timeout 1 nc -u -w 1 "$LAB_WAN_IP" "$ext" 2>/dev/null
    fi
    wait $lpid 2>/dev/null
    grep -q "hello-$mech" "$LAB_DIR/got" 2>/dev/null; check "$mech $proto: WAN host reached LAN host via $LAB_WAN_IP:$ext" $?

    lab_lan upnpc -l 2>/dev/null | grep -Eiq "$proto +$ext->$LAB_LAN_IP:$port"; check "$mech $proto: router lists $ext->$port" $?
    lab_lan timeout 20 "$BIN" nat unmap --nat "$mech" --proto $proto --port $port --external-port "$ext" >/dev/null 2>&1
    check "$mech unmap $proto exit code" $?
    ! lab_lan upnpc -l 2>/dev/null | grep -Eiq "$proto +$ext->$LAB_LAN_IP:$port"; check "$mech $proto: router no longer lists it" $?
  done
done

out=$(lab_lan "$BIN" nat extip --nat 'bogus' 2>&1); rc=$?
[ $rc = 2 ] && echo "$out" | grep -q 'unknown mechanism "bogus"'; check "bad --nat spec: exit 2 with geth's text" $?
# As go-ethereum: "extip" alone lacks the IP; "extip:" has an empty, hence invalid, one.
out=$(lab_lan "$BIN" nat extip --nat 'extip' 2>&1); rc=$?
[ $rc = 2 ] && echo "$out" | grep -q 'missing IP address'; check "extip without IP: exit 2, missing IP address" $?
out=$(lab_lan "$BIN" nat extip --nat 'extip:' 2>&1); rc=$?
[ $rc = 2 ] && echo "$out" | grep -q 'invalid IP address'; check "extip: with empty IP: exit 2, invalid IP address" $?

exit $fail
