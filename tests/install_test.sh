#!/usr/bin/env bash
# tests/install_test.sh — ethp2p as a C developer meets it: configure and build the source
# tree next to this script, `cmake --install` it into a temporary prefix, then build the
# programs in examples/ against that prefix
#   (a) with ONLY `pkg-config --cflags --libs ethp2p` (examples/Makefile), and
#   (b) with ONLY CMake's find_package(ethp2p) (examples/CMakeLists.txt), shared and static,
# and run them: decode_record must verify the EIP-778 example record and print its node
# ID; node_nat must start a node with --nat none on 127.0.0.1, serve metrics, and stop.
# Usage: bash tests/install_test.sh [ethp2p-binary (unused)] [testdata-dir]
# Exit 0 pass, 77 skip (no compiler / cmake / pkg-config), anything else fail.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
testdata=${2:-$src/testdata}
want_id=a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7

for tool in cc cmake make pkg-config; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done

tmp=$(mktemp -d /tmp/ethp2p-install.XXXXXX)
node_pid=
cleanup() {
  if [ -n "$node_pid" ]; then kill "$node_pid" 2>/dev/null || true; wait "$node_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; exit 1; }
step() { echo "== $*"; }

prefix=$tmp/prefix
step "configure, build and install $src into $prefix"
cmake -S "$src" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Release -DETHP2P_TESTS=OFF -DETHP2P_BENCH=OFF \
  -DETHP2P_WERROR=OFF >"$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log"; fail "configure"; }
cmake --build "$tmp/build" -j 2 >"$tmp/build.log" 2>&1 || { tail -40 "$tmp/build.log"; fail "build"; }
cmake --install "$tmp/build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; fail "install"; }

libdir=$prefix/lib
for f in include/ethp2p/enr.h include/ethp2p/metrics.h include/ethp2p/env_uv.h \
         lib/libethp2p.a lib/libethp2p.so lib/pkgconfig/ethp2p.pc \
         lib/cmake/ethp2p/ethp2pConfig.cmake lib/cmake/ethp2p/ethp2pConfigVersion.cmake bin/ethp2p; do
  [ -e "$prefix/$f" ] || fail "not installed: $f"
done
# Nothing private leaks into the installed headers.
if grep -l '#include "\(nat\|p2p\|enr\|env\|core\|sim\)/' "$prefix"/include/ethp2p/*.h; then
  fail "an installed header includes a private header"
fi

have_node_api=0
if nm -D --defined-only "$libdir/libethp2p.so" | grep -q ' ethp2p_server_start$'; then
  have_node_api=1
fi

run_decode() { # $1 = program
  local out
  out=$("$1" -f "$testdata/enr/eip778.txt") || fail "$1 exited $?"
  echo "$out" | sed 's/^/   /'
  echo "$out" | grep -qx "node id   $want_id" || fail "$1 did not print node ID $want_id"
  if "$1" "enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl9" \
      >/dev/null 2>"$tmp/bad.err"; then
    fail "$1 accepted a record with a changed byte"
  fi
  grep -q "invalid record" "$tmp/bad.err" || fail "$1 gave no reason for a bad record"
}

run_node() { # $1 = program
  local log=$tmp/node.log port
  "$1" --nat none --listen 127.0.0.1 --port 0 --seconds 3 --metrics 127.0.0.1:0 >"$log" 2>&1 &
  node_pid=$!
  for _ in $(seq 50); do
    grep -q '^metrics on ' "$log" && break
    sleep 0.1
  done
  port=$(sed -n 's|^metrics on http://127.0.0.1:\([0-9]*\)/metrics$|\1|p' "$log")
  [ -n "$port" ] || { cat "$log"; fail "$1 did not serve metrics"; }
  if command -v curl >/dev/null; then
    curl -fsS "http://127.0.0.1:$port/metrics" >"$tmp/scrape.txt" || fail "scrape of /metrics failed"
    grep -q '^ethp2p_enr_seq [0-9][0-9]*$' "$tmp/scrape.txt" || fail "no ethp2p_enr_seq in the scrape"
    grep -q '^ethp2p_nat_info{mechanism="none",spec="none"} 1$' "$tmp/scrape.txt" ||
      fail "no ethp2p_nat_info for --nat none"
    curl -fsS "http://127.0.0.1:$port/status" | grep -q '"enr":"enr:' || fail "no record in /status"
  fi
  wait "$node_pid" || { cat "$log"; fail "$1 exited with an error"; }
  node_pid=
  sed 's/^/   /' "$log"
  grep -q '^record seq=[0-9]* enr:' "$log" || fail "$1 printed no record"
  grep -q '^stopped' "$log" || fail "$1 did not stop cleanly"
}

step "examples with pkg-config only"
cp -r "$src/examples" "$tmp/ex-pc"
rm -f "$tmp"/ex-pc/decode_record "$tmp"/ex-pc/node_nat
echo "   pkg-config --cflags --libs ethp2p: $(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs ethp2p)"
targets=decode_record
[ "$have_node_api" = 1 ] && targets="decode_record node_nat"
# shellcheck disable=SC2086
env -u CPATH -u C_INCLUDE_PATH -u LIBRARY_PATH PKG_CONFIG_PATH="$libdir/pkgconfig" \
  make -C "$tmp/ex-pc" $targets >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; fail "make examples"; }
run_decode "$tmp/ex-pc/decode_record"
if [ "$have_node_api" = 1 ]; then
  run_node "$tmp/ex-pc/node_nat"
else
  echo "   node_nat skipped: the installed library has no ethp2p_server_start yet"
fi

for kind in shared static; do
  step "examples with find_package(ethp2p), $kind"
  static=OFF; [ "$kind" = static ] && static=ON
  cmake -S "$src/examples" -B "$tmp/ex-cmake-$kind" -DCMAKE_PREFIX_PATH="$prefix" \
    -DETHP2P_EXAMPLES_STATIC=$static >"$tmp/ex-configure.log" 2>&1 ||
    { cat "$tmp/ex-configure.log"; fail "configure examples ($kind)"; }
  # shellcheck disable=SC2086
  cmake --build "$tmp/ex-cmake-$kind" --target $targets -j 2 >"$tmp/ex-build.log" 2>&1 ||
    { tail -40 "$tmp/ex-build.log"; fail "build examples ($kind)"; }
  run_decode "$tmp/ex-cmake-$kind/decode_record"
  if [ "$kind" = static ] && ldd "$tmp/ex-cmake-$kind/decode_record" | grep -q libethp2p; then
    fail "the static build still needs libethp2p.so"
  fi
  [ "$have_node_api" = 1 ] && run_node "$tmp/ex-cmake-$kind/node_nat"
done

echo "PASS: installed tree works with pkg-config and find_package"
