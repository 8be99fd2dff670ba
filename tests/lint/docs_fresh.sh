#!/bin/sh
# docs_fresh.sh <mica>: docs/ERRORS.md is generated from the one error table
# (src/base/err.c, STYLE.md 2.3) by `mica errors --markdown`; fail if it is stale.
#
# To regenerate after changing the table:
#     build/release/mica errors --markdown > docs/ERRORS.md
# Run from the repository root. Exits 1 (with the diff) when the file is stale or missing.
set -u

if [ $# -ne 1 ]; then
    echo "usage: docs_fresh.sh <path-to-mica-binary>" >&2
    exit 2
fi
mica=$1
doc=docs/ERRORS.md

echo "docs_fresh: $doc is what \`mica errors --markdown\` prints"
if [ ! -x "$mica" ]; then
    echo "docs_fresh: $mica is not an executable" >&2
    exit 2
fi
if [ ! -f "$doc" ]; then
    echo "docs_fresh: $doc is missing; generate it with: $mica errors --markdown > $doc"
    exit 1
fi

tmp=$(mktemp "${TMPDIR:-/tmp}/mica-errors.XXXXXX") || exit 2
trap 'rm -f "$tmp"' EXIT INT TERM
if ! "$mica" errors --markdown >"$tmp"; then
    echo "docs_fresh: \`$mica errors --markdown\` failed" >&2
    exit 1
fi
if ! diff -u "$doc" "$tmp"; then
    echo "docs_fresh: $doc is stale; regenerate it with: mica errors --markdown > $doc"
    exit 1
fi
echo "docs_fresh: ok ($(grep -c '^| [0-9]' "$doc") error codes)"
exit 0
