#!/usr/bin/env bash
# tests/firsthour_sim_network_test.sh — `ethp2p sim --network N` (no real network
# traffic: everything runs in the simulated world):
#   - a 60-node world prints plausible figures: every class of node exists, every
#     reachable node's table holds live entries, lookups of reachable nodes succeed,
#     nearly every node is in another node's table, strangers reach public and
#     mapped nodes but not filtered or dependent-mapping NATs, nodes without a
#     mapping protocol behind EI-mapping NATs learn their right endpoint from PONGs
#     and none behind AD/APD-mapping NATs claims one;
#   - the same seed prints the same figures (the wall-clock part aside), another
#     seed another world;
#   - bad options are usage errors.
# Usage: bash tests/firsthour_sim_network_test.sh BIN TESTDATA   (exit 77 = skipped)
set -u
BIN=${1:?usage: firsthour_sim_network_test.sh ETHP2P_BINARY TESTDATA}
[ -x "$BIN" ] || { echo "SKIP: $BIN not executable"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: no jq"; exit 77; }

WORK=$(mktemp -d /tmp/ethp2p-fh-simnet-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
PASS=0
fail() { echo "FAIL: $*"; exit 1; }
ok() { PASS=$((PASS + 1)); echo "ok: $*"; }
# check JQ-EXPR MESSAGE: the expression is true of run 1
check() { jq -e "$1" "$WORK/a.json" >/dev/null || fail "$2: $(jq -c "$3" "$WORK/a.json")"; ok "$2"; }

usage_err() {
  local re=$1 rc
  shift
  timeout 20 "$BIN" sim "$@" >"$WORK/u.out" 2>"$WORK/u.err"
  rc=$?
  [ "$rc" -eq 2 ] || fail "sim $*: exit $rc, want 2"
  grep -Eq -- "$re" "$WORK/u.err" || fail "sim $*: stderr lacks /$re/: $(cat "$WORK/u.err")"
  ok "sim $* -> 2 /$re/"
}
usage_err '--network must be 2..5000 nodes, got "1"' --network 1
usage_err '--network must be 2..5000 nodes, got "many"' --network many
usage_err 'unknown option --nat for --network' --network 10 --nat pmp
usage_err '--bootnodes 8 is more than the 5 nodes' --network 5 --bootnodes 8
usage_err 'invalid duration "forever" for --duration' --network 5 --duration forever
usage_err '--join must not be longer than --duration' --network 5 --duration 30s --join 1m

ARGS=(sim --network 60 --duration 2m --lookups 40 --json)
timeout 300 "$BIN" "${ARGS[@]}" --seed 3 >"$WORK/a.json" || fail "run 1 failed"
timeout 300 "$BIN" "${ARGS[@]}" --seed 3 >"$WORK/b.json" || fail "run 2 failed"
timeout 300 "$BIN" "${ARGS[@]}" --seed 4 >"$WORK/c.json" || fail "run 3 failed"

check '.nodes == 60 and ([.classes[].nodes] | add) == 60' "60 nodes in the classes" '.classes'
check '[.classes[].nodes] | all(. > 0)' "every class of node exists" '.classes'
check '.tables.reachable >= 30 and .tables.reachable_with_live == .tables.reachable' \
  "every reachable node's table holds live entries" '.tables'
check '.tables.last_live_after_start_s <= 60 and .tables.median_live_entries >= 8' \
  "tables fill within a minute of a node's start" '.tables'
check '.lookups.started == 40 and .lookups.succeeded >= 32' "lookups of reachable nodes succeed" \
  '.lookups'
check '.discover.in_table >= 57 and .discover.in_table_and_reachable == .tables.reachable' \
  "nearly every node is in another table; every reachable one too" '.discover'
check '.classes.public.reachable == .classes.public.nodes and .classes.bootnode.reachable == .classes.bootnode.nodes' \
  "strangers reach the public nodes" '.classes'
check '.classes.nat_upnp.reachable == .classes.nat_upnp.nodes and .classes.nat_pmp.reachable == .classes.nat_pmp.nodes' \
  "strangers reach the nodes whose router maps the port" '.classes'
check '.classes.nat_none_filtered.reachable == 0 and .classes.nat_none_depmap.reachable == 0' \
  "strangers do not reach filtered or dependent-mapping NATs" '.classes'
check '.classes.nat_none_fullcone.reachable == .classes.nat_none_fullcone.nodes' \
  "strangers reach full-cone nodes at the endpoint learned from PONGs" '.classes'
check '.pongs.right >= 1 and .pongs.wrong == 0 and .pongs.right + .pongs.none == .pongs.ei_mapping_nodes' \
  "no-mapping nodes behind EI mapping learn the right endpoint, none a wrong one" '.pongs'
check '.pongs.dep_claimed == 0 and .pongs.dep_mapping_nodes > 0' \
  "no node behind AD/APD mapping claims an endpoint" '.pongs'

strip() { jq -S 'del(.wall)' "$1"; }
[ "$(strip "$WORK/a.json")" = "$(strip "$WORK/b.json")" ] || {
  diff <(strip "$WORK/a.json") <(strip "$WORK/b.json") | head -20
  fail "same seed, different figures"
}
ok "same seed, same figures (trace $(jq -r .trace_hash "$WORK/a.json"))"
[ "$(jq -r .trace_hash "$WORK/a.json")" != "$(jq -r .trace_hash "$WORK/c.json")" ] ||
  fail "seed 4 gave the same trace as seed 3"
ok "another seed, another world"

# the text form says the same as JSON
timeout 300 "$BIN" sim --network 20 --duration 2m --lookups 5 --seed 3 >"$WORK/t.txt" ||
  fail "text run failed"
for re in '^tables +[0-9]+ of [0-9]+ reachable nodes held live entries' '^lookups +[0-9]+ of 5 resolves' \
  '^discover +[0-9]+ of 20 nodes' '^pongs +no mapping protocol, EI mapping' '^trace hash +[0-9a-f]{16}$' \
  '^wall +[0-9.]+ s \([0-9.]+ s CPU\) for'; do
  grep -Eq "$re" "$WORK/t.txt" || fail "text output lacks /$re/: $(cat "$WORK/t.txt")"
done
ok "text output has every figure"
echo "PASS ($PASS checks)"
