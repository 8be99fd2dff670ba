#!/bin/sh
# client_options.sh <mica>: mica client's s_client-like options and exit codes.
#
#   - --showcerts prints each certificate of the chain, numbered, leaf first: subject,
#     issuer, SANs, validity with days left, key, signature algorithm, SHA-256
#     fingerprint and SPKI pin (checked against openssl when it is there); also when
#     the chain fails verification
#   - --brief prints one line instead of the negotiated block
#   - --http PATH sends one GET (Host with the port, User-Agent mica/VERSION,
#     Connection: close), prints the whole response and exits 0 when the server closes,
#     without reading standard input (checked against mica server --www and a Python
#     server that records the request)
#   - --connect-timeout (a listener whose queue is full), --timeout (a TCP server that
#     never answers the ClientHello; an echo server that never sends data)
#   - exit codes: 0 ok, 1 TLS or verification failure, 2 usage, 3 network (refused,
#     unresolvable, timeout, closed without close_notify), all documented in --help
#   - IPv6: [::1]:PORT, -4 and -6 (skipped when ::1 is not available)
#
# Servers listen on 127.0.0.1 (and ::1) only: mica server on per-PID ports (44000 +
# 4 * ($$ % 500), moved up by 7 when in use), the Python helpers on ports the kernel
# picks. All are stopped on exit. Exits 1 on any failure, 77 (skip) without python3.
unset SSLKEYLOGFILE
set -u

if [ $# -ne 1 ]; then
    echo "usage: client_options.sh <path-to-mica-binary>" >&2
    exit 2
fi
mica=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
certs="$top/tests/vectors/certs"
port=$((44000 + 4 * ($$ % 500)))
if ! command -v python3 >/dev/null 2>&1; then
    echo "client_options: SKIP: python3 is needed for the test servers"
    exit 77
fi
me=client_options
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
make_tmp
use_timeout 30

# start_server NAME ADDR-HOST ARGS...: mica server on ADDR-HOST:$port; sets srv_port.
# Returns 1 (after a message) when it cannot listen.
start_server() {
    name=$1
    ahost=$2
    shift 2
    spawn_server "$tmp/$name.log" 'listening on' \
        "$mica" server --accept "$ahost:@PORT@" "$@" || {
        echo "client_options: cannot start mica server $*: $(cat "$tmp/$name.log")"
        return 1
    }
}

# The Python helpers: one server per mode, on a port the kernel picks, printed first.
cat >"$tmp/peer.py" <<'PY'
import socket, ssl, sys, time
mode, out = sys.argv[1], sys.argv[2]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0 if mode == "backlog" else 8)
port = s.getsockname()[1]
keep = []
if mode == "backlog":  # a full accept queue: further SYNs go unanswered
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        keep.append(c)
    time.sleep(0.3)
print(port, flush=True)
if mode == "backlog":
    time.sleep(60)
    sys.exit(0)
conn, _ = s.accept()
if mode == "silent":  # TCP only: never answer the ClientHello
    time.sleep(60)
    sys.exit(0)
if mode == "close":  # close the TCP connection at once
    conn.close()
    sys.exit(0)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.load_cert_chain(sys.argv[3], sys.argv[4])
conn.settimeout(10)
t = ctx.wrap_socket(conn, server_side=True)
req = b""
while b"\r\n\r\n" not in req:
    d = t.recv(4096)
    if not d:
        break
    req += d
open(out, "wb").write(req)
t.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
if mode == "http":  # close_notify, then the TCP close
    try:
        t.unwrap()
    except (OSError, ssl.SSLError):
        pass
# "trunc": the TCP connection ends without close_notify
conn.close()
t.close()
PY

# start_peer NAME MODE: the Python helper in MODE; sets peer_port.
start_peer() {
    python3 "$tmp/peer.py" "$2" "$tmp/$1.req" "$certs/ecdsa-p256.chain.pem" \
        "$certs/ecdsa-p256.key" >"$tmp/$1.port" 2>"$tmp/$1.pylog" &
    pids="$pids $!"
    i=0
    while [ ! -s "$tmp/$1.port" ] && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    peer_port=$(cat "$tmp/$1.port")
    [ -n "$peer_port" ] || {
        echo "client_options: cannot start the Python helper $2: $(cat "$tmp/$1.pylog")"
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
    grep -Eq -- "$2" "$tmp/$1.err" || fail "$1: stderr has no line matching /$2/: $(cat "$tmp/$1.err")"
}
out_has() { # NAME REGEX
    tr -d '\r' <"$tmp/$1.out" | grep -Eq -- "$2" || fail "$1: stdout has no line matching /$2/"
}

trust="--cafile $certs/ca.pem --servername localhost"

# ---- help and usage ----
echo "client_options: --help documents the options and the exit codes; bad values exit 2"
"$mica" client --help >"$tmp/help.out" 2>&1 || fail "mica client --help exited $?"
for opt in --showcerts --brief --http --timeout --connect-timeout -4 -6; do
    grep -q -- "$opt" "$tmp/help.out" || fail "mica client --help does not document $opt"
done
for code in 0 1 2 3; do
    grep -Eq "^ +$code +[a-z]" "$tmp/help.out" || fail "mica client --help does not explain exit status $code"
done
for args in "--timeout abc" "--timeout 0" "--timeout -1" "--connect-timeout 1x" \
    "--http nopath" "--http /a\\ b" "--http / --json" "-4 -6"; do
    eval "\"\$mica\" client $args 127.0.0.1:1" >/dev/null 2>"$tmp/usage.err" </dev/null
    st=$?
    [ $st -eq 2 ] || fail "mica client $args: exit $st, want 2"
    grep -q '^mica: ' "$tmp/usage.err" || fail "mica client $args: no 'mica: ' message"
done

# ---- mica server --www ----
start_server www 127.0.0.1 --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
    --www || exit 1
www=127.0.0.1:$srv_port

echo "client_options: --showcerts on $www"
client show $trust --showcerts "$www" </dev/null
rc_is show 0
[ "$(grep -c 'subject:' "$tmp/show.err")" = 2 ] || fail "showcerts: want 2 certificates: $(cat "$tmp/show.err")"
err_has show '^certificate chain: 2 certificates'
err_has show '^ 0 +subject: +CN=mica test ecdsa-p256$'
err_has show '^ 1 +subject: +CN=mica test CA$'
err_has show '^ +issuer: +CN=mica test CA$'
err_has show '^ +SANs: +DNS:localhost, DNS:\*\.test\.mica, IP:127\.0\.0\.1'
err_has show '^ +valid: +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z to [0-9-]{10}T[0-9:]{8}Z \([0-9]+ days? left\)$'
err_has show '^ +key: +ECDSA P-256$'
err_has show '^ +signature: +ecdsa-with-SHA256$'
err_has show '^ +sha256: +[0-9a-f]{64}$'
err_has show '^ +spki pin: +sha256/[A-Za-z0-9+/]{43}=$'
err_has show '^verification: ok$'
if command -v openssl >/dev/null 2>&1; then
    openssl x509 -in "$certs/ecdsa-p256.chain.pem" -outform DER -out "$tmp/leaf.der" 2>/dev/null
    fp=$(openssl dgst -sha256 -r "$tmp/leaf.der" | cut -d' ' -f1)
    pin=$(openssl x509 -in "$certs/ecdsa-p256.chain.pem" -pubkey -noout |
        openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | openssl base64)
    grep -Eq "^ +sha256: +$fp\$" "$tmp/show.err" ||
        fail "showcerts: the leaf's SHA-256 is not openssl's $fp"
    grep -Fq "spki pin:  sha256/$pin" "$tmp/show.err" ||
        fail "showcerts: the leaf's pin is not openssl's sha256/$pin"
fi

echo "client_options: --showcerts shows the chain of a failed verification; exit 1"
client showbad --cafile "$certs/ca.pem" --servername wrong.example --showcerts "$www" </dev/null
rc_is showbad 1
err_has showbad '^ 0 +subject: +CN=mica test ecdsa-p256$'
err_has showbad '^mica: .'

echo "client_options: --brief prints one line"
client brief $trust --brief "$www" </dev/null
rc_is brief 0
[ "$(wc -l <"$tmp/brief.err" | tr -d ' ')" = 1 ] || fail "brief: not one line: $(cat "$tmp/brief.err")"
err_has brief '^TLSv1\.3 TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256) X25519MLKEM768 ecdsa_secp256r1_sha256 alpn=none verified$'
client briefins --insecure --brief "$www" </dev/null
rc_is briefins 0
err_has briefins ' alpn=none unverified\(--insecure\)$'

echo "client_options: --http PATH against mica server --www, standard input never closed"
mkfifo "$tmp/fifo"
client http $trust --brief --http '/index?x=<y>' "$www" <>"$tmp/fifo"
rc_is http 0
out_has http '^HTTP/1\.1 200 OK$'
out_has http '^Connection: close$'
out_has http 'GET /index\?x=&lt;y&gt;'
out_has http '</html>'

# ---- a Python server records the request ----
echo "client_options: --http sends Host with the port, User-Agent and Connection: close"
start_peer req http
client req $trust --quiet --http '/a/b?c=1' "127.0.0.1:$peer_port" </dev/null
rc_is req 0
printf 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n' >"$tmp/req.want"
cmp -s "$tmp/req.want" "$tmp/req.out" || fail "req: stdout is not the whole response: $(cat "$tmp/req.out")"
tr -d '\r' <"$tmp/req.req" >"$tmp/req.txt"
version=$("$mica" version 2>/dev/null | sed -n 's/^mica \([0-9][^ ]*\).*/\1/p' | head -n 1)
for want in '^GET /a/b\?c=1 HTTP/1\.1$' "^Host: localhost:$peer_port\$" \
    "^User-Agent: mica/${version:-[0-9]}" '^Connection: close$'; do
    grep -Eq "$want" "$tmp/req.txt" || fail "req: no /$want/ in the request: $(cat "$tmp/req.txt")"
done

echo "client_options: a response cut off without close_notify exits 3"
start_peer trunc trunc
client trunc $trust --quiet --http / "127.0.0.1:$peer_port" </dev/null
rc_is trunc 3
err_has trunc '^mica: .*close_notify'

# ---- exit status 3: the network ----
echo "client_options: closed during the handshake, refused, unresolvable: exit 3"
start_peer closed close
client closed $trust "127.0.0.1:$peer_port" </dev/null
rc_is closed 3
err_has closed '^mica: .'
# a port nobody listens on: the last one the helper used, now closed
sleep 0.2
client refused $trust "127.0.0.1:$peer_port" </dev/null
rc_is refused 3
err_has refused '^mica: cannot connect to 127\.0\.0\.1:[0-9]+: '
client unres --connect-timeout 5 nosuchhost.invalid:443 </dev/null
rc_is unres 3
err_has unres '^mica: cannot resolve nosuchhost\.invalid:443: '

echo "client_options: --connect-timeout (a full accept queue)"
start_peer backlog backlog
start=$(date +%s)
client ctimeout $trust --connect-timeout 1 --timeout 1 "127.0.0.1:$peer_port" </dev/null
took=$(($(date +%s) - start))
rc_is ctimeout 3
err_has ctimeout '^mica: cannot connect to 127\.0\.0\.1:[0-9]+: no answer within 1 second \(--connect-timeout\)$'
[ $took -le 5 ] || fail "--connect-timeout 1 took $took s"

echo "client_options: --timeout (no ServerHello; an echo server with nothing to say)"
start_peer silent silent
start=$(date +%s)
client timeout $trust --timeout 1 "127.0.0.1:$peer_port" </dev/null
took=$(($(date +%s) - start))
rc_is timeout 3
err_has timeout '^mica: the handshake did not finish: the server sent nothing for 1 second \(--timeout\)$'
[ $took -le 5 ] || fail "--timeout 1 took $took s"
start_server echo 127.0.0.1 --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
    --echo || exit 1
client idle $trust --timeout 1 "127.0.0.1:$srv_port" <>"$tmp/fifo"
rc_is idle 3
err_has idle '^verification: ok$'
err_has idle '^mica: waiting for data: the server sent nothing for 1 second \(--timeout\)$'
printf 'hi\n' | client echo $trust --quiet --timeout 5 "127.0.0.1:$srv_port"
rc_is echo 0
[ "$(cat "$tmp/echo.out")" = hi ] || fail "echo with --timeout: got '$(cat "$tmp/echo.out")'"

# ---- IPv6 ----
if start_server www6 '[::1]' --cert "$certs/ecdsa-p256.chain.pem" \
    --key "$certs/ecdsa-p256.key" --www 2>/dev/null; then
    echo "client_options: IPv6: [::1]:$srv_port, -6 and -4"
    client v6 --cafile "$certs/ca.pem" --brief --http / "[::1]:$srv_port" </dev/null
    rc_is v6 0
    out_has v6 '^HTTP/1\.1 200 OK$'
    out_has v6 '::1'
    client v6only $trust -6 --brief --http / "[::1]:$srv_port" </dev/null
    rc_is v6only 0
    client v4only $trust -4 "[::1]:$srv_port" </dev/null
    rc_is v4only 3
    err_has v4only '^mica: cannot resolve \[::1\]:[0-9]+ \(-4\): '
else
    echo "client_options: ::1 is not available; skipping IPv6"
fi

if [ $bad -ne 0 ]; then
    exit 1
fi
echo "client_options: ok"
exit 0
