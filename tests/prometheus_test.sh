#!/usr/bin/env bash
# tests/prometheus_test.sh — an operator's first hour: a node serves metrics on 127.0.0.1,
# a real Prometheus server (Debian package `prometheus`) with ONE scrape job scrapes it,
# and its query API shows the node's ethp2p_ series, including the port mappings the node
# made through a NAT-PMP gateway (`ethp2p gateway` on 127.0.0.1).
# The node is `ethp2p node --metrics --metrics.addr 127.0.0.1 --metrics.port N`.  promtool (same package)
# lints the exposition text.  Everything listens on 127.0.0.1 only (the node's p2p
# sockets bind 0.0.0.0 so that it registers mappings, but nothing is sent off-host).
# Usage: bash tests/prometheus_test.sh <ethp2p-binary> [testdata-dir]
# Exit 0 pass, 77 skip (not root, or prometheus/curl missing), other = fail.
set -euo pipefail

bin=${1:?usage: prometheus_test.sh <ethp2p-binary> [testdata-dir]}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (binds the NAT-PMP port of the gateway emulator)"; exit 77; }
for tool in prometheus curl; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not found (Debian package: prometheus)"; exit 77; }
done

tmp=$(mktemp -d /tmp/ethp2p-prom.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$tmp"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done
  exit 1
}

pick_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000))
}

wait_http() { # url seconds
  for _ in $(seq $(($2 * 10))); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# 1. A NAT-PMP gateway on loopback.
nat=none
"$bin" gateway --lan-addr 127.0.0.1 --external-ip 203.0.113.9 --no-upnp >"$tmp/gateway.log" 2>&1 &
pids+=($!)
sleep 0.5
if kill -0 "${pids[0]}" 2>/dev/null; then
  nat=pmp:127.0.0.1
else
  echo "note: the gateway emulator did not start (port 5351 busy?); continuing with --nat none"
fi

# 2. The node with metrics on 127.0.0.1.
mport=$(pick_port)
"$bin" node --datadir "$tmp/node" --nat "$nat" --port 0 --metrics --metrics.addr 127.0.0.1 \
  --metrics.port "$mport" >"$tmp/node.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$mport/metrics" 10 || fail "the node does not serve /metrics"
curl -fsS "http://127.0.0.1:$mport/metrics" >"$tmp/scrape.txt"
if command -v promtool >/dev/null; then
  promtool check metrics <"$tmp/scrape.txt" || fail "promtool check metrics found problems"
fi

# 3. Prometheus with one scrape job.
pport=$(pick_port)
cat >"$tmp/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: ethp2p
    static_configs:
      - targets: ['127.0.0.1:$mport']
YML
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
  --web.listen-address="127.0.0.1:$pport" --log.level=warn >"$tmp/prometheus.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$pport/-/ready" 30 || fail "prometheus did not become ready"

# 4. Ask Prometheus what it scraped.
query() { curl -fsS -G "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1"; }
expect() { # promql, a regular expression the JSON answer must match
  local ans=
  for _ in $(seq 150); do
    ans=$(query "$1" || true)
    if echo "$ans" | grep -Eq "$2"; then
      echo "ok: $1"
      return 0
    fi
    sleep 0.2
  done
  fail "query $1 answered $ans"
}
expect 'up{job="ethp2p"}' '"value":\[[0-9.]+,"1"\]'
expect 'ethp2p_enr_seq' '"__name__":"ethp2p_enr_seq".*"value":\[[0-9.]+,"[1-9][0-9]*"\]'
expect 'ethp2p_node_start_time_seconds' '"value":\[[0-9.]+,"1[0-9.e+]*"\]'
if [ "$nat" != none ]; then
  expect 'ethp2p_nat_info' '"mechanism":"NAT-PMP"'
  expect 'ethp2p_nat_mapping_up{proto="tcp"}' '"internal_port":"[0-9]+".*"value":\[[0-9.]+,"1"\]'
  expect 'ethp2p_nat_mapping_up{proto="udp"}' '"value":\[[0-9.]+,"1"\]'
  expect 'ethp2p_nat_mapping_lease_remaining_seconds > 0' '"proto":"tcp"'
  expect 'ethp2p_nat_external_address_info' '"address":"203.0.113.9"'
fi
echo "PASS: Prometheus scraped the node's ethp2p_ series"
