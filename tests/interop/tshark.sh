#!/bin/sh
# tshark.sh <mica>: Wireshark's tshark decrypts a captured mica session with mica's key log.
#
#   - mica server --www --keylog KEYS serves on 127.0.0.1 (the test certificate of
#     tests/vectors/certs); tshark captures that port on the loopback interface
#   - mica client --keylog CKEYS sends "GET /secret-path HTTP/1.1" and gets the page
#   - the capture does not hold /secret-path in clear, and tshark without a key log sees
#     TLS application data but no HTTP request
#   - tshark with the server's key log, and again with the client's, shows the HTTP
#     request (/secret-path) and the response (200) inside the TLS session
#
# Port 46000 + ($$ % 900), moved up by 7 when in use. Exit 0 pass, 1 fail, 77 skip (no
# tshark, or no permission to capture on lo). Every process is stopped on exit; each step
# runs under timeout. KEEP=1 keeps the temporary directory (capture, key logs, logs).
set -u

if [ $# -ne 1 ]; then
    echo "usage: tshark.sh <path-to-mica-binary>" >&2
    exit 2
fi
mica=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
certs="$top/tests/vectors/certs"
unset SSLKEYLOGFILE

command -v tshark >/dev/null 2>&1 || {
    echo "tshark: SKIP: tshark is not installed (Debian package tshark)"
    exit 77
}
command -v timeout >/dev/null 2>&1 || {
    echo "tshark: SKIP: timeout (coreutils) is needed"
    exit 77
}

me=tshark
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
make_tmp
to_srv="timeout --foreground 60"

# ---- mica server --www with a key log ----
port=$((46000 + $$ % 900))
if ! spawn_server "$tmp/server.log" 'listening on' "$mica" server \
    --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
    --accept 127.0.0.1:@PORT@ --www --keylog "$tmp/keys"; then
    echo "tshark: FAIL: cannot start mica server:"
    cat "$tmp/server.log"
    exit 1
fi
server=$srv_pid
port=$srv_port # the port to capture
grep -q "^mica server: writing TLS secrets to $tmp/keys: anyone who reads it can decrypt" \
    "$tmp/server.log" || fail "mica server does not warn about the key log: $(cat "$tmp/server.log")"

# ---- capture the port on the loopback interface ----
# tshark says "Capturing on 'Loopback: lo'" before dumpcap has opened the interface (and
# also when it then fails); the capture file's header is written once the interface is
# open and the filter set. So wait for both, then check that the capture still runs.
cannot_capture() {
    why=$(grep -iE 'capture|not permitted|no such device|dumpcap' "$tmp/capture.log" |
        grep -v '^Capturing on' | head -2 | tr '\n' ' ')
    echo "tshark: SKIP: cannot capture on lo (dumpcap needs root or CAP_NET_RAW): ${why:-$1}"
    exit 77
}
timeout 30 tshark -i lo -f "tcp port $port" -w "$tmp/cap.pcapng" >"$tmp/capture.log" 2>&1 &
capture=$!
pids="$pids $capture"
i=0
while [ $i -lt 100 ]; do
    grep -qs '^Capturing on' "$tmp/capture.log" && [ -s "$tmp/cap.pcapng" ] && break
    kill -0 "$capture" 2>/dev/null || break
    sleep 0.1
    i=$((i + 1))
done
sleep 0.3
kill -0 "$capture" 2>/dev/null || cannot_capture "tshark exited"
[ -s "$tmp/cap.pcapng" ] || cannot_capture "no capture file after 10 s"
grep -qiE 'permission to capture|not permitted' "$tmp/capture.log" && cannot_capture ""

# ---- the session ----
printf 'GET /secret-path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
    timeout 10 "$mica" client --cafile "$certs/ca.pem" --servername localhost \
        --keylog "$tmp/ckeys" "127.0.0.1:$port" >"$tmp/client.out" 2>"$tmp/client.err"
st=$?
[ $st -eq 0 ] || fail "mica client exited $st: $(cat "$tmp/client.err")"
grep -q '^HTTP/1.1 200 OK' "$tmp/client.out" || fail "no 200 answer: $(head -3 "$tmp/client.out")"
grep -q 'GET /secret-path' "$tmp/client.out" || fail "the page does not show the request"
grep -q "^mica: writing TLS secrets to $tmp/ckeys: anyone who reads it can decrypt" \
    "$tmp/client.err" || fail "mica client does not warn about the key log: $(cat "$tmp/client.err")"

sleep 0.5 # the FINs
kill -INT "$capture" 2>/dev/null
wait "$capture" 2>/dev/null
rm_pid "$capture"
kill "$server" 2>/dev/null
wait "$server" 2>/dev/null
rm_pid "$server"

for f in keys ckeys; do
    [ -s "$tmp/$f" ] || fail "the key log $f is empty"
    mode=$(stat -c %a "$tmp/$f" 2>/dev/null)
    [ "$mode" = 600 ] || fail "the key log $f has mode $mode, want 600"
done
[ -s "$tmp/cap.pcapng" ] || {
    fail "the capture is empty: $(cat "$tmp/capture.log")"
    exit 1
}

# ---- read the capture: without a key log, then with each ----
# -d: the port is not 443, so say that it carries TLS; HTTP inside is found by heuristics.
tshark_read() { # OUT KEYLOG FILTER FIELDS... (sh has no local variables: no $f here)
    out=$1 keys=$2 filter=$3
    shift 3
    fields=""
    for field in "$@"; do
        fields="$fields -e $field"
    done
    # shellcheck disable=SC2086
    timeout 20 tshark -n -r "$tmp/cap.pcapng" -d "tcp.port==$port,tls" \
        -o "tls.keylog_file:$keys" -Y "$filter" -T fields $fields >"$tmp/$out" 2>"$tmp/$out.err"
}

if grep -aq 'secret-path' "$tmp/cap.pcapng"; then
    fail "the capture holds /secret-path in clear: the session was not encrypted"
fi

tshark_read plain "" "tls.app_data" tls.app_data
[ -s "$tmp/plain" ] || fail "without a key log tshark sees no TLS application data: $(cat "$tmp/plain.err")"
tshark_read plain_http "" "http" http.request.uri
if grep -q 'secret-path' "$tmp/plain_http"; then
    fail "tshark shows the request without a key log"
fi

for f in keys ckeys; do
    tshark_read "$f.req" "$tmp/$f" "http.request" http.request.method http.request.uri
    tshark_read "$f.resp" "$tmp/$f" "http.response" http.response.code
    if grep -q '^GET	/secret-path$' "$tmp/$f.req"; then
        echo "tshark: with the $( [ $f = keys ] && echo server || echo client)'s key log:" \
            "$(tr '\t' ' ' <"$tmp/$f.req"), response $(head -1 "$tmp/$f.resp")"
    else
        fail "tshark with $f does not show GET /secret-path: '$(cat "$tmp/$f.req")' $(cat "$tmp/$f.req.err")"
    fi
    grep -q '^200$' "$tmp/$f.resp" || fail "tshark with $f does not show the 200 response"
done

if [ $bad -ne 0 ]; then
    exit 1
fi
echo "tshark: ok ($(tshark --version 2>/dev/null | head -1))"
exit 0
