#!/bin/sh
# resume.sh <mica> [port]: session resumption (stateless tickets, psk_dhe_ke) between
# mica server and real clients, over sockets on 127.0.0.1.
#
#   1. mica server (default: 2 tickets) and openssl s_client: the first connection saves
#      a session (-sess_out) after a full handshake and gets exactly 2 NewSessionTickets;
#      the second offers it (-sess_in) and is "Reused, TLSv1.3". The access log says
#      resumed=no, then resumed=yes (sig=none: no certificate); the --www page, the
#      --trace narration and the --trace-dir report (JSON "resumed") agree.
#   2. gnutls-cli --resume (two connections; skipped when gnutls-cli is not installed):
#      "This is a resumed session", and resumed=no then resumed=yes in the access log.
#   3. mica server --tickets 5: 5 NewSessionTickets after a full handshake.
#   4. mica server --no-tickets: no NewSessionTicket and no session saved; s_client
#      -sess_in with the session from 1. is "New, TLSv1.3" (a full handshake) and the
#      access log says resumed=no.
#   5. mica client --reconnect 2 against openssl s_server and gnutls-serv (skipped when
#      not installed): a full handshake, then two resumed ones.
#
# Uses tests/vectors/certs (ECDSA P-256 leaf for localhost). Ports: [port] (default
# 36000 + 4 * ($$ % 1000)), moved up by 7 when in use. Every server runs under timeout
# when it is installed and is stopped on exit; every client runs under timeout.
#
# Exit status: 0 all pass, 1 any failure, 2 bad usage, 77 (skip) without openssl.
unset SSLKEYLOGFILE
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: resume.sh <path-to-mica-binary> [port]" >&2
    exit 2
fi
mica=$1
port=${2:-$((36000 + 4 * ($$ % 1000)))}
here=$(cd "$(dirname "$0")" && pwd)
certs=$here/../vectors/certs
ca=$certs/ca.pem

if [ ! -x "$mica" ]; then
    echo "resume: $mica is not an executable" >&2
    exit 2
fi
command -v openssl >/dev/null 2>&1 || {
    echo "resume: SKIP: openssl is needed"
    exit 77
}
me=resume
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
make_tmp
use_timeout 10 100

# start NAME ARGS...: mica server --www on 127.0.0.1:$port with an access log in
# $tmp/NAME.access; stderr in $tmp/NAME.log. Sets srv_pid, srv_port, acc, srv_log.
start() {
    acc=$tmp/$1.access
    srv_log=$tmp/$1.log
    shift
    spawn_server "$srv_log" 'listening on' "$mica" server \
        --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
        --accept 127.0.0.1:@PORT@ --www --access-log "$acc" "$@" || {
        echo "resume: cannot start mica server:$(excerpt "$srv_log")" >&2
        exit 1
    }
}
# stop: SIGTERM to the server; it must exit 0 with no sanitizer report
stop() {
    stop_server "$srv_pid" "$srv_log"
}
# wait_lines N: until the access log has N lines (a connection's line is written when it
# ends, so the next client starts only after it), at most 5 s
wait_lines() {
    i=0
    while [ "$(wc -l <"$acc")" -lt "$1" ] && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
}
# line N ERE WHAT: line N of the access log matches ERE
line() {
    sed -n "${1}p" "$acc" | grep -Eq -- "$2" ||
        fail "$3: access log line $1 does not match /$2/:$(excerpt "$acc")"
}
# sclient NAME ARGS...: openssl s_client to the current server, one HTTP/1.0 request;
# -ign_eof keeps it reading until the server closes, so every NewSessionTicket (sent
# before the page) has arrived when it exits. Output in $tmp/NAME.{out,err}; NAME.sum holds
# its telling lines (the session summary and the page's table), for the checks.
sclient() {
    n=$1
    shift
    printf 'GET / HTTP/1.0\r\n\r\n' | $to openssl s_client -connect "127.0.0.1:$srv_port" \
        -servername localhost -CAfile "$ca" -verify_return_error -tls1_3 -ign_eof -msg \
        "$@" >"$tmp/$n.out" 2>"$tmp/$n.err"
    rc=$?
    [ $rc = 0 ] || fail "$n: s_client exited $rc:$(excerpt "$tmp/$n.err")"
    grep -E '^(New|Reused),|^Verify return code|^ *(Protocol|Cipher) *:|<tr>|rror' \
        "$tmp/$n.out" >"$tmp/$n.sum"
}
# tickets NAME N: s_client NAME received N NewSessionTickets (-msg: "<<< ... NewSessionTicket")
tickets() {
    got=$(grep -c '^<<< .*NewSessionTicket' "$tmp/$1.out")
    [ "$got" = "$2" ] || fail "$1: $got NewSessionTicket messages, want $2"
}
hdr='^time=[^ ]+ client=127\.0\.0\.1:[0-9]+ sni=localhost version=TLSv1\.3 cipher=TLS_[A-Z0-9_]+ group=[a-z0-9]+ hrr=no'
full="$hdr sig=ecdsa_secp256r1_sha256 alpn=none resumed=no early_data=none handshake_ms=[0-9]+\\.[0-9] result=ok\$"
resumed="$hdr sig=none alpn=none resumed=yes early_data=none handshake_ms=[0-9]+\\.[0-9] result=ok\$"

# ---- 1. openssl s_client -sess_out, then -sess_in --------------------------------------
echo "resume: 1. openssl s_client -sess_out / -sess_in -> mica server (default tickets)"
mkdir "$tmp/traces"
start t2 --trace --trace-dir "$tmp/traces"
sclient ossl-first -sess_out "$tmp/sess.pem"
has "$tmp/ossl-first.sum" '^New, TLSv1\.3, Cipher is TLS_' "first s_client (full handshake)"
has "$tmp/ossl-first.sum" '^Verify return code: 0 \(ok\)$' "first s_client"
has "$tmp/ossl-first.sum" '<tr><th>resumed</th><td>no</td></tr>' "first --www page"
tickets ossl-first 2
[ -s "$tmp/sess.pem" ] || fail "s_client -sess_out saved no session"
wait_lines 1
sclient ossl-second -sess_in "$tmp/sess.pem"
has "$tmp/ossl-second.sum" '^Reused, TLSv1\.3, Cipher is TLS_' "second s_client (resumed)"
has "$tmp/ossl-second.sum" '<tr><th>resumed</th><td>yes' "second --www page"
has "$tmp/ossl-second.sum" '<tr><th>signature scheme</th><td>none' "second --www page"
if grep -q '^<<< .*, Certificate$\|^<<< .*CertificateVerify' "$tmp/ossl-second.out"; then
    fail "the resumed handshake carried a Certificate or CertificateVerify"
fi
wait_lines 2

# ---- 2. gnutls-cli --resume -------------------------------------------------------------
if command -v gnutls-cli >/dev/null 2>&1; then
    echo "resume: 2. gnutls-cli --resume -> mica server"
    # --waitresumption (where it exists): wait for the ticket of TLS 1.3 before the
    # first connection ends
    wait_opt=""
    gnutls-cli --help 2>&1 | grep -q -- '--waitresumption' && wait_opt=--waitresumption
    # shellcheck disable=SC2086
    $to gnutls-cli --resume $wait_opt --x509cafile "$ca" -p "$srv_port" localhost \
        </dev/null >"$tmp/gnutls.out" 2>&1
    rc=$?
    [ $rc = 0 ] || fail "gnutls-cli --resume exited $rc:$(excerpt "$tmp/gnutls.out")"
    has "$tmp/gnutls.out" 'This is a resumed session' "gnutls-cli --resume"
    wait_lines 4
else
    echo "resume: 2. SKIP: gnutls-cli is not installed"
fi
stop

n=$(grep -c '' "$acc")
want=2
command -v gnutls-cli >/dev/null 2>&1 && want=4
[ "$n" = $want ] || fail "the access log has $n lines, want $want:$(excerpt "$acc")"
line 1 "$full" "s_client's full handshake"
line 2 "$resumed" "s_client's resumed handshake"
if [ $want = 4 ]; then
    line 3 "$full" "gnutls-cli's full handshake"
    line 4 "$resumed" "gnutls-cli's resumed handshake"
fi
# --trace narrates the resumption; --trace-dir's reports say "resumed": false, then true
has "$srv_log" '^mica server: 127\.0\.0\.1:[0-9]+: .*the server accepted the ticket: this handshake resumes an earlier session' \
    "--trace narration of the resumed handshake"
has "$srv_log" '^mica server: 127\.0\.0\.1:[0-9]+: +connected after [0-9.]+ ms, resuming an earlier session' \
    "--trace narration of the resumed handshake"
for k in 1 2; do
    set -- "$tmp/traces/$k-127.0.0.1-"*.json
    if [ ! -f "$1" ]; then
        fail "no --trace-dir report for connection $k: $(ls "$tmp/traces")"
        continue
    fi
    if [ $k = 1 ]; then r=false; else r=true; fi
    grep -q "^  \"resumed\": $r,\$" "$1" ||
        fail "the report of connection $k does not say \"resumed\": $r:$(excerpt "$1")"
done

# ---- 3. --tickets 5 -----------------------------------------------------------------------
echo "resume: 3. mica server --tickets 5"
start t5 --tickets 5
sclient ossl-t5
has "$tmp/ossl-t5.sum" '^New, TLSv1\.3, Cipher is TLS_' "s_client"
tickets ossl-t5 5
wait_lines 1
stop
line 1 "$full" "--tickets 5: the full handshake"

# ---- 4. --no-tickets ----------------------------------------------------------------------
echo "resume: 4. mica server --no-tickets"
start t0 --no-tickets
sclient ossl-t0-first -sess_out "$tmp/sess0.pem"
has "$tmp/ossl-t0-first.sum" '^New, TLSv1\.3, Cipher is TLS_' "--no-tickets: s_client"
tickets ossl-t0-first 0
[ -s "$tmp/sess0.pem" ] && fail "--no-tickets: s_client -sess_out saved a session"
wait_lines 1
# the session of 1. (its ticket is all a client could offer): not resumed
sclient ossl-t0-second -sess_in "$tmp/sess.pem"
has "$tmp/ossl-t0-second.sum" '^New, TLSv1\.3, Cipher is TLS_' \
    "--no-tickets: s_client -sess_in (full handshake)"
if grep -q '^Reused' "$tmp/ossl-t0-second.out"; then
    fail "--no-tickets: s_client -sess_in resumed:$(excerpt "$tmp/ossl-t0-second.sum")"
fi
tickets ossl-t0-second 0
wait_lines 2
stop
n=$(grep -c '' "$acc")
[ "$n" = 2 ] || fail "--no-tickets: the access log has $n lines, want 2:$(excerpt "$acc")"
line 1 "$full" "--no-tickets: the first connection"
line 2 "$full" "--no-tickets: the connection that offered a ticket"

# ---- 5. mica client --reconnect against openssl s_server and gnutls-serv -------------------
# start_peer ossl|gnutls: openssl s_server (127.0.0.1, 3 connections) or gnutls-serv --echo
# (which cannot be told to listen on 127.0.0.1 only) on $port, moved up by 7 when in use;
# output in $tmp/ossl-srv.log or $tmp/gnutls-srv.log. Sets peer_pid and peer_port.
start_peer() {
    peer_log=$tmp/$1-srv.log
    if [ "$1" = ossl ]; then
        # s_server says ACCEPT once it listens
        spawn_server -a "$peer_log" '^ACCEPT' \
            openssl s_server -accept 127.0.0.1:@PORT@ -naccept 3 -tls1_3 -rev \
            -cert "$certs/ecdsa-p256.crt" -key "$certs/ecdsa-p256.key" -cert_chain "$ca"
    else
        # gnutls-serv says "listening on" before it binds, and "done" once it listens
        spawn_server -a "$peer_log" 'listening on IPv4 .* port @PORT@\.\.\.done' \
            gnutls-serv --port @PORT@ --echo \
            --x509certfile "$certs/ecdsa-p256.chain.pem" --x509keyfile "$certs/ecdsa-p256.key"
    fi || {
        fail "$1-srv: cannot start:$(excerpt "$peer_log")"
        return 1
    }
    peer_pid=$srv_pid
    peer_port=$srv_port
}
# reconnect NAME: mica client --reconnect 2 against 127.0.0.1:$peer_port, both resumed
reconnect() {
    $to "$mica" client --cafile "$ca" --servername localhost --reconnect 2 -q \
        "127.0.0.1:$peer_port" >/dev/null 2>"$tmp/$1.err"
    rc=$?
    if [ $rc != 0 ]; then
        fail "$1: mica client --reconnect 2 exited $rc:$(excerpt "$tmp/$1.err")"
        # what the peer was doing: whether it still runs, what it printed, who listens
        if lib_exited "$peer_pid"; then
            wait "$peer_pid"
            echo "      the peer (pid $peer_pid) had exited with status $?"
        else
            echo "      the peer (pid $peer_pid) still runs"
        fi
        echo "      its output:$(excerpt "$peer_log")"
        if command -v ss >/dev/null 2>&1; then
            echo "      listening on port $peer_port:"
            ss -ltnp "sport = :$peer_port" 2>&1 | sed 's/^/      | /'
        fi
    fi
    has "$tmp/$1.err" '^connection 1: full handshake, 1 round trip' "$1: connection 1"
    has "$tmp/$1.err" '^connection 2: resumed, 1 round trip' "$1: connection 2"
    has "$tmp/$1.err" '^connection 3: resumed, 1 round trip' "$1: connection 3"
}
echo "resume: 5. mica client --reconnect against openssl s_server"
if start_peer ossl; then
    reconnect ossl-srv
    kill "$peer_pid" 2>/dev/null
fi
if command -v gnutls-serv >/dev/null 2>&1; then
    echo "resume: 5. mica client --reconnect against gnutls-serv"
    if start_peer gnutls; then
        reconnect gnutls-srv
        kill "$peer_pid" 2>/dev/null
    fi
else
    echo "resume: 5. gnutls-serv: not installed, skipped"
fi

if [ $bad = 0 ]; then
    echo "resume: ok"
fi
exit $bad
