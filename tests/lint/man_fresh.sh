#!/bin/sh
# man_fresh.sh <mica> [man-dir]: every long option that `mica CMD --help` prints, for
# CMD in client, server, verify and scan, is named in the man page docs/man/mica-CMD.1.
#
# The pages are written by hand (roff, man(7)); this catches an option added to a
# command's --help without a word in its page. An option counts as named when the
# page's source, with its roff font escapes removed (\fB \fI \fR \fP, \f(XX, \f[X])
# and \- read as -, holds it as a whole word: --trace-dir does not count for --trace.
# Comment lines (.\") do not count.
#
# man-dir defaults to docs/man next to this script's tests/lint (the source tree).
# Exits 0 with a one-line summary, 1 naming each missing option and its page, 2 on a
# usage error (no binary, no page, a --help that fails or lists no option).
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: man_fresh.sh <path-to-mica-binary> [man-dir]" >&2
    exit 2
fi
mica=$1
top=$(cd "$(dirname "$0")/../.." && pwd) || exit 2
mandir=${2:-$top/docs/man}

if [ ! -x "$mica" ]; then
    echo "man_fresh: $mica is not an executable" >&2
    exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mica-man.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' INT TERM

missing=0
checked=0
for cmd in client server verify scan; do
    page=$mandir/mica-$cmd.1
    if [ ! -f "$page" ]; then
        echo "man_fresh: the page of mica $cmd is missing: $page"
        missing=$((missing + 1))
        continue
    fi
    if ! "$mica" "$cmd" --help >"$tmp/help" 2>&1; then
        echo "man_fresh: \`$mica $cmd --help\` failed" >&2
        exit 2
    fi
    # every --option of the help text, once each
    grep -oE -- '--[a-z0-9-]+' "$tmp/help" | sed 's/-*$//' | sort -u >"$tmp/opts"
    if [ ! -s "$tmp/opts" ]; then
        echo "man_fresh: \`$mica $cmd --help\` lists no --option" >&2
        exit 2
    fi
    # the page as text: no comments, no font escapes, \- as -, \& and \% gone
    sed -e '/^[.'\'']\\"/d' \
        -e 's/\\".*$//' \
        -e 's/\\f[BIRP]//g' \
        -e 's/\\f([A-Z][A-Z]//g' \
        -e 's/\\f\[[A-Z]*\]//g' \
        -e 's/\\-/-/g' \
        -e 's/\\[&%]//g' \
        "$page" >"$tmp/page"
    while IFS= read -r opt; do
        checked=$((checked + 1))
        if ! grep -qE -- "(^|[^a-z0-9-])$opt([^a-z0-9-]|\$)" "$tmp/page"; then
            echo "man_fresh: $opt of \`mica $cmd --help\` is not in $page"
            missing=$((missing + 1))
        fi
    done <"$tmp/opts"
done

if [ "$missing" -ne 0 ]; then
    echo "man_fresh: $missing option(s) missing from docs/man; describe them in the page"
    exit 1
fi
echo "man_fresh: ok ($checked options of mica client, server, verify and scan --help, all in docs/man)"
exit 0
