#!/bin/sh
# session.sh <mica>: mica client's --sess-out, --sess-in and --reconnect against mica server.
#
#   - --reconnect 3: the first connection is a full handshake, the next three resume
#     (one line each: resumed, round trips, handshake time), and with --no-tickets on
#     the server none does
#   - --sess-out writes a 0600 session file; --sess-in with it resumes (--brief says
#     "resumed"; the server's access log says resumed=yes)
#   - two servers given the same --ticket-key-file accept each other's tickets, a third
#     does not; a short key file and a too-short --ticket-rotate are refused
#   - a file that is not a session, and a session file damaged in one byte, are refused
#     with a clear message and exit 1; a session for another name is not offered
#
# mica server listens on 127.0.0.1 only, on ports 49000 + 2 * ($$ % 400) and up, moved
# up by 7 when in use, and is stopped on exit. Exits 1 on any failure.
unset SSLKEYLOGFILE
set -u

if [ $# -ne 1 ]; then
    echo "usage: session.sh <path-to-mica-binary>" >&2
    exit 2
fi
mica=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
certs="$top/tests/vectors/certs"
port=$((49000 + 2 * ($$ % 400)))
me=session
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
make_tmp
use_timeout 30

# start_server NAME ARGS...: mica server on 127.0.0.1:$port; sets srv_port
start_server() {
    name=$1
    shift
    spawn_server "$tmp/$name.log" 'listening on' "$mica" server --accept 127.0.0.1:@PORT@ \
        --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
        --access-log "$tmp/$name.access" "$@" || {
        echo "session: cannot start mica server $*: $(cat "$tmp/$name.log")"
        exit 1
    }
}

client() {
    $to "$mica" client --cafile "$certs/ca.pem" --servername localhost "$@"
}

start_server tickets
tp=$srv_port
start_server none --no-tickets
np=$srv_port

# --reconnect: one full handshake, then every connection resumes
client --reconnect 3 -q "127.0.0.1:$tp" 2>"$tmp/rc.err"
rc=$?
[ $rc -eq 0 ] || fail "--reconnect 3 exited $rc: $(cat "$tmp/rc.err")"
grep -q '^connection 1: full handshake, 1 round trip, handshake [0-9.]* ms' "$tmp/rc.err" ||
    fail "--reconnect: connection 1 is not a full handshake: $(cat "$tmp/rc.err")"
for n in 2 3 4; do
    grep -q "^connection $n: resumed, 1 round trip" "$tmp/rc.err" ||
        fail "--reconnect: connection $n did not resume: $(cat "$tmp/rc.err")"
done
grep -q '^3 of 4 connections resumed$' "$tmp/rc.err" || fail "--reconnect: no summary line"

# --no-tickets: nothing to resume with
client --reconnect 2 -q "127.0.0.1:$np" 2>"$tmp/rn.err"
grep -q '^connection 2: full handshake' "$tmp/rn.err" ||
    fail "--no-tickets: connection 2 resumed: $(cat "$tmp/rn.err")"
grep -q 'the server sent no session ticket' "$tmp/rn.err" ||
    fail "--no-tickets: the missing ticket is not reported"
grep -q '^0 of 3 connections resumed$' "$tmp/rn.err" || fail "--no-tickets: summary wrong"

# --sess-out, then --sess-in
client --json --sess-out "$tmp/s.sess" "127.0.0.1:$tp" >/dev/null 2>"$tmp/so.err" ||
    fail "--sess-out: $(cat "$tmp/so.err")"
if [ ! -s "$tmp/s.sess" ]; then
    fail "--sess-out wrote no file"
else
    mode=$(stat -c %a "$tmp/s.sess")
    [ "$mode" = 600 ] || fail "--sess-out file mode $mode, want 600"
    head -c 15 "$tmp/s.sess" | grep -q '^mica-session 1$' || fail "--sess-out: no header line"
fi
client --brief --sess-in "$tmp/s.sess" "127.0.0.1:$tp" </dev/null >/dev/null 2>"$tmp/si.err"
rc=$?
[ $rc -eq 0 ] || fail "--sess-in exited $rc: $(cat "$tmp/si.err")"
grep -q ' resumed verified$' "$tmp/si.err" || fail "--sess-in did not resume: $(cat "$tmp/si.err")"
client --sess-in "$tmp/s.sess" "127.0.0.1:$tp" </dev/null >/dev/null 2>"$tmp/si2.err"
grep -q '^resumed: yes' "$tmp/si2.err" || fail "--sess-in: the block does not say resumed"
grep -q '^signature scheme: none (a resumed session sends no certificate)' "$tmp/si2.err" ||
    fail "--sess-in: the block does not explain the missing signature"

# the server's access log says which connections resumed
sleep 0.3
grep -q 'resumed=yes' "$tmp/tickets.access" || fail "access log: no resumed=yes"
grep -q 'resumed=no' "$tmp/tickets.access" || fail "access log: no resumed=no"
if grep -q 'resumed=yes' "$tmp/none.access"; then
    fail "--no-tickets: the access log says resumed=yes"
fi

# another name: the session is not offered (and the full handshake checks the name)
client --brief --servername 127.0.0.1 --insecure --sess-in "$tmp/s.sess" "127.0.0.1:$tp" \
    </dev/null >/dev/null 2>"$tmp/sn.err"
if grep -q ' resumed ' "$tmp/sn.err"; then
    fail "a session for localhost was offered to 127.0.0.1"
fi

# refused files: not a session; damaged in one byte; missing
printf 'garbage' >"$tmp/g.sess"
client --sess-in "$tmp/g.sess" "127.0.0.1:$tp" </dev/null >/dev/null 2>"$tmp/g.err"
rc=$?
[ $rc -eq 1 ] || fail "a garbage session file: exit $rc, want 1"
grep -q 'not a mica session file' "$tmp/g.err" || fail "garbage: message: $(cat "$tmp/g.err")"
if [ -s "$tmp/s.sess" ]; then
    cp "$tmp/s.sess" "$tmp/d.sess"
    printf '\377' | dd of="$tmp/d.sess" bs=1 seek=60 conv=notrunc 2>/dev/null
    client --sess-in "$tmp/d.sess" "127.0.0.1:$tp" </dev/null >/dev/null 2>"$tmp/d.err"
    rc=$?
    [ $rc -eq 1 ] || fail "a damaged session file: exit $rc, want 1"
    grep -q 'the session is damaged or was saved by another version of mica' "$tmp/d.err" ||
        fail "damaged: message: $(cat "$tmp/d.err")"
fi
# a header and more than any session holds: refused, never read past the buffer
{ printf 'mica-session 1\n'; head -c 4130 /dev/zero; } >"$tmp/big.sess"
client --sess-in "$tmp/big.sess" "127.0.0.1:$tp" </dev/null >/dev/null 2>"$tmp/big.err"
rc=$?
[ $rc -eq 1 ] || fail "an oversized session file: exit $rc, want 1: $(cat "$tmp/big.err")"
grep -q 'not a mica session file' "$tmp/big.err" || fail "oversized: message: $(cat "$tmp/big.err")"
client --sess-in "$tmp/missing.sess" "127.0.0.1:$tp" </dev/null >/dev/null 2>"$tmp/m.err"
[ $? -eq 1 ] || fail "a missing session file does not exit 1"
grep -q 'No such file' "$tmp/m.err" || fail "missing: message: $(cat "$tmp/m.err")"

# --ticket-key-file: two servers with the same file accept each other's tickets, a third
# (its own random secret) does not; bad files and periods are refused
head -c 48 /dev/urandom >"$tmp/tk.key"
chmod 600 "$tmp/tk.key"
start_server fleet1 --ticket-key-file "$tmp/tk.key" --ticket-rotate 120
f1=$srv_port
start_server fleet2 --ticket-key-file "$tmp/tk.key" --ticket-rotate 120
f2=$srv_port
client --json --sess-out "$tmp/f.sess" "127.0.0.1:$f1" >/dev/null 2>"$tmp/f.err" ||
    fail "fleet: --sess-out: $(cat "$tmp/f.err")"
client --brief --sess-in "$tmp/f.sess" "127.0.0.1:$f2" </dev/null >/dev/null 2>"$tmp/f2.err"
grep -q ' resumed verified$' "$tmp/f2.err" ||
    fail "a server with the same --ticket-key-file did not resume: $(cat "$tmp/f2.err")"
client --brief --sess-in "$tmp/f.sess" "127.0.0.1:$tp" </dev/null >/dev/null 2>"$tmp/f3.err"
if grep -q ' resumed ' "$tmp/f3.err"; then
    fail "a server with its own ticket secret resumed another's session"
fi
grep -q 'warning' "$tmp/fleet1.log" && fail "a 0600 key file drew a warning"
head -c 16 /dev/urandom >"$tmp/short.key"
"$mica" server --accept "127.0.0.1:$port" --cert "$certs/ecdsa-p256.chain.pem" \
    --key "$certs/ecdsa-p256.key" --ticket-key-file "$tmp/short.key" 2>"$tmp/short.err" &
sp=$!
pids="$pids $sp"
wait $sp
rc=$?
[ $rc -ne 0 ] || fail "a 16-byte --ticket-key-file was accepted"
grep -q 'too short' "$tmp/short.err" || fail "short key file: message: $(cat "$tmp/short.err")"
"$mica" server --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
    --ticket-rotate 10 2>"$tmp/rot.err"
[ $? -ne 0 ] || fail "--ticket-rotate 10 was accepted"
grep -q 'give seconds from 60 to 604800' "$tmp/rot.err" || fail "--ticket-rotate 10: message"

# usage
client --reconnect 0 "127.0.0.1:$tp" 2>/dev/null
[ $? -eq 2 ] || fail "--reconnect 0 is not a usage error"
client --reconnect 2 --json "127.0.0.1:$tp" 2>/dev/null
[ $? -eq 2 ] || fail "--reconnect with --json is not a usage error"

if [ $bad -eq 0 ]; then
    echo "session: ok"
fi
exit $bad
