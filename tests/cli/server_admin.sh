#!/bin/sh
# server_admin.sh <mica>: running mica server as an operator does.
#
#   - --config FILE: settings one per line (the flags' names without --), comments, the
#     command line after it winning; an unknown setting, a missing value and a value after
#     a flag are refused with FILE:LINE; two --cert/--key pairs: a client that accepts
#     only RSA-PSS gets the RSA chain, others the ECDSA one
#   - SIGHUP: new certificate files are served to new connections, a session made before
#     the reload still resumes after it, and a broken file leaves the running certificates
#   - --workers 2: two processes listen (two lines), connections and resumptions work
#     across them, SIGHUP and SIGTERM reach both, and the server exits 0
#
# mica server listens on 127.0.0.1 only, on ports 33000 + 4 * ($$ % 700) and up, moved up
# by 7 when in use, and is stopped on exit. Exits 1 on any failure, 77 without openssl.
unset SSLKEYLOGFILE
set -u

if [ $# -ne 1 ]; then
    echo "usage: server_admin.sh <path-to-mica-binary>" >&2
    exit 2
fi
mica=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
certs="$top/tests/vectors/certs"
port=$((33000 + 4 * ($$ % 700)))
command -v openssl >/dev/null 2>&1 || {
    echo "server_admin: SKIP: openssl is needed"
    exit 77
}
me=server_admin
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
make_tmp
use_timeout 20

# start NAME WANT ARGS...: mica server ARGS on 127.0.0.1:$port (--accept is added) until
# WANT lines say "listening on"; sets srv_pid, srv_port, srv_log
start() {
    srv_log=$tmp/$1.log
    want=$2
    shift 2
    spawn_server -n "$want" "$srv_log" 'listening on' \
        "$mica" server --accept 127.0.0.1:@PORT@ "$@" || {
        fail "cannot start mica server $*: $(cat "$srv_log")"
        return 1
    }
}
# stop: SIGTERM; the server must exit 0
stop() {
    kill "$srv_pid" 2>/dev/null
    wait "$srv_pid"
    st=$?
    [ "$st" = 0 ] || fail "mica server ${srv_log##*/} exited $st after SIGTERM"
}
# brief ARGS...: mica client --brief's line against the server
brief() {
    $to "$mica" client --cafile "$certs/ca.pem" --servername localhost --brief "$@" \
        "127.0.0.1:$srv_port" </dev/null 2>&1 | head -n 1
}

# --- --config ---------------------------------------------------------------------------
cat >"$tmp/good.conf" <<EOF
# two chains: ECDSA first, RSA second
cert $certs/ecdsa-p256.chain.pem
key $certs/ecdsa-p256.key
cert $certs/rsa2048.chain.pem   # for clients that take RSA-PSS only
key  $certs/rsa2048.key

www
hsts 120
tickets 3
EOF
if start config 1 --config "$tmp/good.conf" --hsts 60; then
    line=$(brief)
    case $line in
    *ecdsa_secp256r1_sha256*) ;;
    *) fail "--config: the first chain: $line" ;;
    esac
    printf 'GET / HTTP/1.0\r\n\r\n' | $to openssl s_client -connect "127.0.0.1:$srv_port" \
        -servername localhost -CAfile "$certs/ca.pem" -sigalgs rsa_pss_rsae_sha256 -ign_eof \
        >"$tmp/rsa.out" 2>&1
    grep -q '^Peer signature type: RSA-PSS' "$tmp/rsa.out" ||
        fail "--config: a client that takes RSA-PSS only did not get the RSA chain"
    grep -q '^Strict-Transport-Security: max-age=60' "$tmp/rsa.out" ||
        fail "--config: the command line's --hsts 60 did not win over the file's 120"
    grep -q '^HTTP/1.1 200 OK' "$tmp/rsa.out" || fail "--config: www from the file"
    stop
fi
printf '# ok\nwww\nbogus 1\n' >"$tmp/bad1.conf"
printf 'cert\n' >"$tmp/bad2.conf"
printf 'www yes\n' >"$tmp/bad3.conf"
for c in "bad1.conf:3: unknown setting 'bogus'" "bad2.conf:1: a value is missing after 'cert'" \
    "bad3.conf:1: no value may follow 'www'"; do
    f=${c%%:*}
    "$mica" server --config "$tmp/$f" >/dev/null 2>"$tmp/err"
    rc=$?
    [ $rc = 2 ] || fail "--config $f: exit $rc, want 2"
    grep -qF "$c" "$tmp/err" || fail "--config $f: no '$c' in: $(cat "$tmp/err")"
done
"$mica" server --config "$tmp/none.conf" >/dev/null 2>"$tmp/err"
[ $? = 2 ] && grep -q 'none.conf: No such file' "$tmp/err" ||
    fail "--config with a missing file: $(cat "$tmp/err")"

# --- SIGHUP -------------------------------------------------------------------------------
cp "$certs/ecdsa-p256.chain.pem" "$tmp/cur.pem"
cp "$certs/ecdsa-p256.key" "$tmp/cur.key"
if start hup 1 --cert "$tmp/cur.pem" --key "$tmp/cur.key" --www; then
    $to "$mica" client --cafile "$certs/ca.pem" --servername localhost -q \
        --sess-out "$tmp/sess" "127.0.0.1:$srv_port" </dev/null 2>/dev/null
    cp "$certs/rsa2048.chain.pem" "$tmp/cur.pem"
    cp "$certs/rsa2048.key" "$tmp/cur.key"
    kill -HUP "$srv_pid"
    await "$srv_log" 'SIGHUP: reloaded'
    line=$(brief)
    case $line in
    *rsa_pss_rsae_sha256*) ;;
    *) fail "SIGHUP: the new certificate is not served: $line" ;;
    esac
    line=$(brief --sess-in "$tmp/sess")
    case $line in
    *resumed*) ;;
    *) fail "SIGHUP: a session from before the reload did not resume: $line" ;;
    esac
    echo broken >"$tmp/cur.pem"
    kill -HUP "$srv_pid"
    await "$srv_log" 'not reloaded'
    grep -q 'SIGHUP: not reloaded; still serving the previous certificates' "$srv_log" ||
        fail "SIGHUP with a broken file: $(cat "$srv_log")"
    line=$(brief)
    case $line in
    *rsa_pss_rsae_sha256*verified*) ;;
    *) fail "SIGHUP with a broken file: the running certificate is gone: $line" ;;
    esac
    stop
fi

# --- --workers ---------------------------------------------------------------------------
if start workers 2 --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" --www \
    --workers 2 --early-data 16384; then
    [ "$(grep -c 'listening on .*worker' "$srv_log")" = 2 ] ||
        fail "--workers 2: $(cat "$srv_log")"
    printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n' >"$tmp/req"
    $to "$mica" client --cafile "$certs/ca.pem" --servername localhost --reconnect 5 \
        --early-data "$tmp/req" -q "127.0.0.1:$srv_port" 2>"$tmp/rc.err"
    grep -q '^5 of 6 connections resumed, 5 with early data accepted' "$tmp/rc.err" ||
        fail "--workers 2: resumption and 0-RTT across the workers: $(cat "$tmp/rc.err")"
    kill -HUP "$srv_pid"
    await "$srv_log" 'SIGHUP: reloaded' 2
    [ "$(grep -c 'SIGHUP: reloaded' "$srv_log")" = 2 ] ||
        fail "--workers 2: SIGHUP did not reach both workers: $(cat "$srv_log")"
    stop
    [ "$(grep -c 'stopping' "$srv_log")" = 2 ] ||
        fail "--workers 2: SIGTERM did not stop both workers: $(cat "$srv_log")"
fi

if [ $bad = 0 ]; then
    echo "server_admin: ok"
fi
exit $bad
