#!/bin/sh
# root.sh <mica>: mica server --root DIR, static files over HTTP/1.1, checked with curl
# (and openssl s_client for pipelining).
#
#   - GET and HEAD; any other method is 405 with "Allow: GET, HEAD"
#   - Content-Type by extension (.html .css .js .json .svg .png .txt; anything else
#     application/octet-stream); index.html for / and for /dir/; 404 "not found" for a
#     missing file and for a directory without index.html
#   - never a file outside DIR: /../x (sent raw), /%2e%2e/x, %00 and a backslash are 400
#     "bad path"; a symbolic link inside DIR that points outside it is 404
#   - a large file is streamed: Content-Length is its size and the bytes are identical
#   - keep-alive: curl fetches two URLs over one connection (one access log line), with
#     "Connection: close" over two; HTTP/1.0 keeps the connection only when asked to;
#     two pipelined requests are answered in order, then the server closes
#   - Strict-Transport-Security: max-age=31536000 by default, --hsts 0 drops it,
#     --hsts 60 sets max-age=60
#   - --root with --echo, and a --root that does not exist, are refused
#
# Skipped (exit 77) without curl. mica server listens on 127.0.0.1 only, on ports
# 59000 + 2 * ($$ % 400) and up, moved up by 7 when in use, and is stopped on exit.
# Exits 1 on any failure.
unset SSLKEYLOGFILE
set -u

if [ $# -ne 1 ]; then
    echo "usage: root.sh <path-to-mica-binary>" >&2
    exit 2
fi
mica=$1
if ! command -v curl >/dev/null 2>&1; then
    echo "root: SKIP: curl is not installed"
    exit 77
fi
top=$(cd "$(dirname "$0")/../.." && pwd)
certs="$top/tests/vectors/certs"
port=$((59000 + 2 * ($$ % 400)))
me=root
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
make_tmp
use_timeout 20

# start_server NAME ARGS...: mica server on 127.0.0.1:$port; sets srv_port
start_server() {
    name=$1
    shift
    spawn_server "$tmp/$name.log" 'listening on' "$mica" server --accept 127.0.0.1:@PORT@ \
        --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
        --access-log "$tmp/$name.access" "$@" || {
        echo "root: cannot start mica server $*: $(cat "$tmp/$name.log")"
        exit 1
    }
}

# get PORT PATH [CURL ARGS...]: the body in $tmp/body, the headers in $tmp/head, and
# "code content-type connects" in $tmp/w (also printed)
get() {
    gp=$1
    gpath=$2
    shift 2
    $to curl -s --path-as-is --cacert "$certs/ca.pem" -D "$tmp/head" -o "$tmp/body" \
        -w '%{http_code} %{content_type} %{num_connects}' "$@" \
        "https://localhost:$gp$gpath" >"$tmp/w" 2>"$tmp/curl.err"
    cat "$tmp/w"
}

# expect PORT PATH CODE TYPE [BODY]: a GET's status, Content-Type and (when given) body
expect() {
    ep=$1
    epath=$2
    ecode=$3
    etype=$4
    w=$(get "$ep" "$epath")
    case "$w" in
    "$ecode $etype "*) ;;
    *) fail "GET $epath: got '$w', want '$ecode $etype' $(cat "$tmp/curl.err")" ;;
    esac
    if [ $# -ge 5 ] && [ "$(cat "$tmp/body")" != "$5" ]; then
        fail "GET $epath: body '$(cat "$tmp/body")', want '$5'"
    fi
}

# lines FILE N: wait (up to 3 s) until FILE has N lines; prints the count
lines() {
    i=0
    while [ $i -lt 30 ]; do
        n=$(wc -l <"$1" 2>/dev/null || echo 0)
        [ "$n" -ge "$2" ] && break
        sleep 0.1
        i=$((i + 1))
    done
    sleep 0.2
    wc -l <"$1" 2>/dev/null || echo 0
}

# the document root, and a file outside it
root="$tmp/www"
mkdir -p "$root/sub" "$root/empty"
printf '<p>home</p>\n' >"$root/index.html"
printf '<p>sub</p>\n' >"$root/sub/index.html"
printf 'alpha\n' >"$root/a.txt"
printf 'bravo\n' >"$root/b.txt"
printf 'p { }\n' >"$root/s.css"
printf 'let x = 1;\n' >"$root/app.js"
printf '{"k": 1}\n' >"$root/d.json"
printf '<svg xmlns="http://www.w3.org/2000/svg"/>\n' >"$root/i.svg"
printf '\211PNG\r\n\032\n' >"$root/i.png"
printf 'data\n' >"$root/f.unknownext"
printf 'data\n' >"$root/noext"
printf 'secret\n' >"$tmp/outside.txt"
ln -s "$tmp/outside.txt" "$root/escape.txt"
ln -s "$tmp" "$root/escapedir"
head -c 3000000 /dev/urandom >"$root/big.bin"

start_server main --root "$root"
mp=$srv_port

# Content-Type by extension, index.html, 404
expect "$mp" / 200 'text/html; charset=utf-8' '<p>home</p>'
expect "$mp" /index.html 200 'text/html; charset=utf-8' '<p>home</p>'
expect "$mp" /sub/ 200 'text/html; charset=utf-8' '<p>sub</p>'
expect "$mp" /a.txt 200 'text/plain; charset=utf-8' alpha
expect "$mp" /s.css 200 'text/css; charset=utf-8' 'p { }'
expect "$mp" /app.js 200 'text/javascript; charset=utf-8' 'let x = 1;'
expect "$mp" /d.json 200 application/json '{"k": 1}'
expect "$mp" /i.svg 200 image/svg+xml
expect "$mp" /i.png 200 image/png
cmp -s "$tmp/body" "$root/i.png" || fail "GET /i.png: the bytes differ"
expect "$mp" /f.unknownext 200 application/octet-stream data
expect "$mp" /noext 200 application/octet-stream data
expect "$mp" /missing.txt 404 text/plain 'not found'
expect "$mp" /sub/missing.html 404 text/plain 'not found'
expect "$mp" /empty/ 404 text/plain 'not found'
grep -qi '^strict-transport-security: max-age=31536000' "$tmp/head" ||
    fail "no default Strict-Transport-Security: $(cat "$tmp/head")"

# nothing outside the root
expect "$mp" /../outside.txt 400 text/plain 'bad path'
expect "$mp" /sub/../../outside.txt 400 text/plain 'bad path'
expect "$mp" /%2e%2e/outside.txt 400 text/plain 'bad path'
expect "$mp" /sub/%2E%2E/%2e%2e/outside.txt 400 text/plain 'bad path'
expect "$mp" /a.txt%00.html 400 text/plain 'bad path'
expect "$mp" '/sub\index.html' 400 text/plain 'bad path'
expect "$mp" /sub%5cindex.html 400 text/plain 'bad path'
expect "$mp" /escape.txt 404 text/plain 'not found'
expect "$mp" /escapedir/outside.txt 404 text/plain 'not found'
if grep -q secret "$tmp/body"; then
    fail "a file outside the root was served"
fi

# HEAD: the head only, with the file's length
w=$(get "$mp" /a.txt -I)
case "$w" in
"200 text/plain; charset=utf-8 "*) ;;
*) fail "HEAD /a.txt: got '$w'" ;;
esac
grep -q alpha "$tmp/body" && fail "HEAD /a.txt sent a body"
grep -qi '^content-length: 6' "$tmp/head" || fail "HEAD /a.txt: $(cat "$tmp/head")"

# other methods: 405 with Allow
w=$(get "$mp" /a.txt -X POST -d x=1)
case "$w" in
"405 "*) ;;
*) fail "POST /a.txt: got '$w', want 405" ;;
esac
grep -qi '^allow: GET, HEAD' "$tmp/head" || fail "POST /a.txt: no Allow: $(cat "$tmp/head")"
w=$(get "$mp" /a.txt -X DELETE)
case "$w" in
"405 "*) ;;
*) fail "DELETE /a.txt: got '$w', want 405" ;;
esac

# a large file, streamed
w=$(get "$mp" /big.bin)
case "$w" in
"200 application/octet-stream "*) ;;
*) fail "GET /big.bin: got '$w'" ;;
esac
grep -qi '^content-length: 3000000' "$tmp/head" ||
    fail "GET /big.bin: Content-Length: $(grep -i '^content-length' "$tmp/head")"
cmp -s "$tmp/body" "$root/big.bin" || fail "GET /big.bin: the bytes differ"

# keep-alive: two URLs, one connection, one access log line; with Connection: close two
start_server ka --root "$root"
kp=$srv_port
$to curl -s --cacert "$certs/ca.pem" -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\n' \
    "https://localhost:$kp/a.txt" "https://localhost:$kp/b.txt" >"$tmp/ka.w" 2>"$tmp/ka.err"
[ "$(cat "$tmp/ka.w" | tr '\n' ' ')" = "200 1 200 0 " ] ||
    fail "keep-alive: two URLs: '$(cat "$tmp/ka.w")', want 200 1 / 200 0 $(cat "$tmp/ka.err")"
n=$(lines "$tmp/ka.access" 1)
[ "$n" -eq 1 ] || fail "keep-alive: $n access log lines for one connection, want 1"
start_server close --root "$root"
cp=$srv_port
$to curl -s --cacert "$certs/ca.pem" -H 'Connection: close' -o /dev/null -o /dev/null \
    -w '%{http_code} %{num_connects}\n' \
    "https://localhost:$cp/a.txt" "https://localhost:$cp/b.txt" >"$tmp/cl.w" 2>"$tmp/cl.err"
[ "$(cat "$tmp/cl.w" | tr '\n' ' ')" = "200 1 200 1 " ] ||
    fail "Connection: close: two URLs: '$(cat "$tmp/cl.w")', want 200 1 / 200 1 $(cat "$tmp/cl.err")"
n=$(lines "$tmp/close.access" 2)
[ "$n" -eq 2 ] || fail "Connection: close: $n access log lines, want 2"

# pipelining: two requests written at once, answered in order, then the server closes
sclient() {
    timeout 10 openssl s_client -connect "127.0.0.1:$mp" -servername localhost \
        -CAfile "$certs/ca.pem" -ign_eof -quiet 2>"$tmp/sc.err"
}
if command -v openssl >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then
    printf 'GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /b.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
        sclient >"$tmp/pl.out"
    rc=$?
    [ $rc -eq 0 ] || fail "pipelining: s_client exited $rc (124: the server did not close)"
    tr -d '\r' <"$tmp/pl.out" | grep -v '^[A-Z][A-Za-z-]*: ' | grep -v '^$' >"$tmp/pl.short"
    printf 'HTTP/1.1 200 OK\nalpha\nHTTP/1.1 200 OK\nbravo\n' >"$tmp/pl.want"
    cmp -s "$tmp/pl.short" "$tmp/pl.want" ||
        fail "pipelining: got $(cat "$tmp/pl.out"), want alpha then bravo"
    tr -d '\r' <"$tmp/pl.out" | grep -q '^Connection: keep-alive' ||
        fail "pipelining: the first answer does not say keep-alive"
    tr -d '\r' <"$tmp/pl.out" | grep -q '^Connection: close' ||
        fail "pipelining: the second answer does not say close"

    # HEAD: nothing after the head (the connection is then closed)
    printf 'HEAD /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /b.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
        sclient >"$tmp/hd.out"
    rc=$?
    [ $rc -eq 0 ] || fail "HEAD then GET: s_client exited $rc (124: the server did not close)"
    tr -d '\r' <"$tmp/hd.out" | grep -v '^[A-Z][A-Za-z-]*: ' | grep -v '^$' >"$tmp/hd.short"
    printf 'HTTP/1.1 200 OK\nHTTP/1.1 200 OK\nbravo\n' >"$tmp/hd.want"
    cmp -s "$tmp/hd.short" "$tmp/hd.want" ||
        fail "HEAD then GET: got $(cat "$tmp/hd.out"), want two heads and only bravo"

    # HTTP/1.0: kept only with Connection: keep-alive, so the third request is not answered
    printf 'GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b.txt HTTP/1.0\r\n\r\nGET /a.txt HTTP/1.0\r\n\r\n' |
        sclient >"$tmp/h10.out"
    rc=$?
    [ $rc -eq 0 ] || fail "HTTP/1.0: s_client exited $rc (124: the server did not close)"
    tr -d '\r' <"$tmp/h10.out" | grep -v '^[A-Z][A-Za-z-]*: ' | grep -v '^$' >"$tmp/h10.short"
    cmp -s "$tmp/h10.short" "$tmp/pl.want" ||
        fail "HTTP/1.0: got $(cat "$tmp/h10.out"), want alpha then bravo, then the close"
else
    echo "root: openssl or timeout missing: pipelining not checked"
fi

# --hsts
start_server hsts0 --root "$root" --hsts 0
w=$(get "$srv_port" /a.txt)
case "$w" in
"200 "*) ;;
*) fail "--hsts 0: GET /a.txt: '$w'" ;;
esac
grep -qi '^strict-transport-security' "$tmp/head" && fail "--hsts 0 still sends the header"
start_server hsts60 --root "$root" --hsts 60
get "$srv_port" /a.txt >/dev/null
tr -d '\r' <"$tmp/head" | grep -qi '^strict-transport-security: max-age=60$' ||
    fail "--hsts 60: $(grep -i '^strict' "$tmp/head")"

# refused: --root with --echo, a --root that does not exist
$to "$mica" server --accept "127.0.0.1:$port" --cert "$certs/ecdsa-p256.chain.pem" \
    --key "$certs/ecdsa-p256.key" --root "$root" --echo >/dev/null 2>"$tmp/echo.err"
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "--root with --echo: exit $rc"
grep -q -- '--echo' "$tmp/echo.err" || fail "--root with --echo: message: $(cat "$tmp/echo.err")"
$to "$mica" server --accept "127.0.0.1:$port" --cert "$certs/ecdsa-p256.chain.pem" \
    --key "$certs/ecdsa-p256.key" --root "$tmp/nonexistent" >/dev/null 2>"$tmp/ne.err"
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "--root nonexistent: exit $rc"
grep -q 'No such file or directory' "$tmp/ne.err" ||
    fail "--root nonexistent: message: $(cat "$tmp/ne.err")"

if [ $bad -eq 0 ]; then
    echo "root: ok"
fi
exit $bad
