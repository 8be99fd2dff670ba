#!/bin/sh
# faults.sh <mica> <loadgen> <sanitized 0|1>: peers that misbehave at the socket level,
# and a full disk. In each case mica server logs one clear line per faulty connection
# (counted: no flood), keeps serving, and a normal client succeeds right after.
#
#   - a peer that closes after half a ClientHello, or after a whole one without reading
#     the answer (3 each): 3 lines each, "closed the connection during the handshake" /
#     "reset the connection"
#   - half-closed sockets: a request then shutdown(SHUT_WR) without close_notify: the
#     echo (3 times) and a --root answer (2 times) still come
#   - resets: a large echo not read, then SO_LINGER 0 close (2 times): 2 lines
#   - short writes: a client with a 4 KiB receive buffer reading slowly 1 MiB of echo,
#     and a 2 MiB file from --root (byte for byte), while a normal client is served
#   - EINTR: 100 SIGHUPs (each a reload) at 10 ms intervals while 400 handshakes run;
#     every handshake succeeds and no connection fails
#   - --access-log /dev/full: 20 clients served, and exactly one line about the log
#
# mica server listens on 127.0.0.1 only, on ports 63800 + 4 * ($$ % 150) and up, and is
# stopped on exit.
unset SSLKEYLOGFILE
set -u

if [ $# -ne 3 ]; then
    echo "usage: faults.sh <mica> <loadgen> <sanitized 0|1>" >&2
    exit 2
fi
mica=$1
loadgen=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
certs="$top/tests/vectors/certs"
port=$((63800 + 4 * ($$ % 150)))
me=load_faults
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
make_tmp
use_timeout 60 90

# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"

# count ERE N WHAT: the server log has exactly N lines matching ERE
count() {
    c=$(grep -Ec -- "$1" "$log")
    [ "$c" = "$2" ] || fail "$3: $c log lines /$1/, not $2:$(excerpt "$log")"
}

# normal WHAT [ARGS]: a normal client is served now
normal() {
    what=$1
    shift
    run normal echo "$@"
    has "$out" '^normal client ok' "a normal client after $what"
}

peer='^mica server: 127\.0\.0\.1:[0-9]+: '

# 1. echo: vanishing peers, half-close, resets, a slow reader, a SIGHUP storm
start echo --echo
run partial fault --kind partial-ch -n 3
normal "3 half ClientHellos"
await "$log" "$peer"'the peer closed the connection during the handshake' 3
count "$peer"'the peer closed the connection during the handshake' 3 "half a ClientHello"
run after fault --kind after-ch -n 3
normal "3 unread ServerHellos"
await "$log" "$peer" 6
count "$peer" 6 "a whole ClientHello, then gone"
run half fault --kind halfclose -n 3
has "$out" '^3 half-closed connections answered' "half-closed echo"
await "$log" "$peer" 9
count "$peer"'the peer closed the TCP connection without sending close_notify' 3 \
    "half-closed without close_notify"
run reset fault --kind reset -n 2
normal "2 resets"
await "$log" "$peer" 11
count "$peer" 11 "2 resets: one line each"
# (a peer gone after a whole ClientHello is a reset too, or a close, as the timing goes)
c=$(grep -Ec "$peer"'the peer (reset the connection|closed the connection while mica was still sending)' "$log")
[ "$c" -ge 2 ] || fail "resets named as such: $c lines:$(excerpt "$log")"
# a slow reader of 1 MiB of echo, and a normal client meanwhile
$to "$loadgen" fault 127.0.0.1 "$srv_port" --cafile "$certs/ca.pem" --kind slowread \
    --bytes 1048576 >"$tmp/slowread.out" 2>&1 &
slow_pid=$!
pids="$pids $slow_pid"
sleep 0.2
normal "(during) a slow reader"
wait $slow_pid
st=$?
rm_pid $slow_pid
sed "s/^/$me: /" "$tmp/slowread.out"
[ $st = 0 ] || fail "the slow reader of the echo failed"
has "$tmp/slowread.out" '^slow reader got 1048576 bytes' "1 MiB echoed to a slow reader"
# EINTR: a storm of SIGHUPs while handshakes run
$to "$loadgen" handshakes 127.0.0.1 "$srv_port" --cafile "$certs/ca.pem" -n 400 -c 8 \
    --sample 0 >"$tmp/storm.out" 2>&1 &
gen_pid=$!
pids="$pids $gen_pid"
i=0
while [ $i -lt 100 ]; do
    kill -HUP "$srv_pid"
    sleep 0.01
    i=$((i + 1))
done
wait $gen_pid
st=$?
rm_pid $gen_pid
sed "s/^/$me: /" "$tmp/storm.out"
[ $st = 0 ] || fail "handshakes during a SIGHUP storm failed"
has "$tmp/storm.out" '^handshakes 400 in' "400 handshakes during 100 SIGHUPs"
has "$log" 'SIGHUP: reloaded' "the SIGHUPs reloaded"
count "$peer" 11 "no connection failed during the SIGHUP storm"
normal "a SIGHUP storm"
stop_server "$srv_pid" "$log"

# 2. --root: half-close and a slow reader of a 2 MiB file
mkdir "$tmp/root"
awk 'BEGIN { for (i = 0; i < 32768; i++) printf "%063d\n", i }' >"$tmp/root/big.txt"
start root --root "$tmp/root"
run halfroot fault --kind halfclose -n 2 --http /big.txt
has "$out" '^2 half-closed connections answered' "half-closed HTTP requests answered"
run slowroot fault --kind slowread --http /big.txt --out "$tmp/got.txt"
# the body: what follows the head's blank line
awk 'body { print; next } /^\r$/ { body = 1 }' "$tmp/got.txt" >"$tmp/body.txt"
cmp -s "$tmp/body.txt" "$tmp/root/big.txt" ||
    fail "the slow reader's 2 MiB file differs ($(wc -c <"$tmp/body.txt") bytes)"
normal "a slow reader of --root" --http /big.txt
# (each half-closed one is answered, and then logged when its socket's end is read before
# the server's own close: 0 to 2 lines, of that kind only)
c=$(grep -Ec "$peer" "$log")
[ "$c" -le 2 ] || fail "--root: $c lines for 2 half-closed connections:$(excerpt "$log")"
c2=$(grep -Ec "$peer"'the peer closed the TCP connection without sending close_notify' "$log")
[ "$c" = "$c2" ] || fail "--root: a line of another kind:$(excerpt "$log")"
stop_server "$srv_pid" "$log"

# 3. the access log on a full disk
start full --echo --access-log /dev/full
i=0
while [ $i -lt 20 ]; do
    "$loadgen" echo 127.0.0.1 "$srv_port" --cafile "$certs/ca.pem" >>"$tmp/full.out" 2>&1 ||
        fail "client $i with the access log on a full disk"
    i=$((i + 1))
done
c=$(grep -c '^normal client ok' "$tmp/full.out")
[ "$c" = 20 ] || fail "$c of 20 clients served with the access log on a full disk"
stop_server "$srv_pid" "$log"
count '^mica server: --access-log /dev/full: cannot write: No space left on device' 1 \
    "a full disk for the access log"
count 'access-log' 1 "a full disk for the access log: one line, not one per connection"

[ $bad = 0 ] && echo "$me: ok"
exit $bad
