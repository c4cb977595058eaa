#!/usr/bin/env bash
# scripts/check-conventions.sh — checks the written conventions (docs/architecture.md) on a
# source tree, the way curl's checksrc checks its own.  Every violation is printed as
# "file:line: [check] what", and the script exits 1 if there is any (0 if none, 2 on usage).
#
#   scripts/check-conventions.sh [--skip CHECK]... [--only CHECK]... [--apply-format] [ROOT]
#
# ROOT defaults to the repository this script lives in.  The files are the tracked ones
# (git ls-files) when ROOT is a git work tree, else every file under ROOT (test fixtures).
# Checks:
#   banned   sprintf, strcpy, strcat, strncpy, strtok, atoi, gets in any C source (.c/.h):
#            use snprintf, memcpy with a length, strtoul/strtol with checks.
#   print    printf, puts, putchar, fprintf/fputs/fputc to stdout or stderr, exit, _Exit,
#            abort in the library (everything but cmd/, tests/, bench/, fuzz/, examples/):
#            the library reports through return codes and ethp2p_log.
#   libuv    <uv.h> or uv_* in the library outside env/ (the public env_uv.h is env's
#            header); programs (cmd/, tests/, bench/, examples/) that own a loop may use it.
#   private  cmd/ and the public headers (include/ethp2p/) include no internal header of a
#            library folder ("nat/impl.h", "core/buf.h", ...): programs use the public API.
#   links    in README.md and docs/*.md: a relative link [..](path) to a file that does not
#            exist; a `path` in backticks under a top-level folder of the tree that does not
#            exist; an `ethp2p_symbol` or `ETHP2P_MACRO` in backticks that no source defines
#            or uses; and in C sources, a name.md that does not exist (docs/ or relative).
#   format   clang-format --dry-run --Werror on every .c/.h (the repository's .clang-format).
# Comments and string literals are blanked before the C checks, so prose may name a banned
# function.  A deliberate exception is marked on its own line with a comment
# "check-conventions: allow CHECK" (e.g. env/uv.c's abort() when the kernel has no CSPRNG).
# --apply-format runs clang-format -i on every .c/.h first (a tree-wide reformat).
set -uo pipefail

usage() {
  sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

ALL_CHECKS="banned print libuv private links format"
declare -A enabled=()
only=()
skip=()
apply_format=0
root=""
while [ $# -gt 0 ]; do
  case "$1" in
  --skip) [ $# -ge 2 ] || usage; skip+=("$2"); shift 2 ;;
  --only) [ $# -ge 2 ] || usage; only+=("$2"); shift 2 ;;
  --apply-format) apply_format=1; shift ;;
  -h | --help) usage ;;
  -*) echo "check-conventions: unknown option $1" >&2; exit 2 ;;
  *) [ -z "$root" ] || usage; root="$1"; shift ;;
  esac
done
[ -n "$root" ] || root="$(cd "$(dirname "$0")/.." && pwd)"
[ -d "$root" ] || { echo "check-conventions: no such directory: $root" >&2; exit 2; }
root="$(cd "$root" && pwd)"
for c in $ALL_CHECKS; do enabled[$c]=1; done
if [ ${#only[@]} -gt 0 ]; then
  for c in $ALL_CHECKS; do enabled[$c]=0; done
  for c in "${only[@]}"; do enabled[$c]=1; done
fi
for c in "${skip[@]}"; do enabled[$c]=0; done
for c in "${!enabled[@]}"; do
  case " $ALL_CHECKS " in *" $c "*) ;; *) echo "check-conventions: unknown check $c" >&2; exit 2 ;; esac
done

cd "$root" || exit 2
if git -C "$root" rev-parse --show-toplevel >/dev/null 2>&1 &&
  [ "$(git -C "$root" rev-parse --show-toplevel)" = "$root" ]; then
  mapfile -t FILES < <(git ls-files)
else
  mapfile -t FILES < <(find . -type f -not -path './.git/*' -not -path './build*' \
    -not -path '*/node_modules/*' | sed 's|^\./||' | sort)
fi

C_FILES=()
LIB_FILES=()
for f in "${FILES[@]}"; do
  [ -f "$f" ] || continue
  case "$f" in
  *.c | *.h) C_FILES+=("$f") ;;
  *) continue ;;
  esac
  case "$f" in
  cmd/* | tests/* | bench/* | fuzz/* | examples/*) ;;
  *) LIB_FILES+=("$f") ;;
  esac
done

violations=0
report() { # file:line check message
  printf '%s: [%s] %s\n' "$1" "$2" "$3"
  violations=$((violations + 1))
}

# Every line of every C file as "file:line:code", with comments and string and character
# literals blanked (line numbers kept).  Computed once; the checks filter it.
STRIP='
  my $in_comment = 0;
  while (my $line = <>) {
    my $out = "";
    my $i = 0;
    my $n = length $line;
    while ($i < $n) {
      my $c = substr($line, $i, 1);
      my $c2 = substr($line, $i, 2);
      if ($in_comment) {
        if ($c2 eq "*/") { $in_comment = 0; $i += 2; $out .= "  "; next; }
        $out .= " "; $i++; next;
      }
      if ($c2 eq "/*") { $in_comment = 1; $i += 2; $out .= "  "; next; }
      if ($c2 eq "//") { last; }
      if ($c eq "\"" || $c eq "\x27") {
        my $q = $c; $out .= $q; $i++;
        while ($i < $n) {
          my $d = substr($line, $i, 1);
          if ($d eq "\\") { $i += 2; $out .= "  "; next; }
          if ($d eq $q) { last; }
          $out .= " "; $i++;
        }
        $out .= $q; $i++; next;
      }
      $out .= $c; $i++;
    }
    $out =~ s/\n//;
    print "$ARGV:$.:$out\n";
    if (eof) { close ARGV; $in_comment = 0; }
  }'
# Documents of other projects that code and docs cite by name: the devp2p
# specifications (ethereum/devp2p: discv4.md, discv5/discv5-wire.md, rlpx.md, ...) and
# go-ethereum's cmd/devp2p.  They are not files of this tree, and that is not an error.
external_ref() {
  case "$1" in
  discv4.md | discv5*.md | discv5/* | rlpx.md | wire.md | caps/* | cmd/devp2p*) return 0 ;;
  esac
  return 1
}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
: >"$TMP/stripped"
[ ${#C_FILES[@]} -eq 0 ] || perl -e "$STRIP" "${C_FILES[@]}" >"$TMP/stripped"

check_c_pattern() { # check-name regex message files...
  local name="$1" re="$2" msg="$3"
  shift 3
  [ $# -gt 0 ] || return 0
  printf '%s\n' "$@" >"$TMP/set"
  local hit
  while IFS= read -r hit; do
    local loc="${hit%%:*}" rest="${hit#*:}"
    local line="${rest%%:*}" code="${rest#*:}"
    local word
    # A deliberate exception carries a marker on its line: /* check-conventions: allow NAME */
    if sed -n "${line}p" "$loc" | grep -q "check-conventions: allow $name"; then
      continue
    fi
    word=$(grep -oE "$re" <<<"$code" | head -1 | tr -d ' (')
    report "$loc:$line" "$name" "$msg: ${word:-$code}"
  done < <(awk -F: 'NR == FNR { want[$0] = 1; next } ($1 in want)' "$TMP/set" "$TMP/stripped" |
    grep -E "^[^:]+:[0-9]+:.*($re)")
}

if [ "${enabled[banned]}" = 1 ]; then
  check_c_pattern banned '\b(sprintf|strcpy|strcat|strncpy|strtok|atoi|gets)[[:space:]]*\(' \
    "banned function" "${C_FILES[@]}"
fi

if [ "${enabled[print]}" = 1 ]; then
  check_c_pattern print \
    '\b(printf|puts|putchar|exit|_Exit|abort)[[:space:]]*\(|\bfprintf[[:space:]]*\([[:space:]]*(stdout|stderr)\b|\bfput[sc][[:space:]]*\(.*,[[:space:]]*(stdout|stderr)[[:space:]]*\)' \
    "printing or exiting below cmd/" "${LIB_FILES[@]}"
fi

if [ "${enabled[libuv]}" = 1 ]; then
  uv_files=()
  for f in "${LIB_FILES[@]}"; do
    case "$f" in env/* | include/ethp2p/env_uv.h) ;; *) uv_files+=("$f") ;; esac
  done
  if [ ${#uv_files[@]} -gt 0 ]; then
    # The include is checked on the raw text (the stripper blanks <uv.h> in quotes only).
    while IFS= read -r hit; do
      report "$hit" libuv "libuv header outside env/"
    done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]uv\.h[>"]' \
      "${uv_files[@]}" /dev/null | cut -d: -f1,2)
    check_c_pattern libuv '\buv_[a-z0-9_]+' "libuv outside env/" "${uv_files[@]}"
  fi
fi

if [ "${enabled[private]}" = 1 ]; then
  priv_files=()
  for f in "${C_FILES[@]}"; do
    case "$f" in cmd/* | include/*) priv_files+=("$f") ;; esac
  done
  if [ ${#priv_files[@]} -gt 0 ]; then
    while IFS= read -r hit; do
      report "$(cut -d: -f1,2 <<<"$hit")" private \
        "internal header: $(grep -oE '"[^"]+"' <<<"$hit" | head -1)"
    done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"(core|enr|env|sim|nat|p2p)/' \
      "${priv_files[@]}" /dev/null)
  fi
fi

if [ "${enabled[links]}" = 1 ]; then
  DOCS=()
  for f in "${FILES[@]}"; do
    case "$f" in README.md | docs/*.md) [ -f "$f" ] && DOCS+=("$f") ;; esac
  done
  # Every ethp2p_/ETHP2P_ word in the sources and build files (not in the docs themselves),
  # plus the error names of the X-macro table (X(EINVAL, ...) defines ETHP2P_EINVAL).
  declare -A known=()
  while IFS= read -r w; do known[$w]=1; done < <(
    for f in "${FILES[@]}"; do
      case "$f" in *.md) ;; *) [ -f "$f" ] && printf '%s\0' "$f" ;; esac
    done | xargs -0 -r grep -ohE '\b(ethp2p|ETHP2P)_[A-Za-z0-9_]+' 2>/dev/null | sort -u
    for f in "${FILES[@]}"; do
      case "$f" in *.h) printf '%s\0' "$f" ;; esac
    done | xargs -0 -r grep -ohE '\bX\([A-Z0-9_]+,' 2>/dev/null | sed 's/^X(/ETHP2P_/; s/,$//' |
      sort -u
  )
  top_dirs=" $(for f in "${FILES[@]}"; do echo "${f%%/*}"; done | sort -u | tr '\n' ' ') "
  for doc in "${DOCS[@]}"; do
    dir=$(dirname "$doc")
    # Relative links [text](target): target relative to the document.
    while IFS= read -r hit; do
      line="${hit%%:*}"
      target="${hit#*:}"
      target="${target#*](}"
      target="${target%)}"
      target="${target%% *}"
      case "$target" in
      http:* | https:* | mailto:* | \#* | "") continue ;;
      esac
      path="${target%%#*}"
      [ -n "$path" ] || continue
      if [ ! -e "$dir/$path" ]; then
        report "$doc:$line" links "link to a missing file: $path"
      fi
    done < <(grep -noE '\]\([^)[:space:]]+( "[^"]*")?\)' "$doc")
    # `code` spans: paths under a top-level folder, and ethp2p symbols.
    while IFS= read -r hit; do
      line="${hit%%:*}"
      tok="${hit#*:}"
      tok="${tok#\`}"
      tok="${tok%\`}"
      case "$tok" in
      *'*'* | *'<'* | *'{'* | *'['* | *' '* | *'$'* | *'|'* | *'…'*) continue ;;
      esac
      if [[ "$tok" =~ ^(ethp2p|ETHP2P)_[A-Za-z0-9_]+(\(\))?$ ]]; then
        sym="${tok%()}"
        [ -n "${known[$sym]:-}" ] || report "$doc:$line" links "symbol not in the sources: $sym"
        continue
      fi
      first="${tok%%/*}"
      # A path: under a top-level folder of the tree, or any relative a/b.ext with a
      # source or document extension.
      if [ -n "$first" ] && [ "$first" != "$tok" ] && [ "${tok:0:1}" != "~" ] &&
        { { [ -d "$first" ] && [[ "$top_dirs" == *" $first "* ]]; } ||
          [[ "${tok%%:*}" =~ \.(c|h|md|sh|mjs|json|txt|in)$ ]]; }; then
        path="${tok%%:*}" # file.c:123 or file.c:function
        path="${path%/}"
        # From the top, as an include path (ethp2p/env.h), or next to the document.
        [ -e "$path" ] || [ -e "include/$path" ] || [ -e "$dir/$path" ] || external_ref "$path" ||
          report "$doc:$line" links "path that does not exist: $path"
      fi
    done < <(grep -noE '`[^`]+`' "$doc")
  done
fi

if [ "${enabled[links]}" = 1 ] && [ ${#C_FILES[@]} -gt 0 ]; then
  # Documents named in C comments (e.g. "see docs/doctor.md") must exist too.
  while IFS= read -r hit; do
    f="${hit%%:*}"
    rest="${hit#*:}"
    line="${rest%%:*}"
    doc="${rest#*:}"
    [ -e "$doc" ] || [ -e "docs/$doc" ] || [ -e "$(dirname "$f")/$doc" ] || external_ref "$doc" ||
      report "$f:$line" links "names a document that does not exist: $doc"
  done < <(grep -noE '\b[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md\b' "${C_FILES[@]}" /dev/null)
fi

if [ "$apply_format" = 1 ] && [ ${#C_FILES[@]} -gt 0 ]; then
  clang-format -i "${C_FILES[@]}"
fi

if [ "${enabled[format]}" = 1 ] && [ ${#C_FILES[@]} -gt 0 ]; then
  if ! command -v clang-format >/dev/null 2>&1; then
    report "." format "clang-format is not installed"
  else
    while IFS= read -r hit; do
      report "$(cut -d: -f1,2 <<<"$hit")" format "not clang-formatted (clang-format -i fixes it)"
    done < <(for f in "${C_FILES[@]}"; do
      clang-format --dry-run --Werror "$f" 2>&1 | grep -m1 -E '^[^ ]+:[0-9]+:[0-9]+: error'
    done)
  fi
fi

if [ "$violations" -gt 0 ]; then
  echo "check-conventions: $violations violation(s)" >&2
  exit 1
fi
echo "check-conventions: ok (${#C_FILES[@]} C files, checks: $(for c in $ALL_CHECKS; do
  [ "${enabled[$c]}" = 1 ] && printf '%s ' "$c"
done))"
exit 0
