#!/bin/sh
# handshakes.sh <mica> <loadgen> <sanitized 0|1>: up to 100,000 full handshakes in a row
# against one mica server --echo (20,000 under the sanitizers), 16 at a time, each with an
# echo and close_notify both ways, and the server's memory does not grow.
#
#   - the server's VmRSS is sampled every 5,000 handshakes (1,000 under the sanitizers,
#     whose quarantine is cut to 16 MiB for this server so that it fills early instead of
#     looking like growth); the first sample is the warm-up. From the second sample to
#     the last, RSS may grow by at most GROWTH_MAX KiB: 1 MiB over 95,000 handshakes is
#     11 bytes per handshake, over 15,000 (the least judged) 70
#   - the run stops at a time budget (75 s; 120 s under the sanitizers) so that a slow or
#     busy machine gives a shorter run, not a timeout: it must still reach MIN_HS
#     handshakes (4 samples) for a verdict, and says how many it made
#   - no handshake fails, the server logs no failure, and it exits 0 on SIGTERM
#
# mica server listens on 127.0.0.1 only, on ports 62600 + 4 * ($$ % 150) and up, and is
# stopped on exit.
unset SSLKEYLOGFILE
set -u

if [ $# -ne 3 ]; then
    echo "usage: handshakes.sh <mica> <loadgen> <sanitized 0|1>" >&2
    exit 2
fi
mica=$1
loadgen=$2
sanitized=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
certs="$top/tests/vectors/certs"
port=$((62600 + 4 * ($$ % 150)))
me=load_handshakes
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
make_tmp
use_timeout 170 # (the server runs without timeout(1): its PID is the one measured)

total=100000
sample=5000
budget=75
GROWTH_MAX=1024
if [ "$sanitized" = 1 ]; then
    total=20000
    sample=1000
    budget=120
    GROWTH_MAX=4096
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"
    export ASAN_OPTIONS
fi
MIN_HS=$((sample * 4))

spawn_server "$tmp/srv.log" 'listening on' "$mica" server --echo \
    --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
    --accept 127.0.0.1:@PORT@ || {
    echo "$me: FAIL: mica server did not start:$(excerpt "$tmp/srv.log")"
    exit 1
}
$to "$loadgen" handshakes 127.0.0.1 "$srv_port" -n $total -c 16 --sample $sample \
    --max-seconds $budget --pid "$srv_pid" >"$tmp/gen.out" 2>&1
st=$?
sed "s/^/$me: /" "$tmp/gen.out"
[ $st = 0 ] || fail "loadgen handshakes exited $st"
done_hs=$(sed -n 's/^handshakes \([0-9]*\) in .*/\1/p' "$tmp/gen.out")
if [ -z "$done_hs" ] || [ "$done_hs" -lt $MIN_HS ]; then
    fail "${done_hs:-no} handshakes within $budget s, fewer than $MIN_HS: too slow to judge"
fi
# the samples after the warm-up (hs=0 is before any, the first one warms up)
awk -v max=$GROWTH_MAX -v me=$me '
    /^sample hs=/ {
        split($2, h, "="); split($3, r, "=")
        if (h[2] == 0) next
        n++
        if (n == 1) { first = r[2]; firsths = h[2] }
        last = r[2]; lasths = h[2]
    }
    END {
        if (n < 3) { printf "%s: FAIL: only %d samples\n", me, n; exit 1 }
        g = last - first
        printf "%s: RSS from %d KiB (after %d handshakes) to %d KiB (after %d): %+d KiB, %.1f bytes per handshake\n", me, first, firsths, last, lasths, g, g * 1024 / (lasths - firsths)
        if (g > max) { printf "%s: FAIL: RSS grew by %d KiB, more than %d\n", me, g, max; exit 1 }
    }' "$tmp/gen.out" || bad=1
hasnt "$tmp/srv.log" '127\.0\.0\.1:[0-9]+: ' "no connection failure logged"
stop_server "$srv_pid" "$tmp/srv.log"
[ $bad = 0 ] && echo "$me: ok"
exit $bad
