#!/bin/sh
# The demo: a throw-away CA and certificate, mica server --www on 127.0.0.1, and a mica
# client that narrates its handshake, writes it as a diagram, and fetches the page; then
# resumption with the server's tickets, a refused name, and the proof underneath (RFC 8448
# replayed).
set -eu
b=${1:-build/release}
top=$(cd "$(dirname "$0")/.." && pwd)
mica="$(cd "$(dirname "$b/mica")" && pwd)/mica"
work=$(mktemp -d)
out="$top/$b/demo"
mkdir -p "$out"
port=$((44000 + $$ % 1000))
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT INT TERM

echo "== mica $("$mica" version | cut -d' ' -f2): TLS 1.3 you can see into"
echo
echo "== a throw-away CA and an ECDSA P-256 certificate for localhost (openssl)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj "/CN=mica demo CA" -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$work/leaf.key" -out "$work/leaf.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$work/ext"
openssl x509 -req -in "$work/leaf.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
    -CAcreateserial -days 1 -extfile "$work/ext" -out "$work/leaf.pem" 2>/dev/null
cat "$work/leaf.pem" "$work/ca.pem" >"$work/chain.pem"

echo "== mica server --www on 127.0.0.1:$port"
"$mica" server --cert "$work/chain.pem" --key "$work/leaf.key" \
    --accept "127.0.0.1:$port" --www --alpn http/1.1 --early-data 16384 \
    --access-log "$work/access.log" 2>"$work/server.log" &
server=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do
    grep -q listening "$work/server.log" 2>/dev/null && break
    sleep 0.2
done
echo
echo "== mica client --trace: the handshake, step by step"
printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n' |
    "$mica" client --cafile "$work/ca.pem" --alpn http/1.1 --trace \
        --diagram "$out/handshake.svg" "localhost:$port" 2>&1 >"$work/page.html" |
    grep -v '^   derived\|^   records'
echo
echo "== the page it got (the server reports what it negotiated)"
sed -n '/<table>/,/<\/table>/p' "$work/page.html"
echo
echo "== resumption and 0-RTT: a full handshake, then three that resume with the server's"
echo "   ticket and send their GET as early data, answered with the server's first flight"
printf 'GET /early HTTP/1.1\r\nHost: localhost\r\n\r\n' >"$work/req.txt"
"$mica" client --cafile "$work/ca.pem" --alpn http/1.1 --reconnect 3 \
    --early-data "$work/req.txt" --quiet "localhost:$port" 2>&1 || true
echo
echo "== the server's access log for them"
sleep 0.3
tail -n 4 "$work/access.log" | sed 's/^time=[^ ]* //; s/ sig=[^ ]*//; s/ sni=[^ ]*//'
echo
echo "== the same server, asked for a name its certificate does not cover"
"$mica" client --cafile "$work/ca.pem" --servername www.example.org "127.0.0.1:$port" \
    </dev/null 2>&1 || true
echo
echo "== the handshake as a diagram: $out/handshake.svg (open it in a browser)"
echo
echo "== underneath: RFC 8448 replayed byte for byte through the key schedule and records"
"$b/tests/test_rfc8448"
