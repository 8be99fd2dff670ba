#!/bin/sh
# slow.sh <mica> <loadgen> <sanitized 0|1>: slow and silent clients cannot hold mica
# server, and a normal client is served meanwhile.
#
#   - --handshake-timeout 1: 200 TCP connections that send nothing, then 200 that dribble
#     a ClientHello one byte every 200 ms, are each closed 1 to 3 s after they opened,
#     with one log line each ("the handshake did not complete within 1 s"); a normal
#     client connecting 0.3 s after them is served (loadgen echo)
#   - --max-conns 50: 100 silent connections fill every slot and the listen queue; a
#     normal client behind them is still served, once the timeout frees the slots
#   - --idle-timeout 2: 100 established connections that say nothing get the server's
#     close_notify 2 to 4 s after their handshake (result=idle in the access log, nothing
#     on standard error), while one that echoes a byte every 300 ms stays open
#
# mica server listens on 127.0.0.1 only, on ports 63200 + 4 * ($$ % 150) and up, and is
# stopped on exit.
unset SSLKEYLOGFILE
set -u

if [ $# -ne 3 ]; then
    echo "usage: slow.sh <mica> <loadgen> <sanitized 0|1>" >&2
    exit 2
fi
mica=$1
loadgen=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
certs="$top/tests/vectors/certs"
port=$((63200 + 4 * ($$ % 150)))
me=load_slow
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
make_tmp
use_timeout 60 80

# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"

# range FILE: lo and hi, the seconds of "after X to Y s" in FILE's "closed" line
range() {
    lo=$(sed -n 's/.* \([0-9.]*\) to \([0-9.]*\) s.*/\1/p' "$1" | head -1)
    hi=$(sed -n 's/.* \([0-9.]*\) to \([0-9.]*\) s.*/\2/p' "$1" | head -1)
}

# within WHAT LO HI: fails unless $lo >= LO and $hi <= HI (seconds, decimals)
within() {
    if [ -z "$lo" ] || ! awk -v a="$lo" -v b="$hi" -v l="$2" -v h="$3" \
        'BEGIN { exit !(a >= l && b <= h) }'; then
        fail "$1: closed after ${lo:-?} to ${hi:-?} s, not within $2 to $3 s"
    fi
}

# 1. the handshake timeout
start hs --echo --handshake-timeout 1
run silent slow -n 200 --kind silent --wait 8
has "$out" '^normal client ok' "a normal client beside 200 silent ones"
range "$out"
within "silent connections" 0.9 3
run dribble slow -n 200 --kind dribble --interval-ms 200 --wait 8
has "$out" '^normal client ok' "a normal client beside 200 dribbling ones"
range "$out"
within "dribbling connections" 0.9 3
n=$(grep -c 'the handshake did not complete within 1 s' "$log")
[ "$n" = 400 ] || fail "$n lines about the handshake timeout, not one per connection (400)"
stop_server "$srv_pid" "$log"

# 2. every slot taken: the timeout frees them
start full --echo --handshake-timeout 1 --max-conns 50
run full slow -n 100 --kind silent --wait 10
has "$out" '^normal client ok' "a normal client behind 100 silent ones (50 slots)"
stop_server "$srv_pid" "$log"

# 3. the idle timeout
start idle --echo --idle-timeout 2 --access-log "$tmp/idle.access"
run idle idle -n 100 --wait 8
range "$out"
within "idle connections" 1.9 4
has "$out" '^busy connection: [0-9]+ echoes, still open' "the busy connection stays open"
stop_server "$srv_pid" "$log"
n=$(grep -c 'result=idle error="nothing sent or taken for 2 s: closed"' "$tmp/idle.access")
[ "$n" = 100 ] || fail "$n access log lines result=idle, not 100:$(excerpt "$tmp/idle.access")"
hasnt "$log" '127\.0\.0\.1:[0-9]+: ' "nothing on standard error about idle connections"

[ $bad = 0 ] && echo "$me: ok"
exit $bad
