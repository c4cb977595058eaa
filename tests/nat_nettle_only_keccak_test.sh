#!/usr/bin/env bash
# tests/nat_nettle_only_keccak_test.sh — nettle serves one job in ethp2p: the Keccak-f[1600]
# permutation (enr/keccak.c).  Every HMAC (PCP nonces, STUN MESSAGE-INTEGRITY) goes through
# enr/crypto.h on OpenSSL.  Checked twice: no source outside enr/keccak.c includes a nettle
# header, and no object of the built layer libraries other than keccak.c.o references a
# nettle symbol (the installable libethp2p.a included).
# Usage: bash tests/nat_nettle_only_keccak_test.sh ETHP2P_BINARY [TESTDATA_DIR]
# Exit 0 pass, 77 skip (no nm, or no layer libraries next to the binary), else fail.
set -euo pipefail

bin=${1:?usage: $0 ETHP2P_BINARY [TESTDATA_DIR]}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "$(dirname "$bin")" && pwd)
fail=0

# 1. Sources: #include <nettle/...> only in enr/keccak.c.
while IFS= read -r f; do
  rel=${f#"$src"/}
  if [ "$rel" != enr/keccak.c ]; then
    echo "FAIL: $rel includes a nettle header"
    fail=1
  fi
done < <(grep -rlE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<nettle/' \
  "$src"/core "$src"/enr "$src"/env "$src"/sim "$src"/nat "$src"/p2p "$src"/cmd "$src"/include \
  --include='*.c' --include='*.h' || true)
grep -qE '#[[:space:]]*include[[:space:]]*<nettle/' "$src"/enr/keccak.c ||
  { echo "FAIL: enr/keccak.c no longer includes nettle (update this test)"; fail=1; }

# 2. Objects: nettle_* symbols only in keccak.c.o of libethp2p_enr.a.
command -v nm >/dev/null || { echo "SKIP: nm not found"; exit 77; }
libs=$(ls "$build"/libethp2p_*.a "$build"/libethp2p.a 2>/dev/null || true)
[ -n "$libs" ] || { echo "SKIP: no layer libraries in $build"; exit 77; }
checked=0
for lib in $libs; do
  # nm -A prints "archive:member: symbol lines"; keep undefined nettle_* references.
  while IFS= read -r line; do
    member=$(printf '%s\n' "$line" | awk -F: '{print $2}')
    case "$(basename "$lib"):$member" in
      libethp2p_enr.a:keccak.c.o | libethp2p.a:keccak.c.o) ;;
      *) echo "FAIL: $(basename "$lib") $member references ${line##* }"; fail=1 ;;
    esac
  done < <(nm -A -u "$lib" 2>/dev/null | grep -E ' nettle_' || true)
  checked=$((checked + 1))
done
enr_syms=$(nm -A -u "$build"/libethp2p_enr.a 2>/dev/null || true)
grep -q 'keccak.c.o:.* nettle_sha3_permute' <<<"$enr_syms" ||
  { echo "FAIL: keccak.c.o does not reference nettle_sha3_permute (is this the right build?)"; fail=1; }

[ "$fail" -eq 0 ] || exit 1
echo "PASS: nettle used only by enr/keccak.c ($checked layer libraries checked)"
