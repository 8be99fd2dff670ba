#!/bin/sh
# symbols.sh <libmica.so> <libmica.a>: symbol hygiene (STYLE.md 2.2 and 2.7.3).
#
#   1. Every defined global symbol in the shared library's dynamic table starts with
#      mica_ and is declared in some include/mica/*.h (it is public API, or it should
#      not be exported: -fvisibility=hidden and MICA_API).
#   2. Every MICA_API function declared in include/mica/*.h that the library defines is
#      exported by the shared library (defined but hidden means MICA_API is missing on the
#      definition's declaration). Declared functions that nothing defines yet are listed
#      as notes, not failures: the public API is written down before it is built.
#   3. Every defined global symbol in the static library starts with mica_, internal ones
#      included (the static library shares the application's namespace).
#   4. Release builds contain no fuzzing-only code: no symbol, global or local, whose name
#      contains "fuzz" or "null_aead" (src/crypto/null.c is compiled only with
#      -DMICA_FUZZING). A library instrumented for libFuzzer (it references
#      __sanitizer_cov_*) is a fuzzing build, not a release, and skips this check.
#
# Symbols the toolchain itself defines (_init, _fini, _edata, _end, __bss_start, and the
# sanitizer runtimes' __asan_*, __odr_asan_*, __ubsan_*, __sancov_* helpers) are not ours
# and are ignored. Run from the repository root; exits 1 on any violation.
set -u

if [ $# -ne 2 ]; then
    echo "usage: symbols.sh <libmica.so> <libmica.a>" >&2
    exit 2
fi
so=$1
ar=$2
for f in "$so" "$ar"; do
    if [ ! -f "$f" ]; then
        echo "symbols: $f not found" >&2
        exit 2
    fi
done
if ! command -v nm >/dev/null 2>&1; then
    echo "symbols: nm not found" >&2
    exit 2
fi
if [ ! -d include/mica ]; then
    echo "symbols: run me from the repository root" >&2
    exit 2
fi

bad=0
fail() {
    printf 'symbols: %s\n' "$*"
    bad=1
}

# toolchain-defined names that are not ours
not_ours() {
    case "$1" in
    _init | _fini | _edata | _end | __bss_start | _etext | __end__ | __data_start) return 0 ;;
    __asan_* | __odr_asan* | ___asan* | __ubsan_* | __sancov_* | __sanitizer_* | __llvm_*) return 0 ;;
    *) return 1 ;;
    esac
}

# defined global symbols: nm prints "value type name"; global types are upper case
# (and u, unique global; i, indirect function)
globals() { # nm-args...
    nm "$@" 2>/dev/null | awk 'NF >= 3 && $2 ~ /^[A-TV-Zui]$/ { n = $3; sub(/@.*/, "", n); print n }' |
        LC_ALL=C sort -u
}

declared() { # name: is it declared in include/mica/*.h?
    grep -Eq "(^|[^A-Za-z0-9_])$1([^A-Za-z0-9_]|\$)" include/mica/*.h
}

echo "symbols: $so: every exported symbol starts with mica_ and is declared in include/mica/"
echo "symbols: include/mica/: every MICA_API function is exported by $so"
echo "symbols: $ar: every global symbol starts with mica_"
echo "symbols: no fuzz / null_aead symbol in a release build"

exported=$(globals -D --defined-only "$so")
n_exported=0
for s in $exported; do
    if not_ours "$s"; then
        continue
    fi
    n_exported=$((n_exported + 1))
    case "$s" in
    mica_*) ;;
    *) fail "$so exports $s: not mica_-prefixed" ;;
    esac
    if ! declared "$s"; then
        fail "$so exports $s, which no include/mica/*.h declares (missing static, or hidden visibility?)"
    fi
done

api=$(grep -h 'MICA_API' include/mica/*.h | grep -v '#' |
    sed -n 's/.*[^A-Za-z0-9_]\(mica_[A-Za-z0-9_]*\)[[:space:]]*(.*/\1/p' | LC_ALL=C sort -u)
archive=$(globals -g --defined-only "$ar")
n_api=0
n_missing=0
for s in $api; do
    n_api=$((n_api + 1))
    if printf '%s\n' "$exported" | grep -qx "$s"; then
        continue
    fi
    if printf '%s\n' "$archive" | grep -qx "$s"; then
        fail "$s is declared MICA_API and defined in $ar, but $so does not export it"
    else
        n_missing=$((n_missing + 1))
    fi
done
if [ $n_missing -gt 0 ]; then
    echo "symbols: note: $n_missing MICA_API functions are declared but not defined yet"
fi

n_static=0
for s in $archive; do
    if not_ours "$s"; then
        continue
    fi
    n_static=$((n_static + 1))
    case "$s" in
    mica_*) ;;
    *) fail "$ar defines global $s: not mica_-prefixed (make it static or rename it mica_<module>_...)" ;;
    esac
done

if nm "$ar" 2>/dev/null | grep -q ' U __sanitizer_cov_'; then
    echo "symbols: $ar is instrumented for libFuzzer: a fuzzing build, fuzz-symbol check skipped"
else
    leaks=$( (nm "$ar" 2>/dev/null; nm -D "$so" 2>/dev/null) |
        awk 'NF >= 2 { print $NF }' | grep -Ei 'fuzz|null_aead' | LC_ALL=C sort -u)
    for s in $leaks; do
        fail "fuzzing-only symbol $s in a release build"
    done
fi

if [ $bad -ne 0 ]; then
    echo "symbols: FAILED" >&2
    exit 1
fi
echo "symbols: ok ($n_exported exported, $n_api MICA_API declarations, $n_static globals in the archive)"
exit 0
