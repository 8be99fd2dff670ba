#!/bin/sh
# fuzz-smoke.sh BUILD_DIR SECONDS: every libFuzzer target of a `make fuzz` build runs for
# SECONDS from its checked-in seeds, two at a time (CI: `make fuzz-smoke`, part of `make
# test`). New inputs go to a scratch directory that is removed afterwards, so the
# checked-in corpus never changes behind anyone's back. A crash, leak, timeout (10 s for
# one input) or sanitizer report fails: its input is kept in BUILD_DIR/fuzz-smoke/ and
# the target's log is printed.
set -eu
dir=$1
secs=$2
top=$(cd "$(dirname "$0")/.." && pwd)
out="$dir/fuzz-smoke"
rm -rf "$out"
mkdir -p "$out"
targets=$(cd "$dir/tests" && ls fuzz_* 2>/dev/null | grep -v '\.' || true)
if [ -z "$targets" ]; then
    echo "fuzz-smoke: no fuzz targets in $dir/tests (run make fuzz)" >&2
    exit 2
fi
# one target: its log in $out/NAME.log, its verdict in $out/NAME.rc
run_one() {
    name=$1
    work=$(mktemp -d "${TMPDIR:-/tmp}/mica-fuzz-$name.XXXXXX")
    rc=0
    "$dir/tests/$name" -max_total_time="$secs" -timeout=10 -max_len=20000 \
        -artifact_prefix="$out/$name-" -print_final_stats=1 \
        "$work" "$top/tests/fuzz/corpus/$name" > "$out/$name.log" 2>&1 || rc=$?
    rm -rf "$work"
    echo "$rc" > "$out/$name.rc"
}
n=0
for t in $targets; do
    run_one "$t" &
    n=$((n + 1))
    if [ $((n % 2)) -eq 0 ]; then
        wait
    fi
done
wait
bad=0
for t in $targets; do
    rc=$(cat "$out/$t.rc")
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log")
    cov=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$out/$t.log" | tail -1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    printf 'fuzz-smoke: %-28s %8s runs  %6s edges  %s\n' "$t" "${execs:-?}" "${cov:-?}" \
        "$([ "$rc" = 0 ] && echo ok || echo "FAILED (rc $rc)")"
    if [ "$rc" != 0 ]; then
        bad=1
        tail -40 "$out/$t.log" | sed 's/^/    /'
    fi
done
exit $bad
