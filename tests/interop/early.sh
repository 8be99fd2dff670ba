#!/bin/sh
# early.sh <mica> [port]: 0-RTT early data (RFC 8446 section 4.2.10, 425 Too Early of
# RFC 8470) between mica and real peers, over sockets on 127.0.0.1.
#
#   1. openssl s_client -sess_out, then -sess_in -early_data -> mica server --www
#      --early-data: "Reused, TLSv1.3", "Early data was accepted", a 200 page with the row
#      "early data: accepted: this request came in 0-RTT"; the access log says resumed=yes
#      early_data=accepted.
#   2. gnutls-cli --resume --earlydata -> mica server (skipped when gnutls-cli is not
#      installed): "This is a resumed session", the early-data row, and resumed=yes
#      early_data=accepted in the access log.
#   3. mica client --sess-out, then --sess-in --early-data -> openssl s_server -early_data:
#      "early data: accepted (36 bytes in 0-RTT)", and s_server printed "Early data
#      received" and the request.
#   4. A POST in early data -> mica server --www: "HTTP/1.1 425 Too Early", no page.
#   5. Replay (needs python3, else skipped): replay_proxy.py records the first flight of
#      mica client --sess-in --early-data (ClientHello + early data) on its way to mica
#      server and sends it again on a new connection. With anti-replay (the default) the
#      access log has the genuine connection with early_data=accepted and the replay with
#      early_data=rejected: its early data is never accepted twice. With --anti-replay off
#      (which warns on stderr) the replay's early data IS accepted a second time: the
#      request would run twice, which is exactly the hole anti-replay closes.
#   6. mica server --session-cache 10 (single-use tickets): a session resumes once; the
#      second offer of the same session is a full handshake (resumed: no, access log
#      resumed=no), and early data offered with it is rejected and sent again in 1-RTT.
#   7. mica client --reconnect 2 --early-data -> mica server: connection 1 a full handshake
#      whose answer comes after 2 round trips, connections 2 and 3 resumed with early data
#      accepted and the answer after 1 round trip; "2 with early data accepted".
#
# Uses tests/vectors/certs (ECDSA P-256 leaf for localhost). Ports: [port] (default
# 50000 + 4 * ($$ % 1000)) and up, moved up by 7 when in use; replay_proxy.py listens on
# a port the kernel chooses. Every server runs under timeout when it is installed and is
# stopped on exit; every client runs under timeout.
#
# Exit status: 0 all pass, 1 any failure, 2 bad usage, 77 (skip) without openssl.
unset SSLKEYLOGFILE
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: early.sh <path-to-mica-binary> [port]" >&2
    exit 2
fi
mica=$1
port=${2:-$((50000 + 4 * ($$ % 1000)))}
here=$(cd "$(dirname "$0")" && pwd)
certs=$here/../vectors/certs
ca=$certs/ca.pem

if [ ! -x "$mica" ]; then
    echo "early: $mica is not an executable" >&2
    exit 2
fi
command -v openssl >/dev/null 2>&1 || {
    echo "early: SKIP: openssl is needed"
    exit 77
}
me=early
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
make_tmp
use_timeout 10 60

# count FILE ERE N WHAT: FILE has exactly N lines matching ERE
count() {
    got=$(grep -Ec -- "$2" "$1")
    [ "$got" = "$3" ] || fail "$4: $got lines /$2/ in ${1##*/}, want $3:$(excerpt "$1")"
}

# start NAME ARGS...: mica server --www --early-data 16384 on 127.0.0.1:$port with an
# access log in $tmp/NAME.access; stderr in $tmp/NAME.log. Sets srv_pid, srv_port, acc,
# srv_log.
start() {
    name=$1
    shift
    acc=$tmp/$name.access
    srv_log=$tmp/$name.log
    spawn_server "$srv_log" 'listening on' "$mica" server \
        --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
        --accept 127.0.0.1:@PORT@ --www --early-data 16384 --access-log "$acc" "$@" || {
        echo "early: cannot start mica server $name:$(excerpt "$srv_log")" >&2
        exit 1
    }
}
# nlines FILE: its number of lines (0 when it does not exist)
nlines() {
    if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi
}
# mark ACC: the next new_lines reads ACC's lines from here on
mark() {
    mark_acc=$1
    mark_at=$(nlines "$1")
}
# new_lines NAME N: wait (at most 5 s) until N lines have been added to the marked
# access log (a connection's line is written when it ends), copy them to $tmp/NAME.lines
# and mark again; fail when there are not N
new_lines() {
    i=0
    while [ "$(nlines "$mark_acc")" -lt $((mark_at + $2)) ] && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    sed -n "$((mark_at + 1)),\$p" "$mark_acc" >"$tmp/$1.lines"
    got=$(nlines "$tmp/$1.lines")
    [ "$got" = "$2" ] ||
        fail "$c $1: $got new access log lines, want $2:$(excerpt "$tmp/$1.lines")"
    mark "$mark_acc"
}
# mclient NAME ARGS...: mica client --cafile CA ARGS </dev/null; stdout in $tmp/NAME.out,
# stderr in $tmp/NAME.err; it must exit 0 (failures name the case: $c)
mclient() {
    n=$1
    shift
    $to "$mica" client --cafile "$ca" "$@" </dev/null >"$tmp/$n.out" 2>"$tmp/$n.err"
    rc=$?
    [ $rc = 0 ] || fail "$c $n: mica client exited $rc:$(excerpt "$tmp/$n.err")"
}

hdr='^time=[^ ]+ client=127\.0\.0\.1:[0-9]+ sni=localhost version=TLSv1\.3 cipher=TLS_[A-Z0-9_]+ group=[A-Za-z0-9]+ hrr=no'
tail_ok='handshake_ms=[0-9]+\.[0-9] result=ok$'
full="$hdr sig=ecdsa_secp256r1_sha256 alpn=none resumed=no early_data=none $tail_ok"
resumed="$hdr sig=none alpn=none resumed=yes early_data=none $tail_ok"
accepted="$hdr sig=none alpn=none resumed=yes early_data=accepted $tail_ok"
row='^<tr><th>early data</th><td>accepted: this request came in 0-RTT</td></tr>$'
printf 'GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n' >"$tmp/req.txt"
printf 'POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n' >"$tmp/post.txt"

c=""
start main
m_pid=$srv_pid
m_port=$srv_port
m_acc=$acc
m_log=$srv_log
mark "$m_acc"

# ---- 1. openssl s_client -sess_out, then -sess_in -early_data ---------------------------
c="1."
echo "early: 1. openssl s_client -sess_out / -sess_in -early_data -> mica server"
# -ign_eof: s_client reads until the server closes, so the tickets (sent before the page)
# have arrived when -sess_out writes the session
$to openssl s_client -connect "127.0.0.1:$m_port" -servername localhost -CAfile "$ca" \
    -verify_return_error -tls1_3 -sess_out "$tmp/ossl.sess" -ign_eof \
    <"$tmp/req.txt" >"$tmp/ossl1.out" 2>"$tmp/ossl1.err"
rc=$?
[ $rc = 0 ] || fail "1. first s_client exited $rc:$(excerpt "$tmp/ossl1.err")"
[ -s "$tmp/ossl.sess" ] || fail "1. s_client -sess_out saved no session"
new_lines ossl1 1
$to openssl s_client -connect "127.0.0.1:$m_port" -servername localhost -CAfile "$ca" \
    -verify_return_error -tls1_3 -sess_in "$tmp/ossl.sess" -early_data "$tmp/req.txt" \
    -ign_eof </dev/null >"$tmp/ossl2.out" 2>"$tmp/ossl2.err"
rc=$?
[ $rc = 0 ] || fail "1. s_client -early_data exited $rc:$(excerpt "$tmp/ossl2.err")"
has "$tmp/ossl2.out" '^Reused, TLSv1\.3, Cipher is TLS_' "1. s_client -sess_in (resumed)"
has "$tmp/ossl2.out" '^Early data was accepted' "1. s_client -early_data"
has "$tmp/ossl2.out" '^HTTP/1\.1 200 OK' "1. s_client -early_data: the page"
has "$tmp/ossl2.out" "$row" "1. s_client -early_data: the page's early-data row"
new_lines ossl2 1
has "$tmp/ossl1.lines" "$full" "1. access log: s_client's full handshake"
has "$tmp/ossl2.lines" "$accepted" "1. access log: s_client's 0-RTT request"

# ---- 2. gnutls-cli --resume --earlydata ---------------------------------------------------
if command -v gnutls-cli >/dev/null 2>&1; then
    c="2."
    echo "early: 2. gnutls-cli --resume --earlydata -> mica server"
    # --waitresumption (where it exists): wait for the ticket of TLS 1.3 before the
    # first connection ends
    wait_opt=""
    gnutls-cli --help 2>&1 | grep -q -- '--waitresumption' && wait_opt=--waitresumption
    # shellcheck disable=SC2086
    $to gnutls-cli --resume $wait_opt --earlydata="$tmp/req.txt" --x509cafile "$ca" \
        -p "$m_port" localhost </dev/null >"$tmp/gnutls.out" 2>&1
    rc=$?
    [ $rc = 0 ] || fail "2. gnutls-cli exited $rc:$(excerpt "$tmp/gnutls.out")"
    has "$tmp/gnutls.out" 'This is a resumed session' "2. gnutls-cli --resume"
    has "$tmp/gnutls.out" '^HTTP/1\.1 200 OK' "2. gnutls-cli --earlydata: the page"
    has "$tmp/gnutls.out" "$row" "2. gnutls-cli --earlydata: the page's early-data row"
    new_lines gnutls 2
    sed -n 1p "$tmp/gnutls.lines" | grep -Eq -- "$full" ||
        fail "2. access log: gnutls-cli's first connection is not a full handshake:$(excerpt "$tmp/gnutls.lines")"
    sed -n 2p "$tmp/gnutls.lines" | grep -Eq -- "$accepted" ||
        fail "2. access log: gnutls-cli's second connection is not resumed with early data accepted:$(excerpt "$tmp/gnutls.lines")"
else
    echo "early: 2. SKIP: gnutls-cli is not installed"
fi

# ---- 3. mica client -> openssl s_server -early_data -------------------------------------
# s_server cannot combine -www with -early_data; it echoes what it receives on stdout and
# would end at the end of its standard input, so that is a FIFO held open by a sleep
c="3."
echo "early: 3. mica client --sess-in --early-data -> openssl s_server -early_data"
fifo=$tmp/s_server.in
mkfifo "$fifo" || exit 1
slog=$tmp/s_server.log
sleep 60 >"$fifo" 2>/dev/null &
feed_pid=$!
pids="$pids $feed_pid"
if spawn_server -a -i "$fifo" "$slog" '^ACCEPT' openssl s_server -accept 127.0.0.1:@PORT@ \
    -tls1_3 -early_data -num_tickets 2 -cert "$certs/ecdsa-p256.crt" \
    -key "$certs/ecdsa-p256.key" -cert_chain "$ca"; then
    peer_pid=$srv_pid
    peer_port=$srv_port
else
    kill "$feed_pid" 2>/dev/null
    rm_pid "$feed_pid"
    peer_port=""
    fail "3. cannot start openssl s_server:$(excerpt "$slog")"
fi
if [ -n "$peer_port" ]; then
    mclient ossl-srv1 --sess-out "$tmp/ossl-srv.sess" "localhost:$peer_port"
    [ -s "$tmp/ossl-srv.sess" ] || fail "3. mica client --sess-out saved no session"
    mclient ossl-srv2 --sess-in "$tmp/ossl-srv.sess" --early-data "$tmp/req.txt" \
        "localhost:$peer_port"
    has "$tmp/ossl-srv2.err" '^resumed: yes' "3. mica client --sess-in -> s_server"
    has "$tmp/ossl-srv2.err" '^early data: accepted \(36 bytes in 0-RTT\)$' \
        "3. mica client --early-data -> s_server"
    await "$slog" '^Early data received'
    await "$slog" '^GET /x HTTP/1\.1'
    has "$slog" '^Early data received' "3. s_server -early_data"
    has "$slog" '^GET /x HTTP/1\.1' "3. s_server -early_data: the request"
    kill "$peer_pid" "$feed_pid" 2>/dev/null
    wait "$peer_pid" "$feed_pid" 2>/dev/null
    rm_pid "$peer_pid"
    rm_pid "$feed_pid"
fi

# ---- 4. a POST in early data: 425 Too Early ----------------------------------------------
c="4."
echo "early: 4. mica client --early-data with a POST -> mica server: 425 Too Early"
mclient post1 --sess-out "$tmp/post.sess" "localhost:$m_port"
mclient post2 --sess-in "$tmp/post.sess" --early-data "$tmp/post.txt" "localhost:$m_port"
has "$tmp/post2.err" '^early data: accepted \(56 bytes in 0-RTT\)$' "4. the POST in 0-RTT"
has "$tmp/post2.out" '^HTTP/1\.1 425 Too Early' "4. the answer to a POST in 0-RTT"
hasnt "$tmp/post2.out" '200 OK|<html' "4. the answer to a POST in 0-RTT"
new_lines post 2
sed -n 2p "$tmp/post.lines" | grep -Eq -- "$accepted" ||
    fail "4. access log: the POST's connection is not resumed with early data accepted:$(excerpt "$tmp/post.lines")"

# ---- 5. replay of a recorded 0-RTT flight -------------------------------------------------
# replay NAME PORT ACC: a fresh session from 127.0.0.1:PORT, then mica client --sess-in
# --early-data through replay_proxy.py, which replays its first flight; NAME.lines gets
# the access log lines of the genuine connection and of the replay
replay() {
    mark "$3"
    mclient "$1-sess" --sess-out "$tmp/$1.sess" "localhost:$2"
    new_lines "$1-sess" 1
    $to python3 "$here/replay_proxy.py" 127.0.0.1 "$2" >"$tmp/$1.port" 2>"$tmp/$1.proxy" &
    proxy_pid=$!
    pids="$pids $proxy_pid"
    await "$tmp/$1.port" '^[0-9]+$'
    pport=$(sed -n 1p "$tmp/$1.port")
    if [ -z "$pport" ]; then
        fail "5. $1: replay_proxy.py did not start:$(excerpt "$tmp/$1.proxy")"
        return 1
    fi
    mclient "$1" --servername localhost --sess-in "$tmp/$1.sess" \
        --early-data "$tmp/req.txt" "127.0.0.1:$pport"
    has "$tmp/$1.err" '^early data: accepted \(36 bytes in 0-RTT\)$' \
        "5. $1: the genuine client's early data"
    has "$tmp/$1.out" "$row" "5. $1: the genuine client's page"
    wait "$proxy_pid"
    rc=$?
    rm_pid "$proxy_pid"
    [ $rc = 0 ] || fail "5. $1: replay_proxy.py exited $rc:$(excerpt "$tmp/$1.proxy")"
    has "$tmp/$1.proxy" '^replay_proxy: replayed [1-9][0-9]* bytes' "5. $1: the replay"
    new_lines "$1" 2
    sed -n 1p "$tmp/$1.lines" | grep -Eq -- "$accepted" ||
        fail "5. $1: access log: the genuine connection is not resumed with early data accepted:$(excerpt "$tmp/$1.lines")"
}
if command -v python3 >/dev/null 2>&1; then
    c="5."
    echo "early: 5. a replayed ClientHello + early data -> mica server (anti-replay on)"
    if replay replay "$m_port" "$m_acc"; then
        # the replayed hello may resume or fail, but its early data is refused
        sed -n 2p "$tmp/replay.lines" | grep -Eq -- ' early_data=rejected ' ||
            fail "5. anti-replay: the replayed flight's line does not say early_data=rejected:$(excerpt "$tmp/replay.lines")"
        count "$tmp/replay.lines" ' early_data=accepted ' 1 \
            "5. anti-replay: early data accepted more than once"
    fi

    echo "early: 5. the same -> mica server --anti-replay off (the replay succeeds)"
    start noreplay --anti-replay off
    has "$srv_log" '^mica server: warning: --anti-replay off' \
        "5. --anti-replay off: the warning on stderr"
    if replay noreplay "$srv_port" "$acc"; then
        # without anti-replay the replayed early data is accepted again: a request that
        # is not safe to repeat would run twice
        sed -n 2p "$tmp/noreplay.lines" | grep -Eq -- ' resumed=yes early_data=accepted ' ||
            fail "5. --anti-replay off: the replayed flight's early data was not accepted:$(excerpt "$tmp/noreplay.lines")"
    fi
    stop_server "$srv_pid" "$srv_log"
else
    echo "early: 5. SKIP: python3 is not installed"
fi

# ---- 6. --session-cache: single-use tickets ----------------------------------------------
c="6."
echo "early: 6. mica server --session-cache 10: a session resumes once"
start cache --session-cache 10
mark "$acc"
mclient cache0 --sess-out "$tmp/cache.sess" "localhost:$srv_port"
new_lines cache0 1
mclient cache1 --sess-in "$tmp/cache.sess" "localhost:$srv_port"
has "$tmp/cache1.err" '^resumed: yes' "6. the first use of the session"
new_lines cache1 1
mclient cache2 --sess-in "$tmp/cache.sess" "localhost:$srv_port"
has "$tmp/cache2.err" '^resumed: no$' "6. the second use of the session (a full handshake)"
new_lines cache2 1
# early data offered with a used session: rejected, the request goes again in 1-RTT
mclient cache3 --sess-in "$tmp/cache.sess" --early-data "$tmp/req.txt" "localhost:$srv_port"
has "$tmp/cache3.err" '^resumed: no$' "6. the third use of the session, with early data"
has "$tmp/cache3.err" '^early data: rejected by the server' \
    "6. early data offered with a used session"
has "$tmp/cache3.out" '^HTTP/1\.1 200 OK' "6. the request after the rejected early data"
has "$tmp/cache3.out" '^<tr><th>early data</th><td>rejected</td></tr>$' \
    "6. the page after the rejected early data"
new_lines cache3 1
has "$tmp/cache0.lines" "$full" "6. access log: the full handshake"
has "$tmp/cache1.lines" "$resumed" "6. access log: the first use"
has "$tmp/cache2.lines" "$full" "6. access log: the second use (resumed=no)"
has "$tmp/cache3.lines" "$hdr sig=ecdsa_secp256r1_sha256 alpn=none resumed=no early_data=rejected $tail_ok" \
    "6. access log: the third use, with early data"
stop_server "$srv_pid" "$srv_log"

# ---- 7. mica client --reconnect 2 --early-data --------------------------------------------
c="7."
echo "early: 7. mica client --reconnect 2 --early-data -> mica server"
mark "$m_acc"
mclient reconnect --reconnect 2 --early-data "$tmp/req.txt" --quiet "localhost:$m_port"
r=$tmp/reconnect.err
has "$r" '^connection 1: full handshake, 1 round trip, .*early data: not sent, first byte of the answer after 2 round trips \(' \
    "7. connection 1"
for k in 2 3; do
    has "$r" "^connection $k: resumed, 1 round trip, .*early data: accepted, first byte of the answer after 1 round trip \\(" \
        "7. connection $k"
done
has "$r" '^2 of 3 connections resumed, 2 with early data accepted$' "7. the summary"
new_lines reconnect 3
count "$tmp/reconnect.lines" "$full" 1 "7. access log: full handshakes"
count "$tmp/reconnect.lines" "$accepted" 2 "7. access log: resumed with early data accepted"

stop_server "$m_pid" "$m_log"

if [ $bad = 0 ]; then
    echo "early: ok"
fi
exit $bad
