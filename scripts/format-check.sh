#!/bin/sh
# Fail if any C file differs from what .clang-format makes of it.
set -eu
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find src include tools tests bench -name '*.[ch]')
bad=0
for f in $files; do
    if ! clang-format --style=file "$f" | cmp -s - "$f"; then
        echo "format: $f is not clang-formatted (run: make format)" >&2
        bad=1
    fi
done
[ $bad -eq 0 ] && echo "format: all files clang-formatted"
exit $bad
