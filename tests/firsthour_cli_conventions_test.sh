#!/usr/bin/env bash
# tests/firsthour_cli_conventions_test.sh — `ethp2p version` and `ethp2p sim`
# options as their help states them (no network: sim runs in the simulated world).
# Usage: bash tests/firsthour_cli_conventions_test.sh BIN TESTDATA   (exit 77 = skipped)
set -u
BIN=${1:?usage: firsthour_cli_conventions_test.sh ETHP2P_BINARY TESTDATA}
[ -x "$BIN" ] || { echo "SKIP: $BIN not executable"; exit 77; }
WORK=$(mktemp -d /tmp/ethp2p-fh-conv-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
PASS=0
fail() { echo "FAIL: $*"; echo "--- stdout"; cat "$WORK/out"; echo "--- stderr"; cat "$WORK/err"; exit 1; }
ok() { PASS=$((PASS + 1)); echo "ok: $*"; }
run() { "$BIN" "$@" >"$WORK/out" 2>"$WORK/err"; RC=$?; }
want() { # want CODE OUT_REGEX ERR_REGEX WHAT
  [ "$RC" -eq "$1" ] || fail "$4: exit $RC, want $1"
  [ -z "$2" ] || grep -Eq -- "$2" "$WORK/out" || fail "$4: stdout lacks /$2/"
  [ -z "$3" ] || grep -Eq -- "$3" "$WORK/err" || fail "$4: stderr lacks /$3/"
  ok "$4"
}

# ---- version: a command, as geth's; the same version as --version
run --version
want 0 '^ethp2p [0-9]+\.[0-9]+\.[0-9]+$' '' '--version'
V=$(sed -n 's/^ethp2p //p' "$WORK/out")
run version
want 0 '^ethp2p$' '' 'version is a command'
grep -qx "Version: $V" "$WORK/out" || fail "version says another version than --version ($V)"
ok "version and --version agree ($V)"
grep -Eq '^libuv: [0-9]+\.' "$WORK/out" && grep -Eq '^OpenSSL: ' "$WORK/out" || fail "no library versions"
ok "version names the libraries"
run help
grep -Eq '^  version +print the version' "$WORK/out" || fail "help does not list version"
ok "help lists version"
run version extra
want 2 '' 'unexpected argument "extra"' 'version refuses arguments'

# ---- sim accepts what its --help shows, and states and enforces its limits
run sim --help
want 0 'Durations: 500ms, 30s' '' 'sim --help shows 500ms'
grep -q '0 or from 100ms to 3650d' "$WORK/out" || fail "sim --help does not state the duration limits"
grep -q 'at most 36500' "$WORK/out" && grep -q '0\.\.1' "$WORK/out" && grep -q '0\.\.2^64-1' "$WORK/out" ||
  fail "sim --help does not state the limits of --days, --loss, --seed"
ok "sim --help states each option's limits"
run sim --nat pmp --days 0.01 --probe-every 500ms --router-restart-every 500ms --summary-only
want 0 'router +[0-9]+ restarts' '' 'sim takes 500ms as --help shows'
R=$(sed -n 's/^  router *\([0-9]*\) restarts.*/\1/p' "$WORK/out")
# 0.01 days = 864 s; a restart every 500 ms is about 1700 of them
[ "$R" -ge 1500 ] && [ "$R" -le 1800 ] || fail "500ms was not taken as 500 ms: $R restarts in 864 s"
ok "500ms means 500 ms ($R restarts in 864 s)"
run sim --nat pmp --days 0.01 --ip-change-every 1.5m --summary-only
want 0 'router +0 restarts, [0-9]+ address changes' '' 'fractions (1.5m) work'
N=$(sed -n 's/.* \([0-9]*\) address changes.*/\1/p' "$WORK/out")
[ "$N" -ge 9 ] && [ "$N" -le 10 ] || fail "1.5m is not 90 s: $N changes in 864 s"
ok "1.5m means 90 s ($N changes)"

for bad in "--probe-every 50ms:invalid duration \"50ms\" for --probe-every .*from 100ms to 3650d" \
  "--router-restart-every nan:invalid duration \"nan\"" \
  "--ip-change-every -1s:invalid duration \"-1s\"" \
  "--ip-change-every 3651d:invalid duration \"3651d\"" \
  "--days 0:--days must be a number above 0 and at most 36500" \
  "--days inf:--days must be" \
  "--seed -1:--seed must be an integer 0..2\\^64-1" \
  "--seed 18446744073709551616:--seed must be an integer" \
  "--loss nan:--loss must be between 0 and 1" \
  "--loss 1.5:--loss must be between 0 and 1" \
  "--verbosity 6:--verbosity must be 0..5" \
  "--nat stun:--nat must be pmp, pcp, upnp or any" \
  "--bogus:unknown option --bogus" \
  "--days 1 --bogus:unknown option --bogus"; do
  args=${bad%%:*}
  re=${bad#*:}
  # shellcheck disable=SC2086
  run sim $args
  want 2 '' "^ethp2p sim: $re" "sim $args is refused"
  [ -s "$WORK/out" ] && fail "sim $args printed on stdout"
done
# ---- nat: usage errors come before any packet (every case below fails in parsing)
export ETHP2P_DATADIR="$WORK/natdata"
for bad in "extip --nat pmp:::1|NAT-PMP is IPv4-only" \
  "map --nat pcp:fe80::1 --proto tcp --port 30303|a link-local PCP server needs its interface" \
  "extip --nat extip:2001:db8::1|an IPv6 external address .* is not supported yet" \
  "extip --bogus|unknown option --bogus" \
  "extip --timeout|option --timeout needs a value" \
  "extip --timeout 5parsecs|--timeout: expected a duration" \
  "map -nat none -proto tcp -port 0|--port: expected 1-65535"; do
  args=${bad%%|*}
  re=${bad#*|}
  # shellcheck disable=SC2086
  run nat $args
  want 2 '' "^ethp2p nat (extip|map): .*$re" "nat $args is a usage error"
  [ -s "$WORK/out" ] && fail "nat $args printed on stdout"
done
# extip needs no network: the static address, at once, also Go-style
run nat extip -nat extip:203.0.113.9
want 0 '^203\.0\.113\.9$' '' 'nat extip -nat extip:IP'

echo "PASS: $PASS checks"
