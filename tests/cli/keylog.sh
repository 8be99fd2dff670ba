#!/bin/sh
# keylog.sh <mica>: the key log of mica client and mica server (--keylog FILE and the
# SSLKEYLOGFILE environment variable). tests/interop/tshark.sh proves that Wireshark
# decrypts with it; this test needs no tshark:
#
#   - --help of both commands documents --keylog and SSLKEYLOGFILE
#   - each side writes the 5 NSS key log lines of a TLS 1.3 connection
#     (CLIENT_/SERVER_HANDSHAKE_TRAFFIC_SECRET, CLIENT_/SERVER_TRAFFIC_SECRET_0,
#     EXPORTER_SECRET <64 hex client random> <secret>), each ending in '\n', and the
#     client's lines equal the server's (same client random, same secrets), also after a
#     HelloRetryRequest
#   - the file is created with mode 0600, opened in append mode (earlier content stays),
#     and both commands warn on standard error, even with --quiet
#   - SSLKEYLOGFILE is used without --keylog, --keylog wins over it, an empty one is off
#   - 16 clients and a server appending to one file at once: every line is whole
#   - --keylog FILE that cannot be opened: exit 1; --keylog "": exit 2; an SSLKEYLOGFILE
#     that cannot be opened: a warning, and the connection goes ahead
#
# Ports 47000 + 3 * ($$ % 900) and the next two, moved up by 7 when in use. Servers listen on
# 127.0.0.1 only and are stopped on exit. Exit 0 pass, 1 fail.
set -u

if [ $# -ne 1 ]; then
    echo "usage: keylog.sh <path-to-mica-binary>" >&2
    exit 2
fi
mica=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
certs="$top/tests/vectors/certs"
unset SSLKEYLOGFILE
port=$((47000 + 3 * ($$ % 900)))

me=keylog
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
make_tmp
use_timeout 20 20

line_re='^(CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET) [0-9a-f]{64} ([0-9a-f]{64}|[0-9a-f]{96})$'

# start_server NAME ARGS...: mica server --echo ARGS on 127.0.0.1; sets srv_port.
start_server() {
    name=$1
    shift
    spawn_server "$tmp/$name.log" 'listening on' "$mica" server \
        --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
        --accept 127.0.0.1:@PORT@ --echo "$@" || {
        echo "keylog: cannot start mica server $*:" >&2
        cat "$tmp/$name.log" >&2
        exit 1
    }
}

# client NAME ARGS...: echo a line through mica client ARGS; $tmp/NAME.{out,err,rc}
client() {
    name=$1
    shift
    printf 'k\n' | $to "$mica" client --cafile "$certs/ca.pem" --servername localhost "$@" \
        >"$tmp/$name.out" 2>"$tmp/$name.err"
    echo $? >"$tmp/$name.rc"
}

rc_is() { # NAME WANT
    got=$(cat "$tmp/$1.rc")
    [ "$got" = "$2" ] || fail "$1: exit status $got, want $2; stderr: $(cat "$tmp/$1.err")"
}

# well_formed FILE LINES: FILE holds LINES lines, each a whole key log line
well_formed() {
    n=$(wc -l <"$1" | tr -d ' ')
    [ "$n" = "$2" ] || fail "$(basename "$1"): $n lines, want $2"
    [ -z "$(tail -c 1 "$1")" ] || fail "$(basename "$1"): the last line has no newline"
    if grep -Evq "$line_re" "$1"; then
        fail "$(basename "$1"): malformed lines: $(grep -Ev "$line_re" "$1" | head -3)"
    fi
}

warned() { # LOGFILE PREFIX KEYFILE
    grep -q "^$2: writing TLS secrets to $3: anyone who reads it can decrypt these connections\$" \
        "$1" || fail "no key log warning in $(basename "$1"): $(cat "$1")"
}

echo "keylog: --help documents --keylog and SSLKEYLOGFILE"
for cmd in client server; do
    "$mica" "$cmd" --help >"$tmp/help.out" 2>&1
    grep -q -- '--keylog FILE' "$tmp/help.out" || fail "mica $cmd --help: no --keylog"
    grep -q SSLKEYLOGFILE "$tmp/help.out" || fail "mica $cmd --help: no SSLKEYLOGFILE"
done

echo "keylog: --keylog on both sides: 5 lines each, the same secrets, mode 0600, a warning"
start_server srv --keylog "$tmp/server.keys"
target=127.0.0.1:$srv_port
warned "$tmp/srv.log" "mica server" "$tmp/server.keys"
client one --keylog "$tmp/client.keys" "$target"
rc_is one 0
[ "$(cat "$tmp/one.out")" = k ] || fail "echo with --keylog: got '$(cat "$tmp/one.out")'"
warned "$tmp/one.err" mica "$tmp/client.keys"
sleep 0.2
well_formed "$tmp/client.keys" 5
well_formed "$tmp/server.keys" 5
[ "$(cut -d' ' -f1 "$tmp/client.keys" | sort -u | wc -l | tr -d ' ')" = 5 ] ||
    fail "the client's 5 lines do not name 5 different secrets"
sort "$tmp/client.keys" >"$tmp/c.sorted"
sort "$tmp/server.keys" >"$tmp/s.sorted"
cmp -s "$tmp/c.sorted" "$tmp/s.sorted" ||
    fail "the client's and the server's key logs differ: $(diff "$tmp/c.sorted" "$tmp/s.sorted" | head -4)"
for f in client.keys server.keys; do
    mode=$(stat -c %a "$tmp/$f")
    [ "$mode" = 600 ] || fail "$f has mode $mode, want 600"
done

echo "keylog: after a HelloRetryRequest the two sides still log the same lines"
start_server hrr --groups secp256r1 --keylog "$tmp/hrr-server.keys"
client hrr --keylog "$tmp/hrr-client.keys" --groups x25519,secp256r1 "127.0.0.1:$srv_port"
rc_is hrr 0
grep -q '^hrr: yes' "$tmp/hrr.err" || fail "no HelloRetryRequest: $(cat "$tmp/hrr.err")"
sleep 0.2
well_formed "$tmp/hrr-client.keys" 5
well_formed "$tmp/hrr-server.keys" 5
sort "$tmp/hrr-client.keys" >"$tmp/c.sorted"
sort "$tmp/hrr-server.keys" >"$tmp/s.sorted"
cmp -s "$tmp/c.sorted" "$tmp/s.sorted" || fail "after HRR the client's and the server's key logs differ"

echo "keylog: append mode: a second connection adds 5 lines; earlier content stays"
printf '# kept\n' >"$tmp/append.keys"
client two --keylog "$tmp/append.keys" "$target"
client three --keylog "$tmp/append.keys" --quiet "$target"
rc_is two 0
rc_is three 0
warned "$tmp/three.err" mica "$tmp/append.keys" # --quiet does not hide it
[ "$(head -1 "$tmp/append.keys")" = "# kept" ] || fail "append: the first line was overwritten"
sed 1d "$tmp/append.keys" >"$tmp/append.rest"
well_formed "$tmp/append.rest" 10

echo "keylog: SSLKEYLOGFILE without --keylog; --keylog wins; empty is off"
SSLKEYLOGFILE="$tmp/env.keys" client env "$target"
rc_is env 0
warned "$tmp/env.err" mica "$tmp/env.keys"
well_formed "$tmp/env.keys" 5
SSLKEYLOGFILE="$tmp/env.keys" client both --keylog "$tmp/flag.keys" "$target"
rc_is both 0
well_formed "$tmp/flag.keys" 5
well_formed "$tmp/env.keys" 5
SSLKEYLOGFILE="" client empty --quiet "$target"
rc_is empty 0
[ -s "$tmp/empty.err" ] && fail "SSLKEYLOGFILE='': stderr is not empty: $(cat "$tmp/empty.err")"
client none --quiet "$target"
[ -s "$tmp/none.err" ] && fail "without a key log: stderr is not empty: $(cat "$tmp/none.err")"

echo "keylog: 16 clients and a server append to one file at once; every line is whole"
start_server shared --keylog "$tmp/shared.keys"
shared=127.0.0.1:$srv_port
i=0
par=""
while [ $i -lt 16 ]; do
    (SSLKEYLOGFILE="$tmp/shared.keys" client "par$i" --quiet "$shared") &
    par="$par $!"
    i=$((i + 1))
done
for p in $par; do
    wait "$p"
done
i=0
while [ $i -lt 16 ]; do
    rc_is "par$i" 0
    i=$((i + 1))
done
sleep 0.2
well_formed "$tmp/shared.keys" 160
dups=$(sort "$tmp/shared.keys" | uniq -c | awk '$1 != 2' | wc -l | tr -d ' ')
[ "$dups" = 0 ] || fail "shared key log: $dups lines not written once by each side"

echo "keylog: a key log that cannot be opened"
client noflag --keylog "$tmp/no/such/dir/keys" "$target"
rc_is noflag 1
grep -q "^mica: cannot open --keylog $tmp/no/such/dir/keys: " "$tmp/noflag.err" ||
    fail "--keylog in a missing directory: $(cat "$tmp/noflag.err")"
client emptyflag --keylog "" "$target"
rc_is emptyflag 2
SSLKEYLOGFILE="$tmp/no/such/dir/keys" client noenv "$target"
rc_is noenv 0
grep -q "^mica: warning: cannot open SSLKEYLOGFILE $tmp/no/such/dir/keys: " "$tmp/noenv.err" ||
    fail "an SSLKEYLOGFILE in a missing directory: no warning: $(cat "$tmp/noenv.err")"
$to "$mica" server --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
    --accept "127.0.0.1:$port" --keylog "$tmp/no/such/dir/keys" 2>"$tmp/srvno.log"
st=$?
[ $st -eq 1 ] || fail "mica server --keylog in a missing directory: exit $st, want 1"
grep -q "^mica server: cannot open --keylog " "$tmp/srvno.log" ||
    fail "mica server --keylog in a missing directory: $(cat "$tmp/srvno.log")"

if [ $bad -ne 0 ]; then
    exit 1
fi
echo "keylog: ok"
exit 0
