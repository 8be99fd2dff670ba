#!/bin/sh
# The demo: a mica server and a mica client on localhost, then the proof underneath
# (RFC 8448 replayed). Runs from a release build; the narrated trace of every handshake
# step arrives with the tools issue.
set -eu
b=${1:-build/release}
top=$(cd "$(dirname "$0")/.." && pwd)
mica="$b/mica"
certs="$top/tests/vectors/certs"
port=$((44000 + $$ % 1000))
log=$(mktemp)
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT INT TERM

echo "== mica $("$mica" version | cut -d' ' -f2): TLS 1.3 you can see into"
echo
echo "== a server on 127.0.0.1:$port with the test ECDSA P-256 certificate"
echo "   mica server --cert ecdsa-p256.chain.pem --key ecdsa-p256.key --accept 127.0.0.1:$port --www"
"$mica" server --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
    --accept "127.0.0.1:$port" --www --alpn http/1.1 2>"$log" &
server=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do
    grep -q listening "$log" 2>/dev/null && break
    sleep 0.2
done
echo
echo "== a client asks it for a page (what was negotiated goes to stderr)"
echo "   printf 'GET / ...' | mica client --cafile ca.pem --alpn http/1.1 localhost:$port"
printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n' |
    "$mica" client --cafile "$certs/ca.pem" --alpn http/1.1 "localhost:$port" 2>&1 |
    sed -n '1,9p;/<table>/,/<\/table>/p'
echo
echo "== the same server, asked for a name its certificate does not cover"
"$mica" client --cafile "$certs/ca.pem" --servername www.example.org "127.0.0.1:$port" \
    </dev/null 2>&1 || true
echo
echo "== the algorithms this build speaks (mica list)"
"$mica" list | sed "/^signature schemes:/q"
echo
echo "== underneath: RFC 8448 replayed byte for byte through the key schedule and records"
"$b/tests/test_rfc8448"
