#!/bin/sh
# Run every libFuzzer target for N seconds each, starting from its seed corpus.
set -eu
dir=$1; secs=$2
top=$(cd "$(dirname "$0")/.." && pwd)
for t in "$dir"/tests/fuzz_*; do
    name=$(basename "$t")
    work="$dir/corpus-$name"
    mkdir -p "$work"
    echo "== $name for ${secs}s"
    "$t" -max_total_time="$secs" -max_len=20000 "$work" "$top/tests/fuzz/corpus/$name"
done
