#!/bin/sh
# Are the generated vector files up to date with their sources?
#
#   tests/vectors/wycheproof/*.txt  <- tests/vectors/wycheproof/convert.py  (from the .json files)
#   tests/vectors/rfc8448/rfc8448.vec <- tests/vectors/rfc8448/extract.py    (from rfc8448.txt)
#   tests/vectors/mlkem/**/*.txt that convert.py writes <- tests/vectors/mlkem/convert.py
#                                     (from the Wycheproof, ACVP and CCTV files beside it)
#
# Regenerates them into a temporary directory and compares them with the checked-in files.
# Run from the repository root (ctest does: vectors_fresh). Exits 0 when everything is
# fresh, non-zero with a message naming each stale, missing or extra file otherwise.
set -u

fail=0
say() { printf '%s\n' "check_fresh: $*" >&2; }

if [ ! -d tests/vectors/wycheproof ] || [ ! -d tests/vectors/rfc8448 ]; then
    say "run me from the repository root (tests/vectors/ not found in $(pwd))"
    exit 2
fi
if ! command -v python3 >/dev/null 2>&1; then
    say "python3 not found"
    exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mica-vectors.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir "$tmp/wp" || exit 2

# --- Wycheproof: every .json must have a fresh .txt, and every .txt a .json ---------
if ! python3 tests/vectors/wycheproof/convert.py "$tmp/wp"; then
    say "tests/vectors/wycheproof/convert.py failed"
    exit 1
fi
for new in "$tmp"/wp/*.txt; do
    [ -e "$new" ] || continue
    name=${new##*/}
    old=tests/vectors/wycheproof/$name
    if [ ! -f "$old" ]; then
        say "$old is missing (run: python3 tests/vectors/wycheproof/convert.py)"
        fail=1
    elif ! cmp -s "$new" "$old"; then
        say "$old is stale (run: python3 tests/vectors/wycheproof/convert.py)"
        diff -u "$old" "$new" | head -n 20 >&2
        fail=1
    fi
done
for old in tests/vectors/wycheproof/*.txt; do
    [ -e "$old" ] || continue
    name=${old##*/}
    if [ ! -f "$tmp/wp/$name" ]; then
        say "$old has no source ${name%.txt}.json (stale leftover?)"
        fail=1
    fi
done

# --- RFC 8448 ----------------------------------------------------------------------
if ! python3 tests/vectors/rfc8448/extract.py tests/vectors/rfc8448/rfc8448.txt \
        >"$tmp/rfc8448.vec"; then
    say "tests/vectors/rfc8448/extract.py failed"
    exit 1
fi
if ! cmp -s "$tmp/rfc8448.vec" tests/vectors/rfc8448/rfc8448.vec; then
    say "tests/vectors/rfc8448/rfc8448.vec is stale (run: python3 tests/vectors/rfc8448/extract.py" \
        "tests/vectors/rfc8448/rfc8448.txt > tests/vectors/rfc8448/rfc8448.vec)"
    diff -u tests/vectors/rfc8448/rfc8448.vec "$tmp/rfc8448.vec" | head -n 20 >&2
    fail=1
fi

# tests/vectors/tls-hybrid/x25519mlkem768.txt <- convert.py (from the .json)
if ! (cd tests/vectors/tls-hybrid && python3 convert.py) >"$tmp/hybrid.txt"; then
    say "tests/vectors/tls-hybrid/convert.py failed"
    exit 1
fi
if ! cmp -s "$tmp/hybrid.txt" tests/vectors/tls-hybrid/x25519mlkem768.txt; then
    say "tests/vectors/tls-hybrid/x25519mlkem768.txt is stale (run: cd tests/vectors/tls-hybrid" \
        "&& python3 convert.py > x25519mlkem768.txt)"
    fail=1
fi

# --- ML-KEM-768 (tests/vectors/mlkem/README.md) ---------------------------------------
# convert.py writes a fixed list of files; each must exist and match. (The CCTV .txt
# files there are sources, read as they are, so there is no reverse check.)
mkdir "$tmp/mlkem" || exit 2
if ! python3 tests/vectors/mlkem/convert.py "$tmp/mlkem"; then
    say "tests/vectors/mlkem/convert.py failed"
    exit 1
fi
for rel in $(cd "$tmp/mlkem" && find . -type f -name '*.txt' | LC_ALL=C sort); do
    rel=${rel#./}
    old=tests/vectors/mlkem/$rel
    if [ ! -f "$old" ]; then
        say "$old is missing (run: python3 tests/vectors/mlkem/convert.py)"
        fail=1
    elif ! cmp -s "$tmp/mlkem/$rel" "$old"; then
        say "$old is stale (run: python3 tests/vectors/mlkem/convert.py)"
        diff -u "$old" "$tmp/mlkem/$rel" | head -n 20 >&2
        fail=1
    fi
done

if [ "$fail" -ne 0 ]; then
    say "generated vector files are stale; see above"
    exit 1
fi
echo "check_fresh: all generated vector files are fresh"
exit 0
