#!/usr/bin/env bash
# tests/cli_identity_test.sh — `ethp2p enr | key | rlp` run as a user runs them:
# exit codes, stdout and stderr for good and bad input.
#
# Usage: bash tests/cli_identity_test.sh <path-to-ethp2p> <testdata-dir>
# Exit: 0 all passed, 1 a check failed, 77 skipped (binary missing).
set -u

BIN=${1:?usage: cli_identity_test.sh <ethp2p binary> <testdata dir>}
DATA=${2:?usage: cli_identity_test.sh <ethp2p binary> <testdata dir>}/cli
if [ ! -x "$BIN" ]; then
  echo "SKIP: $BIN is not executable"
  exit 77
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ethp2p-cli-identity.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

PASS=0
FAIL=0
OUT=$WORK/stdout
ERR=$WORK/stderr
RC=0

EIP778_ENR=$(cat "$DATA/eip778.enr")
EIP778_ID=a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7
EIP778_PUB=ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd31387574077f301b421bc84df7266c44e9e6d569fc56be00812904767bf5ccd1fc7f
# The EIP-778 record in hex (decoded from the text form above).
EIP778_HEX=f884b8407098ad865b00a582051940cb9cf36836572411a47278783077011599ed5cd16b76f2635f4e234738f30813a89eb9137e3e3df5266e3a1f11df72ecf1145ccb9c01826964827634826970847f00000189736563703235366b31a103ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd31388375647082765f

# run [stdin-file] -- args...: runs the binary, keeps stdout/stderr/exit code.
run() {
  local in=/dev/null
  if [ "$1" != "--" ]; then in=$1; shift; fi
  shift
  "$BIN" "$@" <"$in" >"$OUT" 2>"$ERR"
  RC=$?
}

ok() { PASS=$((PASS + 1)); }
bad() {
  FAIL=$((FAIL + 1))
  echo "FAIL: $*"
  echo "  exit code: $RC"
  echo "  stdout: $(head -c 600 "$OUT")"
  echo "  stderr: $(head -c 600 "$ERR")"
}

# expect <what> <exit code> [stdout-grep] [stderr-grep]
expect() {
  local what=$1 code=$2 outpat=${3:-} errpat=${4:-}
  if [ "$RC" -ne "$code" ]; then bad "$what: want exit $code"; return; fi
  if [ -n "$outpat" ] && ! grep -qE -- "$outpat" "$OUT"; then bad "$what: stdout lacks /$outpat/"; return; fi
  if [ -n "$errpat" ] && ! grep -qE -- "$errpat" "$ERR"; then bad "$what: stderr lacks /$errpat/"; return; fi
  ok
}
expect_empty_stdout() { if [ -s "$OUT" ]; then bad "$1: stdout should be empty"; else ok; fi; }
expect_empty_stderr() { if [ -s "$ERR" ]; then bad "$1: stderr should be empty"; else ok; fi; }

# hex -> raw bytes without xxd (bash printf understands \xHH).
unhex() { printf "$(printf '%s' "$1" | sed 's/../\\x&/g')"; }

# ---------------------------------------------------------------- --help everywhere
for cmd in "enr" "enr dump" "enr decode" "key" "key generate" "key to-id" "key to-enode" \
           "key to-enr" "rlp" "rlp dump"; do
  # shellcheck disable=SC2086
  run -- $cmd --help
  expect "$cmd --help" 0 "^Usage: ethp2p"
  expect_empty_stderr "$cmd --help"
done
run -- key to-enr --help
expect "to-enr help lists every option" 0 "--seq N"
run -- enr dump --help
expect "dump help documents --json" 0 "--json"

# ---------------------------------------------------------------- usage errors exit 2
usage_cases=(
  "enr"
  "enr bogus"
  "enr dump --bogus $EIP778_ENR"
  "enr dump $EIP778_ENR $EIP778_ENR"
  "key"
  "key bogus"
  "key generate"
  "key generate a b"
  "key to-id --frob x"
  "key to-id --ip 1.2.3.4 x"
  "key to-enode x --tcp 70000"
  "key to-enode x --udp -1"
  "key to-enode x --ip not-an-ip"
  "key to-enode x --tcp"
  "key to-enr x --tcp 0"
  "key to-enr x --seq -1"
  "key to-enr x --seq 18446744073709551616"
  "key to-enr x --force"
  "rlp"
  "rlp bogus"
  "rlp dump"
  "rlp dump c0 c0"
  "rlp dump --frob c0"
)
for c in "${usage_cases[@]}"; do
  # shellcheck disable=SC2086
  run -- $c
  expect "usage: ethp2p $c" 2 "" "."
  expect_empty_stdout "usage: ethp2p $c"
done

# ---------------------------------------------------------------- enr dump: the EIP-778 example
run -- enr dump "$EIP778_ENR"
expect "dump EIP-778 text" 0 "^Node ID: $EIP778_ID\$"
if cmp -s "$OUT" "$DATA/eip778.dump"; then ok; else bad "dump EIP-778 differs from testdata/cli/eip778.dump"; fi
expect_empty_stderr "dump EIP-778 text"
expect "dump EIP-778 URLv4 line" 0 "^URLv4:   enode://$EIP778_PUB@127\.0\.0\.1:0\?discport=30303\$"
expect "dump EIP-778 summary line" 0 "^Record has sequence number 1 and 4 key/value pairs\.\$"
expect "dump EIP-778 ip line" 0 '^  "ip"        127\.0\.0\.1$'
expect "dump EIP-778 udp line" 0 '^  "udp"       30303$'
expect "dump EIP-778 id line" 0 '^  "id"        "v4"$'

run -- enr decode "$EIP778_ENR"
if cmp -s "$OUT" "$DATA/eip778.dump"; then ok; else bad "decode alias output differs from dump"; fi
# The whole dump, byte for byte what go-ethereum's `devp2p enrdump` prints for this
# record (cmd/devp2p enrcmd.go: secp256k1 has no formatter, so it is the hex of
# the raw RLP item, a1 prefix included).
printf '%s\n' "Node ID: $EIP778_ID" \
  "URLv4:   enode://$EIP778_PUB@127.0.0.1:0?discport=30303" \
  'Record has sequence number 1 and 4 key/value pairs.' \
  '  "id"        "v4"' '  "ip"        127.0.0.1' \
  '  "secp256k1" a103ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd3138' \
  '  "udp"       30303' >"$WORK/devp2p.dump"
run -- enr dump "$EIP778_ENR"
if cmp -s "$OUT" "$WORK/devp2p.dump"; then ok; else bad "dump differs from devp2p enrdump's output"; fi

# devp2p's -file FILE, in every Go spelling; and a file name given as the record
printf '%s\n' "$EIP778_ENR" >"$WORK/rec.txt"
for form in "--file $WORK/rec.txt" "-file $WORK/rec.txt" "--file=$WORK/rec.txt" "-file=$WORK/rec.txt"; do
  # shellcheck disable=SC2086
  run -- enr dump $form
  expect "enr dump $form" 0 "^Node ID: $EIP778_ID\$"
done
run "$WORK/rec.txt" -- enr dump --file -
expect "enr dump --file - reads stdin" 0 "^Node ID: $EIP778_ID\$"
run -- enr dump "$WORK/rec.txt"
expect "enr dump FILE suggests --file and - < FILE" 2 "" "is a file, not a record; read it with"
grep -qF -- "ethp2p enr dump --file $WORK/rec.txt" "$ERR" && grep -qF -- "ethp2p enr dump - < $WORK/rec.txt" "$ERR" && ok || bad "enr dump FILE: no --file / - < FILE suggestion"
expect_empty_stdout "enr dump FILE"
run -- enr dump --file "$WORK/no-such.txt"
expect "enr dump --file missing" 1 "" "cannot read $WORK/no-such.txt: No such file or directory"
run -- enr dump --file "$WORK/rec.txt" "$EIP778_ENR"
expect "enr dump --file and an argument" 2 "" "either as an argument or with --file, not both"

# Error positions count from one origin: the first character given.
BADCHAR="${EIP778_ENR:0:20}*${EIP778_ENR:21}"
run -- enr dump "$BADCHAR"
expect "bad base64 char position in an argument" 1 "" "^invalid record: invalid base64url character '\\*' \\(at character 20 of the input\\)\$"
printf '  %s\n' "$BADCHAR" >"$WORK/badchar.txt"
run "$WORK/badchar.txt" -- enr dump -
expect "bad base64 char position on stdin counts the whitespace" 1 "" "\\(at character 22 of the input\\)\$"
grep -q 'at offset' "$ERR" && bad "a second, differently counted offset is printed" || ok
run -- enr dump "${EIP778_ENR:0:60}"
expect "truncated record: position in the record" 1 "" "\\(at byte 2 of the record\\)\$"

run -- enr dump "0x$EIP778_HEX"
expect "dump EIP-778 as 0x hex" 0 "^Node ID: $EIP778_ID\$"
run -- enr dump "$EIP778_HEX"
expect "dump EIP-778 as bare hex" 0 "^Node ID: $EIP778_ID\$"

printf '  %s\n\n' "$EIP778_ENR" >"$WORK/padded.txt"
run "$WORK/padded.txt" -- enr dump -
expect "dump text from stdin with whitespace" 0 "^Node ID: $EIP778_ID\$"
run "$WORK/padded.txt" -- enr dump
expect "dump reads stdin without an argument" 0 "^Node ID: $EIP778_ID\$"
unhex "$EIP778_HEX" >"$WORK/eip778.bin"
run "$WORK/eip778.bin" -- enr dump -
expect "dump raw binary from stdin" 0 "^Node ID: $EIP778_ID\$"
printf '0x%s\n' "$EIP778_HEX" >"$WORK/eip778.hex"
run "$WORK/eip778.hex" -- enr dump -
expect "dump hex from stdin" 0 "^Node ID: $EIP778_ID\$"

run -- enr dump --json "$EIP778_ENR"
expect "json node_id" 0 "\"node_id\": \"$EIP778_ID\""
expect "json seq" 0 '"seq": 1,'
expect "json enode" 0 "\"enode\": \"enode://$EIP778_PUB@127\.0\.0\.1:0\?discport=30303\""
expect "json udp value is a number" 0 '"value": 30303'
expect "json record is the canonical text" 0 "\"record\": \"$EIP778_ENR\""
# jq is installed by scripts/install-deps.sh; the JSON must parse and have the right shape.
if jq -e '(.pairs | length) == 4 and .pairs[2].key == "secp256k1"' <"$OUT" >/dev/null; then ok; else bad "json does not parse as expected"; fi
run -- enr dump "$EIP778_ENR" --json
expect "--json after the record" 0 "\"node_id\": \"$EIP778_ID\""

# ---------------------------------------------------------------- enr dump: invalid records exit 1
# One flipped byte inside the signature (the signature starts at byte 4).
FLIPPED=${EIP778_HEX:0:20}$(printf '%02x' $((0x${EIP778_HEX:20:2} ^ 0x01)))${EIP778_HEX:22}
run -- enr dump "$FLIPPED"
expect "flipped signature byte" 1 "" "^invalid record: "
expect_empty_stdout "flipped signature byte"
expect "flipped signature names the signature" 1 "" "signature"
run -- enr dump --json "$FLIPPED"
expect "flipped signature with --json" 1 "" "^invalid record: "
expect_empty_stdout "flipped signature with --json"

# One flipped byte in the content (the udp port) breaks the signature too.
TAMPERED=${EIP778_HEX:0:${#EIP778_HEX}-2}60
run -- enr dump "$TAMPERED"
expect "tampered content" 1 "" "^invalid record: "

invalid_inputs=(
  "hello"
  "enr:"
  "enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8="
  "enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl"
  "-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8"
  "${EIP778_HEX:0:100}"
  "${EIP778_HEX}00"
  "0x"
  "c0"
  "enode://$EIP778_PUB@127.0.0.1:30303"
)
for r in "${invalid_inputs[@]}"; do
  run -- enr dump "$r"
  expect "invalid record ${r:0:40}" 1 "" "^invalid record: "
  expect_empty_stdout "invalid record ${r:0:40}"
done
run -- enr dump "-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8"
expect "missing enr: prefix is explained" 1 "" "enr:"
: >"$WORK/empty"
run "$WORK/empty" -- enr dump -
expect "empty stdin" 1 "" "^invalid record: empty input"
head -c 70000 /dev/zero >"$WORK/huge"
run "$WORK/huge" -- enr dump -
expect "oversized stdin" 1 "" "^invalid record: input too large"

# ---------------------------------------------------------------- a record from a live network
# go-ethereum params/bootnodes.go, V5Bootnodes: "Teku team's bootnode" (Ethereum mainnet).
run -- enr dump "$(cat "$DATA/mainnet-teku-bootnode.enr")"
if cmp -s "$OUT" "$DATA/mainnet-teku-bootnode.dump"; then ok; else bad "mainnet Teku bootnode dump differs"; fi
expect "bootnode node ID" 0 "^Node ID: f92b82f11af5ed0959135cde8e64b626cac4f16d05e43087224deed25d1dbd72\$"
expect "bootnode endpoint" 0 "^URLv4:   enode://[0-9a-f]{128}@3\.19\.194\.157:9000\$"
expect "bootnode seq" 0 "^Record has sequence number 32 and 6 key/value pairs\.\$"
expect "bootnode eth2 entry shown raw, as devp2p does" 0 '^  "eth2"      90f5a5fd4200000000ffffffffffffffff$'
expect "bootnode secp256k1 as the raw RLP item, as devp2p does" 0 '^  "secp256k1" a1038697a10436d98ccfcbf5e93af7d63bbe1509f9e01d332416fc58a5e76d98d1f3$'
run "$DATA/mainnet-prysm-bootnode.enr" -- enr dump -
if cmp -s "$OUT" "$DATA/mainnet-prysm-bootnode.dump"; then ok; else bad "mainnet Prysm bootnode dump differs"; fi
expect "prysm bootnode attnets raw" 0 '^  "attnets"   880000000000000000$'

# Entries other specifications define are shown raw in the text (as devp2p does) and
# explained in --json.
run "$DATA/consensus-entries.enr" -- enr dump -
if cmp -s "$OUT" "$DATA/consensus-entries.dump"; then ok; else bad "consensus-entries dump differs"; fi
expect "attnets raw" 0 '^  "attnets"   888800000000000080$'
expect "syncnets raw" 0 '^  "syncnets"  05$'
expect "eth fork ID raw" 0 '^  "eth"       cac9849f3d22548301e240$'
expect "quic raw (devp2p has no formatter for it)" 0 '^  "quic"      822329$'
expect "large seq" 0 '^Record has sequence number 1700000000000 and 10 key/value pairs\.$'
run "$DATA/consensus-entries.enr" -- enr dump --json -
expect "json info for explained entries" 0 '"info": "sync committee subnets: 0, 2"'
expect "json attnets bits" 0 '"info": "attestation subnets: 3, 7, 63"'
expect "json eth2 next fork" 0 '"info": "fork digest 6a95a1a9, next fork version 05000000 at epoch 76800"'
expect "json eth fork ID" 0 '"info": "fork ID: hash 9f3d2254, next fork at 123456"'
expect "json quic is a number" 0 '"value": 9001'

# A correctly signed record whose udp value is 3 bytes: shown, flagged, not misread.
run "$DATA/malformed-udp.enr" -- enr dump -
expect "malformed udp is flagged as devp2p flags it" 0 '^  "udp"       8300765f \(!\)$'
expect "malformed udp gives no URL" 0 '^URLv4:   \(none: '
if cmp -s "$OUT" "$DATA/malformed-udp.dump"; then ok; else bad "malformed-udp dump differs"; fi
run "$DATA/malformed-udp.enr" -- enr dump --json -
expect "malformed udp json" 0 '"malformed": "'
expect "malformed udp json enode null" 0 '"enode": null'

# ---------------------------------------------------------------- key generate / to-id / to-enr
KEY=$WORK/node.key
run -- key generate "$KEY"
expect "key generate" 0 "^[0-9a-f]{64}\$" "Wrote a new node key"
GEN_ID=$(cat "$OUT")
if [ "$(stat -c %a "$KEY")" = "600" ]; then ok; else bad "generated key mode is $(stat -c %a "$KEY"), want 600"; fi
if grep -qE '^[0-9a-f]{64}$' "$KEY" && [ "$(wc -c <"$KEY")" -eq 64 ]; then ok; else bad "key file is not 64 lowercase hex characters without newline"; fi
if [ "$(find "$WORK" -name 'node.key.tmp*' | wc -l)" -eq 0 ]; then ok; else bad "temporary file left behind"; fi
cp "$KEY" "$WORK/node.key.orig"
run -- key generate "$KEY"
expect "key generate refuses to overwrite" 1 "" "already exists"
if cmp -s "$KEY" "$WORK/node.key.orig"; then ok; else bad "refused generate changed the key file"; fi
run -- key generate --force "$KEY"
expect "key generate --force" 0 "^[0-9a-f]{64}\$"
if cmp -s "$KEY" "$WORK/node.key.orig"; then bad "--force did not write a new key"; else ok; fi
GEN_ID=$(cat "$OUT")
if [ "$(stat -c %a "$KEY")" = "600" ]; then ok; else bad "replaced key mode is not 600"; fi
(umask 000 && "$BIN" key generate "$WORK/umask.key" >/dev/null 2>&1)
if [ "$(stat -c %a "$WORK/umask.key")" = "600" ]; then ok; else bad "key mode with umask 000 is not 600"; fi
run -- key generate "$WORK/no/such/dir/k"
expect "key generate into a missing folder" 1 "" "cannot"

run -- key to-id "$KEY"
expect "key to-id" 0 "^$GEN_ID\$"
expect_empty_stderr "key to-id"

run -- key to-enr "$KEY" --ip 203.0.113.7 --tcp 30303 --udp 30301 --seq 5
expect "key to-enr" 0 "^enr:[A-Za-z0-9_-]+\$"
GEN_ENR=$(cat "$OUT")
run -- enr dump "$GEN_ENR"
expect "to-enr decodes back with the same node ID" 0 "^Node ID: $GEN_ID\$"
expect "to-enr endpoint" 0 "^URLv4:   enode://[0-9a-f]{128}@203\.0\.113\.7:30303\?discport=30301\$"
expect "to-enr seq" 0 "^Record has sequence number 5 and 5 key/value pairs\.\$"
"$BIN" key to-enr "$KEY" --seq 9 | "$BIN" enr dump - >"$OUT" 2>"$ERR"
RC=$?
expect "to-enr piped into dump" 0 "^Record has sequence number 9 and 2 key/value pairs\.\$"
run -- key to-enr "$KEY" --ip 2001:db8::7 --udp 30303
GEN6=$(cat "$OUT")
run -- enr dump "$GEN6"
# devp2p enrdump formats only 4- or 6-byte IPs, so a 16-byte ip6 is raw with "(!)" in
# the text, exactly as go-ethereum prints it; --json has the address.
expect "to-enr with IPv6 sets ip6 (devp2p text)" 0 '^  "ip6"       9020010db8000000000000000000000007 \(!\)$'
run -- enr dump --json "$GEN6"
expect "to-enr with IPv6 sets ip6 (json)" 0 '"value": "2001:db8::7"'
run -- enr dump "$GEN6"
expect "to-enr with IPv6 URL" 0 "@\[2001:db8::7\]:0\?discport=30303\$"

# Go flag-package spellings, as devp2p's own docs write them (key to-enode KEY -ip ... -tcp ...)
run -- key to-enode "$KEY" -ip 127.0.0.1 -tcp 30303 -udp=30304
expect "key to-enode with -ip -tcp -udp=" 0 "^enode://[0-9a-f]{128}@127\\.0\\.0\\.1:30303\\?discport=30304\$"
run -- key to-enode "$KEY" -bogus 1
expect "key to-enode -bogus is an unknown option" 2 "" "unknown option"

# The largest sequence number: text shows it, JSON gives it as a string (above 2^63-1).
run -- key to-enr "$KEY" --seq 18446744073709551615
GENMAX=$(cat "$OUT")
run -- enr dump "$GENMAX"
expect "seq 2^64-1 in text" 0 "^Record has sequence number 18446744073709551615 and 2 key/value pairs\.\$"
run -- enr dump --json "$GENMAX"
expect "seq 2^64-1 in json" 0 '"seq": "18446744073709551615"'
run -- key to-enr "$KEY" --seq 9223372036854775807
run -- enr dump --json "$(cat "$OUT")"
expect "seq 2^63-1 in json is a number" 0 '"seq": 9223372036854775807,'

# A key file that others may read still works, with a warning on stderr.
cp "$KEY" "$WORK/open.key"
chmod 644 "$WORK/open.key"
run -- key to-id "$WORK/open.key"
expect "group-readable key file warns" 0 "^$GEN_ID\$" "readable by other users"

# The EIP-778 key reproduces the EIP-778 record byte for byte.
cp "$DATA/eip778.key" "$WORK/eip778.key"
chmod 600 "$WORK/eip778.key"
run -- key to-enr "$WORK/eip778.key" --ip 127.0.0.1 --udp 30303 --seq 1
expect "EIP-778 record reproduced from its key" 0 "^$EIP778_ENR\$"
run -- key to-enr "$WORK/eip778.key" --ip 127.0.0.1 --udp 30303 --seq 1
expect "to-enr is deterministic" 0 "^$EIP778_ENR\$"
run -- key to-id "$WORK/eip778.key"
expect "EIP-778 key to-id" 0 "^$EIP778_ID\$"
run -- key to-enode "$WORK/eip778.key"
expect "to-enode defaults" 0 "^enode://$EIP778_PUB@127\.0\.0\.1:30303\$"
run -- key to-enode "$WORK/eip778.key" --ip 198.51.100.2 --tcp 30303 --udp 30301
expect "to-enode with discport" 0 "^enode://$EIP778_PUB@198\.51\.100\.2:30303\?discport=30301\$"
run -- key to-enode --ip=::1 --tcp=1 "$WORK/eip778.key"
expect "to-enode IPv6 and --opt=value" 0 "^enode://$EIP778_PUB@\[::1\]:1\$"

# ---------------------------------------------------------------- bad key files exit 1
printf '%s\n' "$(cat "$DATA/eip778.key")" >"$WORK/newline.key"
run -- key to-id "$WORK/newline.key"
expect "key file with one trailing newline (geth tolerates it)" 0 "^$EIP778_ID\$"
printf '0x%s' "$(cat "$DATA/eip778.key")" >"$WORK/prefixed.key"
printf '%s' "abcdef" >"$WORK/short.key"
printf '%064d' 0 >"$WORK/zero.key"
printf '%s' "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141" >"$WORK/order.key"
printf 'zz%s' "$(head -c 62 "$DATA/eip778.key")" >"$WORK/nonhex.key"
head -c 64 /dev/urandom >"$WORK/binary.key"
printf ' %s' "$(cat "$DATA/eip778.key")" >"$WORK/space.key"
head -c 5000 /dev/zero | tr '\0' 'a' >"$WORK/big.key"
bad_keys=("prefixed:0x" "short:too short" "zero:zero" "order:order" "nonhex:'z'"
          "binary:." "space:whitespace" "big:too large" "missing:No such file")
for entry in "${bad_keys[@]}"; do
  name=${entry%%:*}
  why=${entry#*:}
  for sub in to-id to-enode to-enr; do
    run -- key "$sub" "$WORK/$name.key"
    expect "key $sub with $name key file" 1 "" "$why"
    expect_empty_stdout "key $sub with $name key file"
  done
done

# ---------------------------------------------------------------- rlp dump
run -- rlp dump c88363617483646f67
expect "rlp dump list of strings" 0 '"cat"'
expect "rlp dump second element" 0 '"dog"'
expect_empty_stderr "rlp dump"
run -- rlp dump 0xc0
expect "rlp dump empty list" 0 '^\[\]$'
run -- rlp dump "$EIP778_HEX"
expect "rlp dump of a record shows its keys" 0 '"secp256k1"'
printf '%s\n' c88363617483646f67 >"$WORK/rlp.hex"
run "$WORK/rlp.hex" -- rlp dump -
expect "rlp dump hex from stdin" 0 '"dog"'
unhex c88363617483646f67 >"$WORK/rlp.bin"
run "$WORK/rlp.bin" -- rlp dump -
expect "rlp dump binary from stdin" 0 '"dog"'

# Positions: "at character N of the input" (hex text, from 0 at the first byte given,
# "0x" included) and "at byte N of the RLP data" (decoded bytes) — one origin each.
rlp_bad=(
  "8105:at byte 0 of the RLP data\\)$"          # single byte < 0x80 wrapped
  "b80161:at byte 0 of the RLP data\\)$"        # long form for a short string
  "b9000161:at byte [0-9]+ of the RLP data\\)$" # leading zero in a long length
  "c0c0:at byte 1 of the RLP data\\)$"          # trailing bytes
  "83616263ff:at byte 4 of the RLP data\\)$"    # trailing byte after a string
  "8361:at byte [0-9]+ of the RLP data\\)$"     # truncated
  "c3836162:at byte [0-9]+ of the RLP data\\)$" # list payload runs over
  "0x:at byte 0 of the RLP data\\)$"            # empty input
  "abc:at character 3 of the input\\)$"         # odd number of hex digits
  "zz:at character 0 of the input\\)$"          # not hex
  "0xzz:at character 2 of the input\\)$"        # not hex, after the prefix
)
for entry in "${rlp_bad[@]}"; do
  hex=${entry%%:*}
  why=${entry#*:}
  run -- rlp dump "$hex"
  expect "rlp dump $hex" 1 "" "$why"
  expect_empty_stdout "rlp dump $hex"
done
run -- rlp dump 8105
expect "rlp non-canonical says so" 1 "" "^invalid RLP: .*(canonical|single byte)"

echo "cli_identity_test: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
