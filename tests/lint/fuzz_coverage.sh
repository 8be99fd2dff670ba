#!/bin/sh
# fuzz_coverage.sh: every decoder has a fuzz target (STYLE.md 2.7.3: "tests/fuzz/fuzz_<name>.c
# lands in the same commit as its decoder; the lint fails on a decoder without one").
#
# A source file is a decoder when it is src/base/rd.c or src/tls/record.c, or when it
# defines a function whose name has a word starting with "decode" or "parse"
# (mica_msg_ch_decode, parse_key_share, mica_x509_parse_chain). Its fuzz target is named
# after the file:
#
#   src/base/rd.c        -> tests/fuzz/fuzz_rd.c
#   src/tls/record.c     -> tests/fuzz/fuzz_record.c
#   src/tls/msg/<x>.c    -> tests/fuzz/fuzz_<x>.c      (and likewise in any directory)
#
# Prints the mapping, then each decoder without its target; exits 1 if any is missing.
# Run from the repository root.
set -u

if [ ! -d src ] || [ ! -d tests/fuzz ]; then
    echo "fuzz_coverage: run me from the repository root" >&2
    exit 2
fi

echo "fuzz_coverage: every decoder source (rd.c, record.c, any file defining *decode*/*parse*"
echo "fuzz_coverage: functions) has tests/fuzz/fuzz_<file>.c"

# decoder_functions FILE: names of the decode/parse functions FILE defines (not merely
# declares): a line at column 0 naming the function, whose declaration reaches "{"
# before any ";".
decoder_functions() {
    awk '
    pending != "" {
        if (index($0, "{") > 0 && (index($0, ";") == 0 || index($0, "{") < index($0, ";"))) {
            print pending; pending = ""
        } else if (index($0, ";") > 0) {
            pending = ""
        }
        next
    }
    /^[A-Za-z_]/ && !/^(typedef|struct [A-Za-z0-9_]+ *\{|enum|union|#)/ {
        if (match($0, /[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/)) {
            name = substr($0, RSTART, RLENGTH)
            sub(/[ \t]*\($/, "", name)
            if (name ~ /(^|_)(decode|parse)/) {
                rest = substr($0, RSTART + RLENGTH)
                if (index(rest, ";") > 0) { next }          # a prototype on one line
                if (index(rest, "{") > 0) { print name; next }
                pending = name                              # the body opens below
            }
        }
    }' "$1" | LC_ALL=C sort -u | tr '\n' ' '
}

bad=0
n=0
for f in $(find src -type f -name '*.c' | LC_ALL=C sort); do
    funcs=$(decoder_functions "$f")
    case "$f" in
    src/base/rd.c | src/tls/record.c) ;;
    *) [ -n "$funcs" ] || continue ;;
    esac
    n=$((n + 1))
    base=${f##*/}
    target="tests/fuzz/fuzz_${base%.c}.c"
    why=${funcs:+ (defines ${funcs% })}
    if [ -f "$target" ]; then
        echo "fuzz_coverage: $f -> $target$why"
    else
        echo "fuzz_coverage: $f:1: decoder without a fuzz target: $target is missing$why"
        bad=1
    fi
done

if [ $bad -ne 0 ]; then
    echo "fuzz_coverage: FAILED" >&2
    exit 1
fi
echo "fuzz_coverage: ok ($n decoder files, each with its fuzz target)"
exit 0
