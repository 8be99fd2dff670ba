#!/bin/sh
# diagram_svg.sh <mica> [port]: the SVG sequence diagram of `mica client --diagram FILE.svg`,
# rendered by headless Chromium (Debian's chromium).
#
#   1. mica server --www on 127.0.0.1, mica client --diagram hs.svg --http / (a full
#      handshake), then mica server --groups secp384r1 and mica client --groups
#      x25519:secp384r1 --diagram hrr.svg (a HelloRetryRequest).
#   2. Each SVG is well-formed XML (xmllint, or python3's minidom without it) with an <svg>
#      root, is self-contained (no http:// or https:// reference but the SVG namespace, no
#      <script>, <foreignObject> or <image>, no href or url() but to "#..."), and names
#      the messages in order (ClientHello, [HelloRetryRequest, ClientHello,] ServerHello,
#      EncryptedExtensions, Certificate, CertificateVerify, Finished, Finished), the
#      protections (plaintext, handshake keys, application keys) and the round trips
#      (1, or 2 with the HelloRetryRequest).
#   3. Chromium --headless --screenshot renders it to a PNG in a window a margin larger
#      than the SVG's width and height; png_check.py (python3, standard library only)
#      checks the PNG's size, that >= 1% of its pixels differ from the background, that it
#      has >= 3 colours, and that the colour of every arrow in the SVG is really drawn
#      (a protection's colour: grey, amber, green). Not rendered when not self-contained.
#
# The PNGs (and SVGs) are copied to $MICA_ARTIFACTS when it is set, for a human to look
# at; their paths are printed.
#
# Uses tests/vectors/certs (ECDSA P-256 leaf for localhost). Ports: [port] (default
# 58000 + 4 * ($$ % 400)), moved up by 7 when in use. Every server runs under timeout and
# is stopped on exit; every client and Chromium run under timeout.
#
# Exit status: 0 all pass, 1 any failure, 2 bad usage, 77 (skip) without chromium or python3.
unset SSLKEYLOGFILE
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: diagram_svg.sh <path-to-mica-binary> [port]" >&2
    exit 2
fi
mica=$1
port=${2:-$((58000 + 4 * ($$ % 400)))}
here=$(cd "$(dirname "$0")" && pwd)
certs=$here/../vectors/certs
ca=$certs/ca.pem

if [ ! -x "$mica" ]; then
    echo "diagram_svg: $mica is not an executable" >&2
    exit 2
fi
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || {
    echo "diagram_svg: SKIP: chromium is not installed"
    exit 77
}
command -v python3 >/dev/null 2>&1 || {
    echo "diagram_svg: SKIP: python3 is needed"
    exit 77
}
me=diagram_svg
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
make_tmp
use_timeout 10 100
to_browser=${to:+timeout 30}

# start NAME ARGS...: mica server --www on 127.0.0.1:$port; stderr in $tmp/NAME.log.
# Sets srv_pid, srv_port, srv_log.
start() {
    srv_log=$tmp/$1.log
    shift
    spawn_server "$srv_log" 'listening on' "$mica" server \
        --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
        --accept 127.0.0.1:@PORT@ --www "$@" || {
        echo "diagram_svg: cannot start mica server:$(excerpt "$srv_log")" >&2
        exit 1
    }
}
# stop: SIGTERM to the server; it must exit 0 with no sanitizer report
stop() {
    stop_server "$srv_pid" "$srv_log"
}
# client NAME ARGS...: mica client --diagram $tmp/NAME.svg --http / to the current server;
# the page on $tmp/NAME.out, stderr (the summary) in $tmp/NAME.err
client() {
    n=$1
    shift
    $to "$mica" client --cafile "$ca" --diagram "$tmp/$n.svg" "$@" --http / \
        "localhost:$srv_port" >"$tmp/$n.out" 2>"$tmp/$n.err"
    rc=$?
    [ $rc = 0 ] || fail "$n: mica client exited $rc:$(excerpt "$tmp/$n.err")"
    has "$tmp/$n.out" '^HTTP/1\.1 200 ' "$n: the page"
    has "$tmp/$n.err" "^diagram written to $tmp/$n\\.svg\$" "$n: mica client"
}

# check_svg NAME ROUNDS MESSAGES: $tmp/NAME.svg is well-formed, self-contained, names
# MESSAGES (space-separated, in this order: the handshake messages the diagram must show)
# and the protections, and says ROUNDS round trip(s). Sets svg_w and svg_h. Status 0 when
# it can be rendered: it has a size and is self-contained.
check_svg() {
    n=$1
    f=$tmp/$1.svg
    svg_w=""
    svg_h=""
    if [ ! -s "$f" ]; then
        fail "$n: mica client wrote no $n.svg"
        return 1
    fi
    # well-formed XML
    if command -v xmllint >/dev/null 2>&1; then
        xmllint --noout "$f" >"$tmp/$n.xml.err" 2>&1 ||
            fail "$n.svg is not well-formed XML (xmllint):$(excerpt "$tmp/$n.xml.err")"
    fi
    # (python3 too: it checks the root and reads the size)
    python3 -c '
import sys, xml.dom.minidom
root = xml.dom.minidom.parse(sys.argv[1]).documentElement
if root.tagName != "svg" or root.getAttribute("xmlns") != "http://www.w3.org/2000/svg":
    sys.exit("the root is <%s xmlns=%r>, not an SVG <svg>" % (root.tagName, root.getAttribute("xmlns")))
w, h = root.getAttribute("width"), root.getAttribute("height")
if not (w.isdigit() and h.isdigit() and 0 < int(w) <= 4000 and 0 < int(h) <= 4000):
    sys.exit("width=%r height=%r: not whole numbers of pixels up to 4000" % (w, h))
print(w, h)
' "$f" >"$tmp/$n.size" 2>"$tmp/$n.xml.err" ||
        fail "$n.svg: python3 xml.dom.minidom:$(excerpt "$tmp/$n.xml.err")"
    read -r svg_w svg_h <"$tmp/$n.size" 2>/dev/null
    # self-contained: nothing fetched from anywhere, nothing run (else no screenshot)
    contained=1
    if grep -Eo 'https?://[^"'"'"' <>)]*' "$f" | grep -vx 'http://www\.w3\.org/2000/svg' \
        >"$tmp/$n.urls"; then
        fail "$n.svg refers to the network:$(excerpt "$tmp/$n.urls")"
        contained=0
    fi
    if grep -Eio '<script|<foreignObject|<image|@import|href="[^#]|href='"'"'[^#]|url\([^#]' \
        "$f" >"$tmp/$n.ext"; then
        fail "$n.svg is not self-contained:$(excerpt "$tmp/$n.ext")"
        contained=0
    fi
    # the messages, in order (the names as whole words, in document order; a name may
    # repeat, e.g. the two Finished, and NewSessionTicket may follow)
    got=$(grep -Eo '\b(ClientHello|HelloRetryRequest|ServerHello|EncryptedExtensions|Certificate|CertificateRequest|CertificateVerify|Finished|EndOfEarlyData)\b' \
        "$f" | tr '\n' ' ')
    [ "$got" = "$3 " ] || fail "$n.svg: the messages are '$got', want '$3'"
    for p in plaintext 'handshake keys' 'application keys'; do
        grep -q "$p" "$f" || fail "$n.svg does not name the protection '$p'"
    done
    if [ "$2" = 1 ]; then
        grep -Eq '\b1 round trip([^s]|$)' "$f" || fail "$n.svg does not say '1 round trip'"
    else
        grep -Eq "\\b$2 round trips\\b" "$f" || fail "$n.svg does not say '$2 round trips'"
    fi
    [ -n "$svg_w" ] && [ -n "$svg_h" ] && [ $contained = 1 ]
}

# shot NAME: headless Chromium renders $tmp/NAME.svg to $tmp/NAME.png in a window of the
# SVG's size plus a margin; png_check.py checks the PNG, and that the colour of each arrow
# (a <line> with a marker) is in it (in the arrows, their heads or their labels)
margin=16
shot() {
    n=$1
    win_w=$((svg_w + margin))
    win_h=$((svg_h + margin))
    # the flags of chromium.sh (no sandbox as root, no background networking on a closed
    # network) and a fixed scale, so that the PNG is exactly the window's size; one retry
    # with a new profile when Chromium ended without a screenshot (not after a timeout:
    # the test's budget is 120 s)
    for attempt in 1 2; do
        rm -f "$tmp/$n.png"
        $to_browser "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
            --disable-background-networking --disable-component-update --disable-sync \
            --user-data-dir="$tmp/profile-$n-$attempt" --hide-scrollbars \
            --force-device-scale-factor=1 --window-size="$win_w,$win_h" \
            --screenshot="$tmp/$n.png" "file://$tmp/$n.svg" \
            >"$tmp/$n.chromium.log" 2>&1
        rc=$?
        [ -s "$tmp/$n.png" ] || [ $rc = 124 ] && break
    done
    if [ ! -s "$tmp/$n.png" ]; then
        tail -8 "$tmp/$n.chromium.log" >"$tmp/$n.chromium.tail"
        fail "$n: chromium (exit $rc) wrote no screenshot:$(excerpt "$tmp/$n.chromium.tail")"
        return 1
    fi
    colours=$(grep 'marker-end' "$tmp/$n.svg" | grep -o 'stroke="#[0-9a-fA-F]\{6\}"' |
        sed 's/stroke="\(#[0-9a-fA-F]*\)"/\1/' | sort -u)
    [ -n "$colours" ] || fail "$n.svg: no arrow (<line ... marker-end>) with a #RRGGBB stroke"
    # shellcheck disable=SC2086
    ${to:+timeout 60} python3 "$here/png_check.py" "$tmp/$n.png" "$win_w" "$win_h" $colours \
        >"$tmp/$n.png_check" 2>&1
    rc=$?
    sed 's/^/  /' "$tmp/$n.png_check"
    [ $rc = 0 ] || fail "$n.png: png_check.py exited $rc"
}

# keep NAME: copy NAME.png and NAME.svg to $MICA_ARTIFACTS (when set), print the paths
keep() {
    [ -n "${MICA_ARTIFACTS:-}" ] || return 0
    mkdir -p "$MICA_ARTIFACTS" || {
        fail "cannot create \$MICA_ARTIFACTS=$MICA_ARTIFACTS"
        return 1
    }
    for ext in png svg; do
        [ -f "$tmp/$1.$ext" ] || continue
        if cp "$tmp/$1.$ext" "$MICA_ARTIFACTS/diagram-$1.$ext"; then
            echo "diagram_svg: kept $(cd "$MICA_ARTIFACTS" && pwd)/diagram-$1.$ext"
        else
            fail "cannot copy $1.$ext to $MICA_ARTIFACTS"
        fi
    done
}

# ---- 1. the two handshakes ------------------------------------------------------------
echo "diagram_svg: 1. mica client --diagram hs.svg -> mica server (full handshake)"
start hs
client hs
has "$tmp/hs.err" '^hrr: no' "hs: mica client"
stop
echo "diagram_svg: 1. mica client --groups x25519:secp384r1 --diagram hrr.svg -> mica server --groups secp384r1"
start hrr --groups secp384r1
client hrr --groups x25519:secp384r1
has "$tmp/hrr.err" '^hrr: yes' "hrr: mica client"
has "$tmp/hrr.err" '^group: secp384r1$' "hrr: mica client"
stop

# ---- 2. and 3. each SVG, then its screenshot ----------------------------------------------
full="ServerHello EncryptedExtensions Certificate CertificateVerify Finished Finished"
for n in hs hrr; do
    if [ $n = hs ]; then
        rounds=1
        msgs="ClientHello $full"
    else
        rounds=2
        msgs="ClientHello HelloRetryRequest ClientHello $full"
    fi
    echo "diagram_svg: 2. $n.svg: XML, self-contained, $msgs"
    if check_svg "$n" $rounds "$msgs"; then
        echo "diagram_svg: 3. $n.svg (${svg_w}x$svg_h) -> chromium --screenshot -> $n.png"
        shot "$n"
    else
        echo "diagram_svg: 3. $n.svg: not rendered"
    fi
    keep "$n"
done
[ -n "${MICA_ARTIFACTS:-}" ] ||
    echo "diagram_svg: set MICA_ARTIFACTS=DIR to keep the screenshots"

if [ $bad = 0 ]; then
    echo "diagram_svg: ok ($("$browser" --version 2>/dev/null | head -1))"
fi
exit $bad
