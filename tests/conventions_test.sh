#!/usr/bin/env bash
# tests/conventions_test.sh — scripts/check-conventions.sh on fixture trees: a clean tree
# passes, and each kind of violation planted in a copy of it makes the checker fail with
# the violation's file:line.  Args (as every shell test): the ethp2p binary and the testdata
# folder, both unused.  Exits 77 (skipped) without clang-format or perl.
set -uo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
CHECK="$HERE/scripts/check-conventions.sh"
command -v clang-format >/dev/null 2>&1 || { echo "SKIP: no clang-format"; exit 77; }
command -v perl >/dev/null 2>&1 || { echo "SKIP: no perl"; exit 77; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ethp2p-conventions.$$.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail=0

# A small clean tree: a library file, a public header, a program that may print and use
# libuv, the env layer that may use libuv, and docs with a good link, path and symbol.
make_clean() {
  local t="$1"
  mkdir -p "$t/core" "$t/include/ethp2p" "$t/cmd/ethp2p" "$t/env" "$t/docs" "$t/tests"
  cp "$HERE/.clang-format" "$t/.clang-format"
  cat >"$t/include/ethp2p/widget.h" <<'H'
#ifndef ETHP2P_WIDGET_H
#define ETHP2P_WIDGET_H
#include <stddef.h>
/* Copies a name; never sprintf or strcpy (prose may name them).  See design.md. */
int ethp2p_widget_name(char *out, size_t size, const char *in);
#endif
H
  cat >"$t/core/widget.c" <<'C'
#include <stdio.h>

#include "ethp2p/widget.h"

int ethp2p_widget_name(char *out, size_t size, const char *in) {
  const char *s = "printf(\"%s\") in a string is fine";
  (void)s;
  int n = snprintf(out, size, "%s", in);
  return n < 0 || (size_t)n >= size ? -1 : 0;
}
C
  cat >"$t/env/loop.c" <<'C'
#include <uv.h>

int env_loop_alive(uv_loop_t *loop) {
  return uv_loop_alive(loop);
}
C
  cat >"$t/cmd/ethp2p/main.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

int main(void) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  printf("ok\n");
  exit(0);
}
C
  cat >"$t/tests/check_widget.c" <<'C'
#include <stdio.h>

int main(void) {
  puts("tests may print");
  return 0;
}
C
  cat >"$t/README.md" <<'M'
# widget

See [the design](docs/design.md) and `core/widget.c`.
M
  cat >"$t/docs/design.md" <<'M'
# Design

`ethp2p_widget_name()` lives in [core](../core/widget.c); `ETHP2P_WIDGET_H` guards the
header. Ports like `tcp/30303` and URLs like [geth](https://geth.ethereum.org/) are not files.
M
}

# expect NAME CHECK FILE:LINE — runs the checker on $WORK/NAME and wants exit 1 and that line.
expect() {
  local name="$1" check="$2" where="$3" out rc
  out=$("$CHECK" "$WORK/$name" 2>&1)
  rc=$?
  if [ "$rc" -ne 1 ]; then
    echo "FAIL: $name: checker exited $rc, want 1"; echo "$out"; fail=1; return
  fi
  if ! grep -qF "$where: [$check]" <<<"$out"; then
    echo "FAIL: $name: no \"$where: [$check]\" in:"; echo "$out"; fail=1; return
  fi
  echo "ok: $name -> $(grep -F "$where: [$check]" <<<"$out" | head -1)"
}

plant() { # NAME: a fresh copy of the clean tree
  rm -rf "$WORK/$1"
  cp -r "$WORK/clean" "$WORK/$1"
}

make_clean "$WORK/clean"
if out=$("$CHECK" "$WORK/clean" 2>&1); then
  echo "ok: clean tree passes ($out)"
else
  echo "FAIL: the clean tree does not pass:"; echo "$out"; fail=1
fi

# Banned functions, one per planted file (line 3 each).
for fn in sprintf strcpy strcat strncpy strtok atoi gets; do
  plant "banned-$fn"
  printf '#include <string.h>\n\nint f(char *d, const char *s) { return %s(d, s) != 0; }\n' \
    "$fn" >"$WORK/banned-$fn/core/bad.c"
  expect "banned-$fn" banned core/bad.c:3
done
# ... also in tests (the ban is everywhere).
plant banned-in-tests
sed -i 's|puts("tests may print");|char b[8];\n  sprintf(b, "%d", 1);|' "$WORK/banned-in-tests/tests/check_widget.c"
expect banned-in-tests banned tests/check_widget.c:5

# Printing and exiting below cmd/.
plant print-printf
sed -i 's|  (void)s;|  printf("%s", s);|' "$WORK/print-printf/core/widget.c"
expect print-printf print core/widget.c:7
plant print-stderr
sed -i 's|  (void)s;|  fprintf(stderr, "%s", s);|' "$WORK/print-stderr/core/widget.c"
expect print-stderr print core/widget.c:7
plant print-exit
sed -i 's|  (void)s;|  exit(1);|' "$WORK/print-exit/core/widget.c"
expect print-exit print core/widget.c:7
plant print-abort
sed -i 's|  (void)s;|  abort();|' "$WORK/print-abort/core/widget.c"
expect print-abort print core/widget.c:7
# A marked exception passes.
plant print-allowed
sed -i 's|  (void)s;|  abort(); /* check-conventions: allow print */|' \
  "$WORK/print-allowed/core/widget.c"
if "$CHECK" --skip format "$WORK/print-allowed" >/dev/null 2>&1; then
  echo "ok: a marked exception passes"
else
  echo "FAIL: the allow marker is not honoured"; fail=1
fi

# libuv outside env/.
plant libuv-include
sed -i 's|#include <stdio.h>|#include <stdio.h>\n#include <uv.h>|' "$WORK/libuv-include/core/widget.c"
expect libuv-include libuv core/widget.c:2
plant libuv-call
sed -i 's|  (void)s;|  (void)uv_version();|' "$WORK/libuv-call/core/widget.c"
expect libuv-call libuv core/widget.c:7

# Internal headers in programs and public headers.
plant private-cmd
sed -i 's|#include <uv.h>|#include <uv.h>\n\n#include "core/buf.h"|' "$WORK/private-cmd/cmd/ethp2p/main.c"
expect private-cmd private cmd/ethp2p/main.c:5
plant private-public
sed -i 's|#include <stddef.h>|#include <stddef.h>\n#include "nat/impl.h"|' "$WORK/private-public/include/ethp2p/widget.h"
expect private-public private include/ethp2p/widget.h:4

# Docs: a link to a missing file, a missing path, a missing symbol.
plant link-file
echo 'And [the old notes](PROTOCOLS.md).' >>"$WORK/link-file/docs/design.md"
expect link-file links docs/design.md:5
plant link-in-comment
sed -i 's|^/\* Copies a name;|/* See PROTOCOLS.md.  Copies a name;|' "$WORK/link-in-comment/include/ethp2p/widget.h"
expect link-in-comment links include/ethp2p/widget.h:4
plant link-path
echo 'The codec is `core/gone.c`.' >>"$WORK/link-path/README.md"
expect link-path links README.md:4
plant link-path-ext
echo 'The codec is `nat/gone.c` (a folder the tree does not have).' >>"$WORK/link-path-ext/README.md"
expect link-path-ext links README.md:4
plant link-symbol
echo 'Call `ethp2p_widget_rename()` first.' >>"$WORK/link-symbol/docs/design.md"
expect link-symbol links docs/design.md:5

# Formatting.
plant format
printf 'int ethp2p_widget_twice(int x){return 2*x;}\n' >"$WORK/format/core/twice.c"
expect format format core/twice.c:1
# --apply-format fixes it.
if "$CHECK" --apply-format "$WORK/format" >/dev/null 2>&1; then
  echo "ok: --apply-format leaves a clean tree"
else
  echo "FAIL: --apply-format did not fix the formatting"; fail=1
fi

# Usage errors.
"$CHECK" --only nonsense "$WORK/clean" >/dev/null 2>&1
[ $? -eq 2 ] && echo "ok: unknown check is a usage error" || { echo "FAIL: --only nonsense"; fail=1; }

[ $fail -eq 0 ] && echo "PASS: conventions_test" || echo "FAIL: conventions_test"
exit $fail
