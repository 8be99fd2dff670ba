#!/bin/sh
# The demo: what mica can show today, from a release build.
# Grows into the traced client/server handshake on localhost with the handshake issue.
set -eu
b=${1:-build/release}
mica="$b/mica"

echo "== mica $("$mica" version | cut -d' ' -f2): TLS 1.3 you can see into"
echo
echo "== the algorithms this build speaks (mica list)"
"$mica" list
echo
echo "== RFC 8448, replayed byte for byte through mica's key schedule and record layer"
echo "   (every secret, key, IV, Finished, binder and protected record of sections 3-7)"
"$b/tests/test_rfc8448"
echo
echo "== how mica explains a failure (mica errors, first lines)"
"$mica" errors | head -8
