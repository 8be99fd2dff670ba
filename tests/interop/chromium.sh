#!/bin/sh
# Headless Chromium (Debian's chromium) against `mica server --www`: the page must be
# served over TLS 1.3 with the post-quantum hybrid X25519MLKEM768, which Chromium offers
# by default, and mica server's own log must record that group.
# Usage: chromium.sh <path-to-mica>. Exit 0 pass, 1 fail, 77 without chromium.
set -u
mica=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
certs="$top/tests/vectors/certs"
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "chromium: not installed (skip)"; exit 77; }

me=chromium
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
make_tmp

port=$((45000 + $$ % 900))
spawn_server "$tmp/server.log" 'listening on' "$mica" server \
    --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
    --accept 127.0.0.1:@PORT@ --www --verbose || {
    echo "chromium: could not start mica server"
    exit 1
}
port=$srv_port

# The flags the machine needs (no sandbox as root, no background networking on a closed
# network); the test CA is not in Chromium's store, so certificate errors are ignored:
# this test is about the key exchange, the certificate tests are elsewhere.
timeout 90 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$tmp/profile" --ignore-certificate-errors \
    --dump-dom "https://localhost:$port/" >"$tmp/page.html" 2>"$tmp/chromium.log"
rc=$?
if ! grep -q '<th>group</th><td>X25519MLKEM768</td>' "$tmp/page.html"; then
    echo "chromium: the page does not report X25519MLKEM768 (chromium exit $rc):"
    sed -n '1,40p' "$tmp/page.html"
    tail -5 "$tmp/chromium.log"
    bad=1
fi
if ! grep -q 'version=TLSv1.3 .*group=X25519MLKEM768' "$tmp/server.log"; then
    echo "chromium: mica server's log does not record X25519MLKEM768:"
    cat "$tmp/server.log"
    bad=1
fi
if [ $bad -eq 0 ]; then
    echo "chromium: $("$browser" --version 2>/dev/null | head -1) got the page over" \
        "$(grep -o 'version=.*' "$tmp/server.log" | head -1)"
fi
exit $bad
