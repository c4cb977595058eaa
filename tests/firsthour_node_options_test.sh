#!/usr/bin/env bash
# tests/firsthour_node_options_test.sh — `ethp2p node` options as a new user (and a
# geth user) types them, on loopback only:
#   - bad options are refused before anything is created, with the real problem
#     named and the right exit code (2 usage, 1 invalid input);
#   - geth/Go spellings work: -datadir, -name=value, --discovery.port,
#     --log.format logfmt, JSON logs with top-level keys and an RFC 3339 zone;
#   - --nat stun:HOST:PORT resolves host names.
# Usage: bash tests/firsthour_node_options_test.sh BIN TESTDATA   (exit 77 = skipped)
set -u
BIN=${1:?usage: firsthour_node_options_test.sh ETHP2P_BINARY TESTDATA}
[ -x "$BIN" ] || { echo "SKIP: $BIN not executable"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: no jq"; exit 77; }

WORK=$(mktemp -d /tmp/ethp2p-fh-opts-XXXXXX)
PID=
PASS=0
cleanup() { [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$WORK/err" ] && { echo "--- stderr"; cat "$WORK/err"; }; exit 1; }
ok() { PASS=$((PASS + 1)); echo "ok: $*"; }
now_ms() { date +%s%3N; }

export HOME="$WORK/home" # the default datadir must never be the user's
mkdir -p "$HOME"
D="$WORK/data"

# refuse CODE REGEX ARGS...: node exits CODE at once, says REGEX, prints nothing on
# stdout and creates no data directory
refuse() {
  local code=$1 re=$2 rc
  shift 2
  rm -rf "$D"
  timeout 10 "$BIN" node "$@" >"$WORK/out" 2>"$WORK/err"
  rc=$?
  [ "$rc" -eq "$code" ] || fail "node $*: exit $rc, want $code"
  grep -Eq -- "$re" "$WORK/err" || fail "node $*: stderr lacks /$re/"
  [ -s "$WORK/out" ] && fail "node $*: printed on stdout"
  [ -e "$D" ] && fail "node $*: created the data directory although refused"
  [ -e "$HOME/.ethp2p" ] && fail "node $*: created ~/.ethp2p although refused"
  ok "node $* -> $code /$re/"
}

# --nat none first: should a refusal fail to happen, nothing leaves loopback
L=(--datadir "$D" --listen 127.0.0.1 --port 0 --nat none)
refuse 2 '^ethp2p node: unknown option --bogus \(see --help\)$' --bogus
refuse 2 '^ethp2p node: unknown option --bogus' "${L[@]}" --bogus value
refuse 2 '^ethp2p node: unknown option --bogus' -bogus=1 "${L[@]}"
refuse 2 '^ethp2p node: --port needs a value$' --port
refuse 2 'unexpected argument "stray"' stray
refuse 2 'invalid --metrics.addr "foo": not an IP address' "${L[@]}" --metrics --metrics.addr foo
refuse 2 'invalid port "70000" for --metrics.port' "${L[@]}" --metrics.port 70000
refuse 2 'invalid port "x" for --discovery.port' "${L[@]}" --discovery.port x
refuse 2 'invalid duration "5parsecs" for --nat.retry \(like 500ms' "${L[@]}" --nat.retry 5parsecs
refuse 2 'invalid duration "500ms" for --nat.lease .*at least 1s' "${L[@]}" --nat.lease 500ms
refuse 2 '--log.format must be terminal, json or logfmt, got "xml"' "${L[@]}" --log.format xml
refuse 2 '--verbosity must be 0..5, got "9"' "${L[@]}" --verbosity 9
refuse 2 'invalid --nat "pmp:::1": NAT-PMP is IPv4-only' "${L[@]}" --nat pmp:::1
refuse 2 'invalid --nat "pcp:fe80::1": PCP over IPv6 is not supported yet' "${L[@]}" --nat pcp:fe80::1
refuse 2 'invalid --nat "extip:2001:db8::1": an IPv6 external address .* is not supported yet' \
  "${L[@]}" --nat extip:2001:db8::1
refuse 2 'invalid --nat "bogus": unknown mechanism' "${L[@]}" --nat bogus
refuse 1 '^ethp2p node: --listen 203\.0\.113\.77: not an address of this host' \
  --datadir "$D" --listen 203.0.113.77 --nat none
refuse 1 "^ethp2p node: cannot open key file $WORK/missing.key: No such file or directory\$" \
  "${L[@]}" --nodekey "$WORK/missing.key"
touch "$WORK/afile"
rm -rf "$D"
"$BIN" node --datadir "$WORK/afile" --listen 127.0.0.1 --port 0 --nat none >"$WORK/out" 2>"$WORK/err"
rc=$?
[ "$rc" -eq 1 ] || fail "datadir file: exit $rc"
grep -q "^ethp2p node: data directory $WORK/afile is a file, not a directory\$" "$WORK/err" ||
  fail "datadir file: wrong message"
[ -s "$WORK/afile" ] && fail "datadir file: the file was written to"
ok "a datadir that is a file is named as such"

# start NAME ARGS...: runs the node in the background until its first enr: line
start() {
  local name=$1 deadline
  shift
  "$BIN" node "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PID=$!
  deadline=$(($(now_ms) + 5000))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    grep -q '^enr:' "$WORK/$name.out" 2>/dev/null && return 0
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/$name.err"; fail "$name exited early"; }
    sleep 0.05
  done
  fail "$name printed no record within 5 s"
}
stop() {
  local rc
  kill -TERM "$PID"
  wait "$PID"
  rc=$?
  PID=
  [ "$rc" -eq 0 ] || fail "node exited $rc after SIGTERM"
}

# ---- Go flag-package spellings and geth's --discovery.port
P=$((20000 + $$ % 20000))
start goflags -datadir "$WORK/go" -listen=127.0.0.1 -nat none -port 0 --discovery.port "$P" -verbosity 3
stop
REC=$(grep -m1 '^enr:' "$WORK/goflags.out")
"$BIN" enr dump "$REC" >"$WORK/dump" || fail "cannot dump the record"
grep -q "^  \"udp\"       $P\$" "$WORK/dump" || fail "--discovery.port $P is not the record's udp: $(cat "$WORK/dump")"
ok "-datadir, -listen=, -nat, -port and --discovery.port work (udp $P in the record)"
[ -f "$WORK/go/nodekey" ] || fail "-datadir was not used"
ok "-datadir was used"
grep -q 'Port mapping is off (--nat none)' "$WORK/goflags.err" || fail "node does not say that mapping is off"
ok "node says at the default verbosity that mapping is off"

# ---- a start that fails half-way (a port in use) exits 1 with the reason, no crash
MP=$((40000 + $$ % 20000))
start holder --datadir "$WORK/holder" --listen 127.0.0.1 --port 0 --nat none --metrics --metrics.port "$MP"
HPORT=$(sed -n 's/.*Started P2P networking *tcp=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/holder.err")
[ -n "$HPORT" ] || fail "no TCP port in the holder's log"
HOLDER=$PID
"$BIN" node --datadir "$WORK/second" --listen 127.0.0.1 --port "$HPORT" --nat none >"$WORK/out" 2>"$WORK/err"
rc=$?
[ "$rc" -eq 1 ] || fail "TCP port in use: exit $rc, want 1"
grep -q "^ethp2p node: cannot listen on TCP 127\.0\.0\.1:$HPORT: address in use\$" "$WORK/err" || fail "TCP port in use: wrong message"
ok "a TCP port in use exits 1: $(tail -1 "$WORK/err")"
"$BIN" node --datadir "$WORK/second" --listen 127.0.0.1 --port 0 --nat none --metrics --metrics.port "$MP" >"$WORK/out" 2>"$WORK/err"
rc=$?
[ "$rc" -eq 1 ] || fail "metrics port in use: exit $rc, want 1"
grep -q "^ethp2p node: cannot serve metrics on 127\.0\.0\.1:$MP: address in use\$" "$WORK/err" || fail "metrics port in use: wrong message"
ok "a metrics port in use exits 1: $(tail -1 "$WORK/err")"
PID=$HOLDER
stop

# ---- --log.format logfmt
start logfmt --datadir "$WORK/lf" --listen 127.0.0.1 --port 0 --nat none --log.format logfmt
stop
RFC3339='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})'
grep -Eq "^t=$RFC3339 lvl=info msg=\"Started P2P networking\" module=p2p tcp=127\.0\.0\.1:[0-9]+ " \
  "$WORK/logfmt.err" || fail "logfmt line not as expected: $(head -3 "$WORK/logfmt.err")"
ok "--log.format logfmt"

# ---- JSON: every key top-level, RFC 3339 with zone, jq .err works
# NAT-PMP to a closed port on loopback: the address query fails with an err= value.
start json --datadir "$WORK/js" --listen 127.0.0.1 --port 0 --nat pmp:127.0.0.1 \
  --log.format json --verbosity 4 --nat.extip-interval 1s
sleep 1.5
stop
jq -e . "$WORK/json.err" >/dev/null || fail "JSON log lines do not parse: $(head -3 "$WORK/json.err")"
ok "every JSON log line parses"
jq -e -s --arg re "^$RFC3339\$" 'all(.[]; (.t | test($re)) and (.lvl | type == "string") and (.msg | type == "string"))' \
  "$WORK/json.err" >/dev/null || fail "a JSON line lacks t (RFC 3339 with zone), lvl or msg"
ok "every JSON line has t (RFC 3339 with zone), lvl, msg"
jq -e -s 'any(.[]; .msg == "Started P2P networking" and (.tcp | test("^127\\.0\\.0\\.1:[0-9]+$")) and .nat == "pmp:127.0.0.1" and (has("kv") | not))' \
  "$WORK/json.err" >/dev/null || fail "the start line's keys are not top-level"
ok "key=value pairs are top-level JSON members"
ERRS=$(jq -r 'select(.err != null) | .err' "$WORK/json.err")
[ -n "$ERRS" ] || fail "no line with an err member: $(cat "$WORK/json.err")"
ok "jq .err works: $(echo "$ERRS" | head -1)"

# a value with spaces (a path) stays one JSON member
start jsonspace --datadir "$WORK/dir with space" --listen 127.0.0.1 --port 0 --nat none --log.format json
stop
F=$(jq -r 'select(.msg == "Generated new node key") | .file' "$WORK/jsonspace.err")
[ "$F" = "$WORK/dir with space/nodekey" ] || fail "JSON file member is \"$F\""
ok "a value with spaces stays one member"

# ---- --nat stun:HOST:PORT resolves names (localhost, from /etc/hosts; loopback only)
if getent hosts localhost | grep -q '^127\.'; then
  start stun --datadir "$WORK/st" --listen 127.0.0.1 --port 0 --nat stun:localhost:3478
  # nothing serves STUN on loopback: after about 10 s the node says so, at the default verbosity
  deadline=$(($(now_ms) + 14000))
  while [ "$(now_ms)" -lt "$deadline" ] && ! grep -q 'No STUN server answered' "$WORK/stun.err"; do
    sleep 0.1
  done
  stop
  grep -Eq '^WARN .*No STUN server answered; the record advertises 127\.0\.0\.1; run `ethp2p nat doctor`' \
    "$WORK/stun.err" || fail "no STUN warning: $(cat "$WORK/stun.err")"
  ok "the node warns that no STUN server answered"
  grep -Eq 'Started P2P networking .*nat=stun:127\.0\.0\.1:3478' "$WORK/stun.err" ||
    fail "stun:localhost:3478 was not resolved: $(cat "$WORK/stun.err")"
  grep -q 'cannot resolve' "$WORK/stun.err" && fail "stun: claims it cannot resolve localhost"
  ok "--nat stun:localhost:3478 becomes stun:127.0.0.1:3478"
else
  echo "note: localhost does not resolve to 127.x here; stun name check not run"
fi

echo "PASS: $PASS checks"
