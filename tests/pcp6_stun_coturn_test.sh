#!/usr/bin/env bash
# tests/pcp6_stun_coturn_test.sh — STUN over IPv6 (nat/stun.c) against the real coturn
# (turnserver) listening on [::1] only: `ethp2p nat extip --nat stun:[::1]:PORT` answers ::1,
# the address coturn saw (XOR-MAPPED-ADDRESS family 0x02); in a list of both families, after an
# IPv4 server that does not answer (127.0.0.1:9), the IPv6 one is asked from an IPv6 socket.
# Loopback only.  Args: the ethp2p binary and the testdata folder.
# Exit 77 (skipped) without turnserver or an IPv6 loopback.
set -u
ETHP2P=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
command -v turnserver >/dev/null || { echo "skipped: needs turnserver (coturn)"; exit 77; }
command -v ss >/dev/null || { echo "skipped: needs ss"; exit 77; }
ip -6 addr show dev lo 2>/dev/null | grep -q "::1/128" || { echo "skipped: no ::1"; exit 77; }
DIR=$(mktemp -d /tmp/e2p-stun6.XXXXXX)
TPID=""
cleanup() {
  [ -n "$TPID" ] && kill "$TPID" 2>/dev/null && wait "$TPID" 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
# a free UDP port on [::1], from this run's pid
PORT=""
for i in 0 1 2 3 4 5 6 7 8 9; do
  p=$((30000 + ($$ * 7 + i * 131) % 20000))
  ss -uln | grep -q "\]:$p " || { PORT=$p; break; }
done
[ -n "$PORT" ] || { echo "no free port"; exit 1; }
turnserver -n --no-cli --listening-ip=::1 --listening-port="$PORT" --no-tls --no-dtls \
  --stun-only --no-auth --log-file=stdout --pidfile="$DIR/pid" >"$DIR/log" 2>&1 &
TPID=$!
deadline=$((SECONDS + 5))
until ss -uln | grep -q "\[::1\]:$PORT "; do
  [ $SECONDS -lt $deadline ] || { echo "coturn did not listen on [::1]:$PORT"; cat "$DIR/log"; exit 1; }
  sleep 0.1
done
FAILS=0
out=$(timeout 20 "$ETHP2P" nat extip --nat "stun:[::1]:$PORT" --timeout 5s 2>&1); rc=$?
if [ $rc -eq 0 ] && [ "$out" = "::1" ]; then echo "ok: coturn on [::1] says we are ::1"; else
  echo "FAIL: nat extip via coturn: exit $rc, output: $out"; FAILS=$((FAILS + 1)); fi
# both families in one list: the IPv4 entry has nobody listening, the IPv6 one answers
out=$(timeout 30 "$ETHP2P" nat extip --nat "stun:127.0.0.1:9,[::1]:$PORT" --timeout 15s 2>&1); rc=$?
if [ $rc -eq 0 ] && [ "$out" = "::1" ]; then echo "ok: after a silent IPv4 server, coturn over IPv6 answers"; else
  echo "FAIL: mixed list: exit $rc, output: $out"; FAILS=$((FAILS + 1)); fi
if [ $FAILS -ne 0 ]; then tail -n 30 "$DIR/log"; exit 1; fi
echo "all STUN/IPv6 checks passed"
