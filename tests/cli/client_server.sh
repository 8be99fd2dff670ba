#!/bin/sh
# client_server.sh <mica> [port]: mica client and mica server against each other, and
# mica server --www against curl.
#
#   - an ECDSA P-256 CA and a leaf for localhost/127.0.0.1 are made with openssl in a
#     temporary directory
#   - mica server --echo: data comes back byte for byte (a line, 1 MiB, 16 clients at
#     once); the client prints the negotiated version, cipher, group, signature scheme,
#     ALPN and verification; --ciphers, --groups and --alpn are honoured
#   - failures: an untrusted certificate and a wrong server name exit 1, a refused
#     connection 3 (network), each with "mica: <sentence>"; the server logs each failed
#     handshake as one line "mica server: 127.0.0.1:PORT: <sentence>"; --insecure warns
#   - mica server --www answers mica client and curl with a 200 page, HSTS and
#     Connection: close
#   - --help documents every option; bad command lines exit 2; SIGTERM stops the server
#
# Ports: [port] and the few above it (default 40000 + 4 * ($$ % 1000), so parallel runs
# rarely meet); a port in use moves the test up by 7, up to 5 times. Servers listen on
# 127.0.0.1 only and are always killed on exit. Exits 1 on any failure, 77 (skip) without
# openssl.
unset SSLKEYLOGFILE
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: client_server.sh <path-to-mica-binary> [port]" >&2
    exit 2
fi
mica=$1
port=${2:-$((40000 + 4 * ($$ % 1000)))}
if ! command -v openssl >/dev/null 2>&1; then
    echo "cli: SKIP: openssl is needed to make test certificates"
    exit 77
fi
me=cli
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
make_tmp

# A hung peer must fail the test, not hang it.
use_timeout 30

# ---- certificates: a CA and a leaf for localhost and 127.0.0.1, both ECDSA P-256 ----
(
    cd "$tmp" &&
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key &&
        openssl req -x509 -new -key ca.key -subj "/CN=mica test CA" -days 2 -out ca.pem \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" &&
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem &&
        openssl req -new -key key.pem -subj "/CN=localhost" -out leaf.csr &&
        printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" \
            "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
            "extendedKeyUsage=serverAuth" >leaf.ext &&
        openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 2 \
            -extfile leaf.ext -out cert.pem
) >"$tmp/openssl.log" 2>&1 || {
    cat "$tmp/openssl.log"
    echo "cli: cannot make test certificates with openssl" >&2
    exit 2
}

# start_server NAME ARGS...: mica server ARGS on 127.0.0.1:$port, stderr in $tmp/NAME.log;
# waits until it listens. Sets srv_pid and srv_port.
start_server() {
    name=$1
    shift
    spawn_server "$tmp/$name.log" 'listening on' \
        "$mica" server --accept 127.0.0.1:@PORT@ "$@" || {
        echo "cli: cannot start mica server $*:" >&2
        cat "$tmp/$name.log" >&2
        exit 1
    }
}

# client NAME ARGS... < input: mica client ARGS; $tmp/NAME.{out,err,rc}
client() {
    name=$1
    shift
    $to "$mica" client "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
    echo $? >"$tmp/$name.rc"
}

rc_is() { # NAME WANT
    got=$(cat "$tmp/$1.rc")
    [ "$got" = "$2" ] || fail "$1: exit status $got, want $2; stderr: $(cat "$tmp/$1.err")"
}

err_has() { # NAME REGEX
    grep -Eq "$2" "$tmp/$1.err" || fail "$1: stderr has no line matching /$2/: $(cat "$tmp/$1.err")"
}

trust="--cafile $tmp/ca.pem --servername localhost"

# ---- help and bad command lines ----
echo "cli: --help documents every option; bad command lines exit 2"
"$mica" client --help >"$tmp/chelp.out" 2>&1 || fail "mica client --help exited $?"
for opt in --cafile --servername --ciphers --groups --alpn --insecure --quiet --help; do
    grep -q -- "$opt" "$tmp/chelp.out" || fail "mica client --help does not document $opt"
done
"$mica" server --help >"$tmp/shelp.out" 2>&1 || fail "mica server --help exited $?"
for opt in --cert --key --accept --ciphers --groups --alpn --echo --www --max-conns --help; do
    grep -q -- "$opt" "$tmp/shelp.out" || fail "mica server --help does not document $opt"
done
"$mica" client >/dev/null 2>&1
[ $? -eq 2 ] || fail "mica client without HOST:PORT: want exit 2"
"$mica" client --no-such-option 127.0.0.1:1 >/dev/null 2>&1
[ $? -eq 2 ] || fail "mica client --no-such-option: want exit 2"
"$mica" server --echo >/dev/null 2>&1
[ $? -eq 2 ] || fail "mica server without --cert/--key: want exit 2"

# ---- echo ----
start_server echo --cert "$tmp/cert.pem" --key "$tmp/key.pem" --echo --alpn http/1.1
echo_port=$srv_port
echo_pid=$srv_pid
target=127.0.0.1:$echo_port

echo "cli: mica client <-> mica server --echo on $target"
printf 'hello mica\n' | client line $trust "$target"
rc_is line 0
[ "$(cat "$tmp/line.out")" = "hello mica" ] || fail "echo: got '$(cat "$tmp/line.out")'"
err_has line "^connected to $target\$"
err_has line '^version: TLSv1\.3$'
err_has line '^cipher: TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)$'
err_has line '^group: X25519MLKEM768$'   # the default: post-quantum hybrid first
err_has line '^hrr: no$'
err_has line '^signature scheme: ecdsa_secp256r1_sha256$'
err_has line '^alpn: none$'
err_has line '^verification: ok$'

echo "cli: --ciphers, --groups and --alpn are honoured"
printf 'x' | client algs $trust --ciphers TLS_CHACHA20_POLY1305_SHA256 --groups secp256r1 \
    --alpn h2,http/1.1 "$target"
rc_is algs 0
err_has algs '^cipher: TLS_CHACHA20_POLY1305_SHA256$'
err_has algs '^group: secp256r1$'
err_has algs '^alpn: http/1\.1$'

echo "cli: --quiet prints nothing but the data"
printf 'q' | client quiet $trust --quiet "$target"
rc_is quiet 0
[ -s "$tmp/quiet.err" ] && fail "--quiet: stderr is not empty: $(cat "$tmp/quiet.err")"
[ "$(cat "$tmp/quiet.out")" = q ] || fail "--quiet: got '$(cat "$tmp/quiet.out")'"

echo "cli: an empty standard input closes cleanly"
client empty $trust "$target" </dev/null
rc_is empty 0
[ -s "$tmp/empty.out" ] && fail "empty input: got output"

echo "cli: 1 MiB comes back byte for byte"
head -c 1048576 /dev/urandom >"$tmp/big.in"
client big $trust --quiet "$target" <"$tmp/big.in"
rc_is big 0
cmp -s "$tmp/big.in" "$tmp/big.out" || fail "1 MiB echo differs ($(wc -c <"$tmp/big.out") bytes back)"

echo "cli: 16 clients at once"
i=0
par=""
while [ $i -lt 16 ]; do
    head -c $((1000 * (i + 1))) /dev/urandom >"$tmp/par$i.in"
    ($to "$mica" client $trust --quiet "$target" <"$tmp/par$i.in" >"$tmp/par$i.out" \
        2>"$tmp/par$i.err"
    echo $? >"$tmp/par$i.rc") &
    par="$par $!"
    i=$((i + 1))
done
for p in $par; do
    wait "$p"
done
i=0
while [ $i -lt 16 ]; do
    [ "$(cat "$tmp/par$i.rc")" = 0 ] || fail "parallel client $i exited $(cat "$tmp/par$i.rc"): $(cat "$tmp/par$i.err")"
    cmp -s "$tmp/par$i.in" "$tmp/par$i.out" || fail "parallel client $i: echo differs"
    i=$((i + 1))
done

echo "cli: an untrusted certificate fails, and the server logs the handshake in one line"
lines_before=$(grep -c '^mica server: 127\.0\.0\.1:[0-9][0-9]*: ' "$tmp/echo.log")
printf 'x' | client untrusted --cafile "$tmp/cert.pem" --servername localhost "$target"
rc_is untrusted 1
err_has untrusted '^mica: .'
[ -s "$tmp/untrusted.out" ] && fail "untrusted: data was exchanged"
sleep 0.3
lines_after=$(grep -c '^mica server: 127\.0\.0\.1:[0-9][0-9]*: ' "$tmp/echo.log")
[ "$lines_after" -gt "$lines_before" ] ||
    fail "the server logged no line for the failed handshake: $(cat "$tmp/echo.log")"

echo "cli: a wrong server name fails"
printf 'x' | client wrongname --cafile "$tmp/ca.pem" --servername wrong.example "$target"
rc_is wrongname 1
err_has wrongname '^mica: .'

echo "cli: --insecure connects without verification, with a warning"
printf 'i' | client insecure --insecure "$target"
rc_is insecure 0
err_has insecure '^mica: warning: --insecure'
err_has insecure '^verification: (skipped|FAILED)'
[ "$(cat "$tmp/insecure.out")" = i ] || fail "--insecure: got '$(cat "$tmp/insecure.out")'"

echo "cli: SIGTERM stops the server"
kill -TERM "$echo_pid"
i=0
while kill -0 "$echo_pid" 2>/dev/null && [ $i -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
done
if kill -0 "$echo_pid" 2>/dev/null; then
    fail "mica server still runs 5 s after SIGTERM"
else
    wait "$echo_pid"
    st=$?
    [ $st -eq 0 ] || fail "mica server exited $st after SIGTERM"
fi

echo "cli: a refused connection exits 3 (network)"
printf 'x' | client refused $trust "$target"
rc_is refused 3
err_has refused '^mica: cannot connect to '

# ---- www ----
start_server www --cert "$tmp/cert.pem" --key "$tmp/key.pem" --www
www=127.0.0.1:$srv_port

echo "cli: mica client <-> mica server --www on $www"
printf 'GET /status?a=<b> HTTP/1.1\r\nHost: localhost\r\n\r\n' | client www $trust "$www"
rc_is www 0
for want in '^HTTP/1\.1 200 OK' '^Content-Type: text/html' '^Content-Length: [0-9]+' \
    '^Strict-Transport-Security: max-age=31536000' '^Connection: close' 'TLSv1\.3' \
    'TLS_AES_|TLS_CHACHA20_' 'X25519MLKEM768' 'ecdsa_secp256r1_sha256' 'localhost' '&lt;b&gt;'; do
    tr -d '\r' <"$tmp/www.out" | grep -Eq "$want" || fail "www: no /$want/ in the answer"
done
grep -q '<b>' "$tmp/www.out" && fail "www: the request target is not HTML-escaped"

if command -v curl >/dev/null 2>&1; then
    echo "cli: curl <-> mica server --www"
    $to curl -sS --cacert "$tmp/ca.pem" --resolve "localhost:$srv_port:127.0.0.1" \
        -D "$tmp/curl.head" -o "$tmp/curl.body" "https://localhost:$srv_port/" \
        2>"$tmp/curl.err"
    st=$?
    [ $st -eq 0 ] || fail "curl exited $st: $(cat "$tmp/curl.err")"
    for want in '^HTTP/1\.1 200' '^Strict-Transport-Security: max-age=31536000' \
        '^Connection: close' '^Content-Type: text/html'; do
        tr -d '\r' <"$tmp/curl.head" | grep -Eiq "$want" || fail "curl: no header /$want/"
    done
    grep -q 'TLSv1\.3' "$tmp/curl.body" || fail "curl: the page does not name TLSv1.3"
    len=$(tr -d '\r' <"$tmp/curl.head" | sed -n 's/^[Cc]ontent-[Ll]ength: *//p')
    [ "$len" = "$(wc -c <"$tmp/curl.body" | tr -d ' ')" ] ||
        fail "curl: Content-Length $len, body $(wc -c <"$tmp/curl.body") bytes"
else
    echo "cli: curl not found; skipping curl <-> mica server --www"
fi

if [ $bad -ne 0 ]; then
    exit 1
fi
echo "cli: ok"
exit 0
