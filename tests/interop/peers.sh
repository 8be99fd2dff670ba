#!/bin/sh
# peers.sh <mica> [port]: mica client and mica server against real TLS 1.3 peers, over
# sockets on 127.0.0.1.
#
#   1. mica client  -> openssl s_server -rev   every suite, every group, the six
#                      certificate kinds, a chosen RSA-PSS scheme, HelloRetryRequest, ALPN
#   2. mica client  -> gnutls-serv --echo       suites (CCM and CCM_8 too), groups, HRR,
#                      RSA / EdDSA certificates
#   3. openssl s_client -> mica server --echo   every suite, groups, HRR, certificate kinds,
#                      a chosen RSA-PSS scheme, ALPN, KeyUpdate (K and k) in both directions
#   4. gnutls-cli   -> mica server --echo       suites, groups, HRR, certificates, a rekey
#   5. curl         -> mica server --www        TLS 1.3, suite, group, HSTS; --http1.1 and
#                      ALPN http/1.1; a chosen suite and curve
#   6. python3 ssl  -> mica server --echo, and mica client -> python3 ssl echo server
#                      (tests/interop/py_peer.py)
#
# Every case asserts what both sides say was negotiated (version, suite, group and, where
# the peer shows it, the signature scheme and HelloRetryRequest), that data crossed intact
# both ways and that the connection ended with close_notify. A failure names the case
# and what was seen, and is tagged ENGINE BUG or CLI BUG when mica is at fault.
#
# Ports: [port] and up (default 10000 + 50 * ($$ % 440), below the Linux ephemeral range,
# so parallel runs use different blocks); every server gets the next port, and one that is
# in use moves the rest up by 7, up to 5 times. Servers listen on 127.0.0.1, except
# gnutls-serv, which has no option for it and listens on every interface for the few
# hundred milliseconds of its cases. Every server this script starts runs under timeout
# and is killed on exit; every client runs under timeout.
#
# Exit status: 0 all pass, 1 any failure, 2 bad usage, 77 (skip) when a peer is missing
# (openssl, gnutls-serv, gnutls-cli, curl, python3 with ssl, timeout, mkfifo).
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: peers.sh <path-to-mica-binary> [port]" >&2
    exit 2
fi
mica=$1
port=${2:-$((10000 + 50 * ($$ % 440)))}
here=$(cd "$(dirname "$0")" && pwd)
certs=$here/../vectors/certs
ca=$certs/ca.pem
py_peer=$here/py_peer.py

if [ ! -x "$mica" ]; then
    echo "interop: $mica is not an executable" >&2
    exit 2
fi
missing=""
for tool in openssl gnutls-serv gnutls-cli curl python3 timeout mkfifo awk od; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -z "$missing" ] &&
    ! python3 -c 'import ssl, sys; sys.exit(0 if ssl.HAS_TLSv1_3 else 1)' 2>/dev/null; then
    missing=" python3-ssl-with-TLS1.3"
fi
if [ -n "$missing" ]; then
    echo "interop: SKIP: missing peer(s):$missing"
    exit 77
fi

# excerpt, has, rm_pid, spawn_server; this test has its own fail (per case), hasnt and
# clean-up (which also closes the FIFO of an s_client case)
me=interop
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mica-interop.XXXXXX") || exit 2
cleanup() {
    exec 3>&- 2>/dev/null
    for p in $pids; do
        kill "$p" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

to="timeout 10"      # every client (each needs well under a second)
to_srv="timeout --foreground 100" # every server (they are killed long before)

now_ms() { date +%s%3N 2>/dev/null || echo $(($(date +%s) * 1000)); }
t_start=$(now_ms)
# A mica that hangs must not make the run hang for 10 s per case: past this budget the
# remaining cases are failed without running (a normal run takes about 20 s, 25 s with
# ASan; MICA_INTEROP_BUDGET=seconds changes it).
budget_ms=$((${MICA_INTEROP_BUDGET:-100} * 1000))
over_budget() { [ $(($(now_ms) - t_start)) -gt "$budget_ms" ]; }

# ---- bookkeeping ----
bad=0
npass=0
nfail=0
table=""
cname=""
cfail=0
in_case=0
# case_begin NAME: 1 (and the case failed) when the run is over its time budget
case_begin() {
    cname=$1
    cfail=0
    in_case=1
    t_case=$(now_ms)
    if over_budget; then
        fail "not run: the run is over its time budget of $((budget_ms / 1000)) s"
        return 1
    fi
}
fail() {
    echo "interop: FAIL $cname: $*"
    cfail=1
    bad=1
}
case_end() { # [summary...]
    in_case=0
    ms=$(($(now_ms) - t_case))
    if [ $cfail -eq 0 ]; then
        npass=$((npass + 1))
        echo "interop: PASS $cname (${ms} ms)${1:+: $*}"
    else
        nfail=$((nfail + 1))
        table="$table
  FAIL  $cname"
    fi
}
# hasnt FILE ERE WHAT
hasnt() {
    if grep -Eq -- "$2" "$1"; then
        fail "$3: unexpected line /$2/ in ${1##*/}: $(grep -E -- "$2" "$1" | head -3)"
    fi
}
# sanitizer FILE WHO: no AddressSanitizer / UBSan / LeakSanitizer report in FILE
sanitizer() {
    if grep -Eq 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$1"
    then
        fail "ENGINE BUG: $2: sanitizer report:" \
            "$(grep -E -A8 'ERROR: |runtime error:' "$1" | head -20)"
    fi
}
# wait_exit PID TENTHS: wait for PID to exit (killing it after TENTHS/10 s); sets st
wait_exit() {
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt "$2" ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if kill -0 "$1" 2>/dev/null; then
        kill "$1" 2>/dev/null
        wait "$1" 2>/dev/null
        st=timeout
    else
        wait "$1" 2>/dev/null
        st=$?
    fi
    rm_pid "$1"
}

# ---- names of the same thing in each peer ----
ossl_group() { # mica group -> openssl -groups name
    case $1 in
    x25519) echo X25519 ;; x448) echo X448 ;; secp256r1) echo P-256 ;;
    secp384r1) echo P-384 ;; secp521r1) echo P-521 ;;
    esac
}
ossl_trace_group() { # mica group -> the NamedGroup name in openssl -trace
    case $1 in
    x25519) echo 'ecdh_x25519 \(29\)' ;; x448) echo 'ecdh_x448 \(30\)' ;;
    secp256r1) echo 'secp256r1 \(P-256\) \(23\)' ;; secp384r1) echo 'secp384r1 \(P-384\) \(24\)' ;;
    secp521r1) echo 'secp521r1 \(P-521\) \(25\)' ;;
    esac
}
ossl_temp_key() { # mica group -> s_client's "Server Temp Key:"
    case $1 in
    x25519) echo 'X25519, 253 bits' ;; x448) echo 'X448, 448 bits' ;;
    secp256r1) echo 'ECDH, prime256v1, 256 bits' ;; secp384r1) echo 'ECDH, secp384r1, 384 bits' ;;
    secp521r1) echo 'ECDH, secp521r1, 521 bits' ;;
    esac
}
ossl_sig_type() { # signature scheme -> s_client's "Peer signature type:"
    case $1 in
    ecdsa_*) echo ECDSA ;; rsa_pss_*) echo RSA-PSS ;; ed25519) echo ed25519 ;; ed448) echo ed448 ;;
    esac
}
gnutls_desc() { # suite group scheme -> gnutls "- Description:" line
    case $1 in
    TLS_AES_128_GCM_SHA256) c=AES-128-GCM ;; TLS_AES_256_GCM_SHA384) c=AES-256-GCM ;;
    TLS_CHACHA20_POLY1305_SHA256) c=CHACHA20-POLY1305 ;; TLS_AES_128_CCM_SHA256) c=AES-128-CCM ;;
    TLS_AES_128_CCM_8_SHA256) c=AES-128-CCM-8 ;;
    esac
    case $2 in
    x25519) g=X25519 ;; x448) g=X448 ;; secp256r1) g=SECP256R1 ;; secp384r1) g=SECP384R1 ;;
    secp521r1) g=SECP521R1 ;;
    esac
    case $3 in
    ecdsa_secp256r1_sha256) s=ECDSA-SECP256R1-SHA256 ;;
    ecdsa_secp384r1_sha384) s=ECDSA-SECP384R1-SHA384 ;;
    ecdsa_secp521r1_sha512) s=ECDSA-SECP521R1-SHA512 ;;
    rsa_pss_rsae_sha256) s=RSA-PSS-RSAE-SHA256 ;;
    rsa_pss_rsae_sha384) s=RSA-PSS-RSAE-SHA384 ;; rsa_pss_rsae_sha512) s=RSA-PSS-RSAE-SHA512 ;;
    ed25519) s=EdDSA-Ed25519 ;; ed448) s=EdDSA-Ed448 ;;
    esac
    echo "(TLS1.3-X.509)-(ECDHE-$g)-($s)-($c)"
}
sig_of() { # certificate kind -> the scheme a peer picks from mica's / openssl's default order
    case $1 in
    ecdsa-p256) echo ecdsa_secp256r1_sha256 ;; ecdsa-p384) echo ecdsa_secp384r1_sha384 ;;
    ecdsa-p521) echo ecdsa_secp521r1_sha512 ;; rsa2048) echo rsa_pss_rsae_sha256 ;;
    ed25519) echo ed25519 ;; ed448) echo ed448 ;;
    esac
}
re() { printf '%s' "$1" | sed 's/[].[\\*^$()+?{}|]/\\&/g'; } # quote for grep -E

# ---- servers ----
# start_srv KIND NAME ARGS...: a server of KIND (ossl: s_server -rev for one connection;
# gnutls: gnutls-serv; mica: mica server; py: py_peer.py server) on 127.0.0.1:$port, output
# in $tmp/NAME.srv. Waits until it listens; sets srv_pid, srv_port, srv_log. 1 if it cannot.
start_srv() {
    skind=$1
    sname=$2
    shift 2
    srv_log=$tmp/$sname.srv
    if [ $in_case = 0 ] && over_budget; then
        case_begin "$sname-start"
        case_end
        return 1
    fi
    case $skind in
    ossl)
        spawn_server -a "$srv_log" '^ACCEPT$' \
            openssl s_server -accept 127.0.0.1:@PORT@ -naccept 1 -rev "$@"
        ;;
    gnutls)
        spawn_server -a "$srv_log" 'listening on IPv4 .* port @PORT@\.\.\.done' \
            gnutls-serv -p @PORT@ "$@"
        ;;
    mica) spawn_server "$srv_log" 'listening on' "$mica" server --accept 127.0.0.1:@PORT@ "$@" ;;
    py) spawn_server -a "$srv_log" '^listening on' python3 "$py_peer" server @PORT@ "$@" ;;
    esac && return 0
    if [ $in_case = 0 ]; then
        case_begin "$sname-start"
        fail "cannot start the $skind server on 127.0.0.1:$port:$(excerpt "$srv_log")"
        case_end
    else
        fail "cannot start the $skind server on 127.0.0.1:$port:$(excerpt "$srv_log")"
    fi
    port=$((port + 1))
    return 1
}
# stop_srv: SIGTERM to the current server, wait for it; sets st
stop_srv() {
    kill "$srv_pid" 2>/dev/null
    wait_exit "$srv_pid" 50
}

# srv_logged SUITE GROUP ALPN: since $before, the current mica server (--verbose) logged
# one line, its access log line: what this connection negotiated, and that it ended well
srv_logged() {
    sleep 0.05
    sed -n "$((before + 1)),\$p" "$srv_log" >"$tmp/$n.srvlines"
    nl=$(grep -c '' "$tmp/$n.srvlines")
    [ "$nl" = 1 ] ||
        fail "mica server logged $nl lines for one connection:$(excerpt "$tmp/$n.srvlines")"
    has "$tmp/$n.srvlines" \
        "^mica server: client=127\\.0\\.0\\.1:[0-9]+ sni=localhost version=TLSv1\\.3 cipher=$1 group=$2 hrr=(yes|no) sig=[a-z0-9_]+ alpn=$(re "$3") resumed=no early_data=none handshake_ms=[0-9]+\\.[0-9] result=ok\$" \
        "mica server --verbose"
}

# ---- data ----
# 2000 lines of 64 hex digits (130 000 bytes): text every peer echoes unchanged, with no
# line that s_client or gnutls-cli would take as a command.
od -An -vtx1 -w32 -N64000 /dev/urandom | tr -d ' ' >"$tmp/data" || exit 2
awk '{ s = ""; for (i = length($0); i > 0; i--) s = s substr($0, i, 1); print s }' \
    "$tmp/data" >"$tmp/data.rev"
dlen=$(wc -c <"$tmp/data" | tr -d ' ')
[ "$(wc -l <"$tmp/data")" -eq 2000 ] || {
    echo "interop: cannot make test data" >&2
    exit 2
}

# mica_client NAME ARGS... <input: mica client to 127.0.0.1:$srv_port, trusting ca.pem,
# name localhost; $tmp/NAME.{out,err}, status in mc_rc
mica_client() {
    mcn=$1
    shift
    $to "$mica" client --cafile "$ca" --servername localhost "$@" "127.0.0.1:$srv_port" \
        >"$tmp/$mcn.out" 2>"$tmp/$mcn.err"
    mc_rc=$?
}
# check_mica_client NAME SUITE GROUP SCHEME ALPN HRR: status 0 and the lines mica client
# prints; HRR (yes/no) is checked only if the client reports it. 1 if the client failed.
check_mica_client() {
    e=$tmp/$1.err
    sanitizer "$e" "mica client"
    if [ "$mc_rc" != 0 ]; then
        fail "mica client exited $mc_rc:$(excerpt "$e")"
        return 1
    fi
    has "$e" '^version: TLSv1\.3$' "mica client"
    has "$e" "^cipher: $2\$" "mica client"
    has "$e" "^group: $3\$" "mica client"
    has "$e" "^signature scheme: $4\$" "mica client"
    has "$e" "^alpn: $(re "$5")\$" "mica client"
    has "$e" '^verification: ok$' "mica client"
    if grep -Eiq 'retry|hrr' "$e"; then
        if [ "$6" = yes ]; then
            has "$e" '(retry|hrr).*(yes|true|1)' "mica client (HelloRetryRequest)"
        else
            hasnt "$e" '(retry|hrr).*(yes|true|1)' "mica client (no HelloRetryRequest)"
        fi
    elif [ "$6" = yes ]; then
        hrr_gap=1
    fi
    return 0
}
hrr_gap=0

# ======================================================================================
# 1. mica client -> openssl s_server -rev
# ======================================================================================
# mc_ossl NAME SUITE GROUP CERT HRR ALPN MICA-ARGS -- S_SERVER-ARGS...
mc_ossl() {
    n=$1 suite=$2 group=$3 kind=$4 hrr=$5 alpn=$6 margs=$7
    sig=${want_sig:-$(sig_of "$kind")}
    shift 7
    if case_begin "$n" && start_srv ossl "$n" -tls1_3 -cert "$certs/$kind.crt" \
        -key "$certs/$kind.key" -trace -msgfile "$tmp/$n.trace" "$@"; then
        # shellcheck disable=SC2086
        mica_client "$n" $margs <"$tmp/data"
        # s_server (-naccept 1) exits as soon as the connection is over.
        if [ "$mc_rc" = 0 ]; then wait_exit "$srv_pid" 30; else wait_exit "$srv_pid" 1; fi
        check_mica_client "$n" "$suite" "$group" "$sig" "$alpn" "$hrr" || {
            case_end
            want_sig=""
            return
        }
        [ "$st" = 0 ] || fail "s_server exited $st:$(excerpt "$srv_log")"
        cmp -s "$tmp/data.rev" "$tmp/$n.out" ||
            fail "the data did not come back reversed ($(wc -c <"$tmp/$n.out") of $dlen bytes)"
        has "$srv_log" '^Protocol version: TLSv1\.3$' "s_server"
        has "$srv_log" "^Ciphersuite: $suite\$" "s_server"
        has "$srv_log" '^CONNECTION CLOSED$' "s_server (close_notify from mica)"
        t=$tmp/$n.trace
        # The group in the last ServerHello's key_share, the scheme in CertificateVerify.
        sh_group=$(awk '/ServerHello, Length/ { s = 1 } s && /NamedGroup:/ { g = $0; s = 0 }
            END { print g }' "$t")
        printf '%s\n' "$sh_group" | grep -Eq "$(ossl_trace_group "$group")" ||
            fail "s_server trace: ServerHello key_share is '$sh_group', want $group"
        has "$t" "Signature Algorithm: $sig \\(0x" "s_server trace (CertificateVerify)"
        nch=$(grep -c 'ClientHello, Length' "$t")
        if [ "$hrr" = yes ]; then
            [ "$nch" = 2 ] || fail "s_server trace: $nch ClientHellos, want 2 (HRR)"
            has "$t" 'E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C' \
                "s_server trace (HelloRetryRequest random)"
        else
            [ "$nch" = 1 ] || fail "s_server trace: $nch ClientHellos, want 1"
        fi
        if [ "$alpn" != none ]; then
            has "$srv_log" "^ALPN protocols selected: $(re "$alpn")\$" "s_server"
        fi
    fi
    case_end "$suite $group $sig alpn=$alpn hrr=$hrr, $dlen bytes each way"
    want_sig=""
}
want_sig=""

echo "interop: 1. mica client -> openssl s_server"
t_sec=$(now_ms)
all5=TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256
all5=$all5:TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256
for s in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256 \
    TLS_AES_128_CCM_SHA256 TLS_AES_128_CCM_8_SHA256; do
    # The server allows only this suite; mica offers all five (default).
    mc_ossl "mc-ossl-suite-$s" "$s" x25519 ecdsa-p256 no none "" -ciphersuites "$s"
done
# mica offers only CCM_8; s_server allows all five.
mc_ossl mc-ossl-suite-ccm8-only TLS_AES_128_CCM_8_SHA256 x25519 ecdsa-p256 no none \
    "--ciphers TLS_AES_128_CCM_8_SHA256" -ciphersuites "$all5"
for g in x25519 secp256r1 secp384r1 secp521r1 x448; do
    # Only this group on both sides: no HRR.
    mc_ossl "mc-ossl-group-$g" TLS_AES_128_GCM_SHA256 "$g" ecdsa-p256 no none \
        "--groups $g" -groups "$(ossl_group "$g")"
done
for k in ecdsa-p256 ecdsa-p384 ecdsa-p521 rsa2048 ed25519 ed448; do
    mc_ossl "mc-ossl-cert-$k" TLS_AES_128_GCM_SHA256 x25519 "$k" no none ""
done
want_sig=rsa_pss_rsae_sha512
mc_ossl mc-ossl-sigalg-rsa-pss-sha512 TLS_AES_128_GCM_SHA256 x25519 rsa2048 no none "" \
    -sigalgs rsa_pss_rsae_sha512
# HRR: mica's key share is x25519 (its first group); s_server takes only P-384 / X448.
mc_ossl mc-ossl-hrr-secp384r1 TLS_AES_128_GCM_SHA256 secp384r1 ecdsa-p256 yes none "" \
    -groups P-384
mc_ossl mc-ossl-hrr-x448 TLS_AES_128_GCM_SHA256 x448 ed25519 yes none \
    "--groups secp256r1:x448" -groups X448
mc_ossl mc-ossl-alpn TLS_AES_128_GCM_SHA256 x25519 ecdsa-p256 no http/1.1 \
    "--alpn h2,http/1.1" -alpn foo,http/1.1
# No protocol in common: s_server answers no_application_protocol (RFC 7301 section 3.2);
# mica must say so, exit 1 and pass no data.
if case_begin mc-ossl-alpn-mismatch && start_srv ossl mc-ossl-alpn-mismatch -tls1_3 \
    -cert "$certs/ecdsa-p256.crt" -key "$certs/ecdsa-p256.key" -alpn http/1.1; then
    mica_client mc-ossl-alpn-mismatch --alpn h2 <"$tmp/data"
    wait_exit "$srv_pid" 10
    e=$tmp/mc-ossl-alpn-mismatch.err
    sanitizer "$e" "mica client"
    [ "$mc_rc" = 1 ] || fail "mica client exited $mc_rc, want 1:$(excerpt "$e")"
    has "$e" '^mica: .*no_application_protocol' "mica client"
    hasnt "$e" '^version: ' "mica client (no handshake)"
    [ -s "$tmp/mc-ossl-alpn-mismatch.out" ] && fail "data was exchanged"
    has "$srv_log" '^ALPN protocols advertised by the client: h2$' "s_server"
fi
case_end "h2 vs http/1.1: no_application_protocol alert, mica exits 1"
echo "interop: section 1: $(($(now_ms) - t_sec)) ms"

# ======================================================================================
# 2. mica client -> gnutls-serv --echo
# ======================================================================================
# mc_gnutls NAME SUITE GROUP CERT HRR PRIORITY-ADDITIONS [MICA-ARGS]
mc_gnutls() {
    n=$1 suite=$2 group=$3 kind=$4 hrr=$5 prio="NORMAL:-VERS-ALL:+VERS-TLS1.3$6"
    margs=${7:-}
    sig=$(sig_of "$kind")
    if case_begin "$n" && start_srv gnutls "$n" --echo --x509certfile "$certs/$kind.chain.pem" \
        --x509keyfile "$certs/$kind.key" --priority "$prio"; then
        # shellcheck disable=SC2086
        mica_client "$n" $margs <"$tmp/data"
        sleep 0.1
        stop_srv
        check_mica_client "$n" "$suite" "$group" "$sig" none "$hrr" || {
            case_end
            return
        }
        cmp -s "$tmp/data" "$tmp/$n.out" ||
            fail "the echo differs ($(wc -c <"$tmp/$n.out") of $dlen bytes back)"
        has "$srv_log" "^- Description: $(re "$(gnutls_desc "$suite" "$group" "$sig")")\$" \
            "gnutls-serv"
        has "$srv_log" '^- Version: TLS1\.3$' "gnutls-serv"
    fi
    case_end "$suite $group $sig hrr=$hrr, priority $prio, $dlen bytes echoed"
}

echo "interop: 2. mica client -> gnutls-serv"
t_sec=$(now_ms)
mc_gnutls mc-gnutls-default TLS_AES_128_GCM_SHA256 x25519 ecdsa-p256 no ""
mc_gnutls mc-gnutls-aes256-p384cert TLS_AES_256_GCM_SHA384 x25519 ecdsa-p384 no \
    ":-CIPHER-ALL:+AES-256-GCM"
mc_gnutls mc-gnutls-chacha-rsa TLS_CHACHA20_POLY1305_SHA256 x25519 rsa2048 no \
    ":-CIPHER-ALL:+CHACHA20-POLY1305"
mc_gnutls mc-gnutls-ccm-ed25519 TLS_AES_128_CCM_SHA256 secp256r1 ed25519 no \
    ":-CIPHER-ALL:+AES-128-CCM:-GROUP-ALL:+GROUP-SECP256R1" "--groups secp256r1:x25519"
mc_gnutls mc-gnutls-ccm8-ed448 TLS_AES_128_CCM_8_SHA256 x448 ed448 no \
    ":-CIPHER-ALL:+AES-128-CCM-8:-GROUP-ALL:+GROUP-X448" "--groups x448"
mc_gnutls mc-gnutls-hrr-secp384r1 TLS_AES_128_GCM_SHA256 secp384r1 ecdsa-p521 yes \
    ":-GROUP-ALL:+GROUP-SECP384R1"
mc_gnutls mc-gnutls-hrr-secp521r1 TLS_AES_256_GCM_SHA384 secp521r1 ecdsa-p256 yes \
    ":-CIPHER-ALL:+AES-256-GCM:-GROUP-ALL:+GROUP-SECP521R1"
echo "interop: section 2: $(($(now_ms) - t_sec)) ms"

# ======================================================================================
# 3. openssl s_client -> mica server --echo
# ======================================================================================
# sc NAME SUITE GROUP SCHEME HRR ALPN LINES S_CLIENT-ARGS...: s_client to the current mica
# server (started with --verbose), fed LINES one at a time through a FIFO: a line is data
# (wait for its echo) or K / k (s_client sends a KeyUpdate with / without update_requested).
# Then end of input: s_client sends close_notify and exits.
long_line=$(sed -n '1,50p' "$tmp/data" | tr -d '\n') # 3200 characters
sc() {
    n=$1 suite=$2 group=$3 sig=$4 hrr=$5 alpn=$6 lines=$7
    shift 7
    case_begin "$n" || {
        case_end
        return
    }
    before=$(grep -c '^mica server: ' "$srv_log")
    mkfifo "$tmp/$n.fifo" || {
        fail "mkfifo"
        case_end
        return
    }
    $to openssl s_client -connect "127.0.0.1:$srv_port" -servername localhost -CAfile "$ca" \
        -verify_hostname localhost -verify_return_error -tls1_3 -trace -msgfile "$tmp/$n.trace" \
        "$@" <"$tmp/$n.fifo" >"$tmp/$n.out" 2>"$tmp/$n.err" &
    sc_pid=$!
    pids="$pids $sc_pid"
    exec 3>"$tmp/$n.fifo"
    nku=0
    for w in $lines; do
        kill -0 "$sc_pid" 2>/dev/null || break
        (printf '%s\n' "$w" >&3) 2>/dev/null
        i=0
        case $w in
        K | k)
            nku=$((nku + 1))
            while [ "$(grep -c '^KEYUPDATE$' "$tmp/$n.err" 2>/dev/null)" -lt $nku ] &&
                [ $i -lt 100 ] && kill -0 "$sc_pid" 2>/dev/null; do
                sleep 0.05
                i=$((i + 1))
            done
            ;;
        *)
            while ! grep -Fqx -- "$w" "$tmp/$n.out" 2>/dev/null && [ $i -lt 100 ] &&
                kill -0 "$sc_pid" 2>/dev/null; do
                sleep 0.05
                i=$((i + 1))
            done
            ;;
        esac
    done
    exec 3>&-
    wait_exit "$sc_pid" 50
    o=$tmp/$n.out
    t=$tmp/$n.trace
    if [ "$st" != 0 ]; then
        fail "s_client exited $st:$(excerpt "$tmp/$n.err")$(excerpt "$srv_log")"
        case_end
        return
    fi
    for w in $lines; do
        case $w in
        K | k) ;;
        *) grep -Fqx -- "$w" "$o" || fail "the echo of a ${#w}-byte line did not come back" ;;
        esac
    done
    has "$o" "^New, TLSv1\\.3, Cipher is $suite\$" "s_client"
    has "$o" '^Verify return code: 0 \(ok\)$' "s_client"
    has "$o" "^Server Temp Key: $(ossl_temp_key "$group")\$" "s_client"
    has "$o" "^Peer signature type: $(ossl_sig_type "$sig")\$" "s_client"
    has "$t" "Signature Algorithm: $sig \\(0x" "s_client trace (CertificateVerify)"
    if [ "$alpn" = none ]; then
        has "$o" '^No ALPN negotiated$' "s_client"
    else
        has "$o" "^ALPN protocol: $(re "$alpn")\$" "s_client"
    fi
    nch=$(grep -c 'ClientHello, Length' "$t")
    if [ "$hrr" = yes ]; then
        [ "$nch" = 2 ] || fail "ENGINE BUG: s_client trace: $nch ClientHellos, want 2 (HRR)"
        has "$t" 'E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C' \
            "s_client trace (HelloRetryRequest random)"
    else
        [ "$nch" = 1 ] || fail "ENGINE BUG: s_client trace: $nch ClientHellos, want 1"
    fi
    # KeyUpdates in the trace, in order: ours with update_requested must be answered by
    # exactly one from mica with update_not_requested (RFC 8446 section 4.6.3).
    got_ku=$(awk '/^Sent Record/ { d = "sent" } /^Received Record/ { d = "received" }
        /KeyUpdate, Length/ {
            getline; sub(/^ +/, ""); sub(/ .*/, ""); printf "%s %s;", d, $0
        }' "$t")
    want_ku=""
    for w in $lines; do
        case $w in
        K) want_ku="${want_ku}sent update_requested;received update_not_requested;" ;;
        k) want_ku="${want_ku}sent update_not_requested;" ;;
        esac
    done
    [ "$got_ku" = "$want_ku" ] ||
        fail "ENGINE BUG: KeyUpdates seen by s_client: '$got_ku', want '$want_ku'"
    # The server's log: one --verbose line for this connection and nothing else.
    srv_logged "$suite" "$group" "$alpn"
    nlines=0
    for w in $lines; do
        case $w in K | k) ;; *) nlines=$((nlines + 1)) ;; esac
    done
    ku=${want_ku:+, KeyUpdates as RFC 8446 4.6.3 says}
    case_end "$suite $group $sig alpn=$alpn hrr=$hrr, $nlines data line(s) echoed$ku"
}
# end_mica_srv: SIGTERM, exit status 0, nothing from the sanitizers
end_mica_srv() {
    stop_srv
    case_begin "$1" || :
    [ "$st" = 0 ] || fail "mica server exited $st after SIGTERM:$(excerpt "$srv_log")"
    sanitizer "$srv_log" "mica server"
    case_end "mica server stopped cleanly"
}

echo "interop: 3. openssl s_client -> mica server"
t_sec=$(now_ms)
if start_srv mica sc-p256 --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
    --echo --verbose; then
    for s in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256 \
        TLS_AES_128_CCM_SHA256 TLS_AES_128_CCM_8_SHA256; do
        sc "sc-mica-suite-$s" "$s" x25519 ecdsa_secp256r1_sha256 no none \
            "hello-$s $long_line" -ciphersuites "$s"
    done
    for g in secp256r1 secp384r1 secp521r1 x448; do
        sc "sc-mica-group-$g" TLS_AES_128_GCM_SHA256 "$g" ecdsa_secp256r1_sha256 no none \
            "hello-$g" -groups "$(ossl_group "$g")"
    done
    sc sc-mica-keyupdate TLS_AES_128_GCM_SHA256 x25519 ecdsa_secp256r1_sha256 no none \
        "before-0 K after-1 $long_line k after-2 K after-3"
    end_mica_srv sc-mica-stop-p256
fi
if start_srv mica sc-hrr --cert "$certs/ecdsa-p384.chain.pem" --key "$certs/ecdsa-p384.key" \
    --echo --verbose --groups secp384r1 --alpn h2,http/1.1; then
    # s_client's key share is X25519; mica takes only secp384r1: HRR from mica.
    sc sc-mica-hrr-alpn TLS_AES_256_GCM_SHA384 secp384r1 ecdsa_secp384r1_sha384 yes http/1.1 \
        "hello-hrr" -ciphersuites TLS_AES_256_GCM_SHA384 -alpn foo,http/1.1
    end_mica_srv sc-mica-stop-hrr
fi
for k in rsa2048 ecdsa-p521 ed25519 ed448; do
    if start_srv mica "sc-$k" --cert "$certs/$k.chain.pem" --key "$certs/$k.key" --echo --verbose
    then
        sc "sc-mica-cert-$k" TLS_AES_128_GCM_SHA256 x25519 "$(sig_of "$k")" no none "hello-$k"
        if [ "$k" = rsa2048 ]; then
            sc sc-mica-sigalg-rsa-pss-sha384 TLS_AES_128_GCM_SHA256 x25519 rsa_pss_rsae_sha384 \
                no none "hello-pss384" -sigalgs rsa_pss_rsae_sha384:ecdsa_secp256r1_sha256
        fi
        end_mica_srv "sc-mica-stop-$k"
    fi
done
echo "interop: section 3: $(($(now_ms) - t_sec)) ms"

# ======================================================================================
# 4. gnutls-cli -> mica server --echo
# ======================================================================================
# gc NAME SUITE GROUP SCHEME PRIORITY-ADDITIONS [GNUTLS-CLI-ARGS...] <input
gc() {
    n=$1 suite=$2 group=$3 sig=$4 prio="NORMAL:-VERS-ALL:+VERS-TLS1.3$5"
    shift 5
    case_begin "$n" || {
        case_end
        return
    }
    before=$(grep -c '^mica server: ' "$srv_log")
    $to gnutls-cli --x509cafile "$ca" --priority "$prio" -p "$srv_port" "$@" localhost \
        >"$tmp/$n.out" 2>"$tmp/$n.err"
    rc=$?
    o=$tmp/$n.out
    if [ $rc != 0 ]; then
        fail "gnutls-cli exited $rc:$(excerpt "$tmp/$n.err")$(excerpt "$srv_log")"
        case_end
        return
    fi
    # The data: what follows "- Simple Client Mode:", without gnutls-cli's "- ..." notes.
    awk 'd && !/^- / && !/^$/ { print } /^- Simple Client Mode:/ { d = 1 }' "$o" >"$o.data"
    cmp -s "$gc_want" "$o.data" ||
        fail "the echo differs ($(wc -c <"$o.data") of $(wc -c <"$gc_want") bytes back)"
    has "$o" "^- Description: $(re "$(gnutls_desc "$suite" "$group" "$sig")")\$" "gnutls-cli"
    has "$o" '^- Status: The certificate is trusted\. *$' "gnutls-cli"
    has "$o" '^- Peer has closed the GnuTLS connection$' "gnutls-cli (close_notify from mica)"
    srv_logged "$suite" "$group" none
    case_end "$suite $group $sig, priority $prio, $(wc -c <"$gc_want") bytes echoed"
}

echo "interop: 4. gnutls-cli -> mica server"
t_sec=$(now_ms)
gc_want=$tmp/data
if start_srv mica gc-p256 --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
    --echo --verbose; then
    gc gc-mica-default TLS_AES_128_GCM_SHA256 x25519 ecdsa_secp256r1_sha256 "" <"$tmp/data"
    gc gc-mica-aes256 TLS_AES_256_GCM_SHA384 x25519 ecdsa_secp256r1_sha256 \
        ":-CIPHER-ALL:+AES-256-GCM" <"$tmp/data"
    gc gc-mica-chacha-x448 TLS_CHACHA20_POLY1305_SHA256 x448 ecdsa_secp256r1_sha256 \
        ":-CIPHER-ALL:+CHACHA20-POLY1305:-GROUP-ALL:+GROUP-X448" <"$tmp/data"
    gc gc-mica-ccm-secp521r1 TLS_AES_128_CCM_SHA256 secp521r1 ecdsa_secp256r1_sha256 \
        ":-CIPHER-ALL:+AES-128-CCM:-GROUP-ALL:+GROUP-SECP521R1" <"$tmp/data"
    gc gc-mica-ccm8 TLS_AES_128_CCM_8_SHA256 x25519 ecdsa_secp256r1_sha256 \
        ":-CIPHER-ALL:+AES-128-CCM-8" <"$tmp/data"
    # Inline commands: ^rekey^ is a KeyUpdate with update_requested, ^rekey1^ without.
    printf '%s\n' "$(sed -n 1p "$tmp/data")" '^rekey^' "$(sed -n 2p "$tmp/data")" '^rekey1^' \
        "$(sed -n 3p "$tmp/data")" >"$tmp/rekey.in"
    sed -n 1,3p "$tmp/data" >"$tmp/rekey.want"
    gc_want=$tmp/rekey.want
    gc gc-mica-rekey TLS_AES_128_GCM_SHA256 x25519 ecdsa_secp256r1_sha256 "" \
        --inline-commands <"$tmp/rekey.in"
    has "$tmp/gc-mica-rekey.out" '^- Rekey was completed$' "gnutls-cli ^rekey^"
    gc_want=$tmp/data
    end_mica_srv gc-mica-stop-p256
fi
if start_srv mica gc-hrr --cert "$certs/rsa2048.chain.pem" --key "$certs/rsa2048.key" \
    --echo --verbose --groups secp384r1:x448; then
    # gnutls-cli sends key shares for x25519 and secp256r1; mica takes secp384r1 or x448.
    gc gc-mica-hrr-rsa TLS_AES_128_GCM_SHA256 secp384r1 rsa_pss_rsae_sha256 "" <"$tmp/data"
    end_mica_srv gc-mica-stop-hrr
fi
if start_srv mica gc-ed448 --cert "$certs/ed448.chain.pem" --key "$certs/ed448.key" \
    --echo --verbose; then
    gc gc-mica-ed448 TLS_AES_128_GCM_SHA256 x25519 ed448 "" <"$tmp/data"
    end_mica_srv gc-mica-stop-ed448
fi
echo "interop: section 4: $(($(now_ms) - t_sec)) ms"

# ======================================================================================
# 5. curl -> mica server --www
# ======================================================================================
# cu NAME SUITE GROUP SCHEME ALPN CURL-ARGS...
cu() {
    n=$1 suite=$2 group=$3 sig=$4 alpn=$5
    shift 5
    case_begin "$n" || {
        case_end
        return
    }
    before=$(grep -c '^mica server: ' "$srv_log")
    $to curl -sS -v --cacert "$ca" --resolve "localhost:$srv_port:127.0.0.1" --tlsv1.3 \
        -D "$tmp/$n.head" -o "$tmp/$n.body" "$@" "https://localhost:$srv_port/interop?x=1" \
        2>"$tmp/$n.err"
    rc=$?
    if [ $rc != 0 ]; then
        fail "curl exited $rc:$(excerpt "$tmp/$n.err")$(excerpt "$srv_log")"
        case_end
        return
    fi
    has "$tmp/$n.err" "SSL connection using TLSv1\\.3 / $suite\$" "curl -v"
    if [ "$alpn" = none ]; then
        has "$tmp/$n.err" 'ALPN: server did not agree' "curl -v"
    else
        has "$tmp/$n.err" "ALPN: server accepted $(re "$alpn")\$" "curl -v"
    fi
    # (curl may stop reading at the end of the body, before mica's close_notify arrives,
    # so whether it sees one is a matter of timing: not checked.)
    tr -d '\r' <"$tmp/$n.head" >"$tmp/$n.h"
    has "$tmp/$n.h" '^HTTP/1\.1 200 OK$' "response head"
    has "$tmp/$n.h" '^Strict-Transport-Security: max-age=31536000$' "response head"
    has "$tmp/$n.h" '^Connection: close$' "response head"
    len=$(sed -n 's/^Content-Length: *//p' "$tmp/$n.h")
    [ "$len" = "$(wc -c <"$tmp/$n.body" | tr -d ' ')" ] ||
        fail "Content-Length '$len', body $(wc -c <"$tmp/$n.body") bytes"
    b=$tmp/$n.body
    has "$b" '<tr><th>version</th><td>TLSv1\.3</td></tr>' "the page"
    has "$b" "<tr><th>cipher suite</th><td>$suite</td></tr>" "the page"
    has "$b" "<tr><th>group</th><td>$group</td></tr>" "the page"
    has "$b" "<tr><th>signature scheme</th><td>$sig</td></tr>" "the page"
    has "$b" "<tr><th>ALPN</th><td>$(re "$alpn")</td></tr>" "the page"
    has "$b" '<tr><th>SNI</th><td>localhost</td></tr>' "the page"
    has "$b" '<tr><th>request</th><td>GET /interop\?x=1</td></tr>' "the page"
    srv_logged "$suite" "$group" "$alpn"
    case_end "$suite $group $sig alpn=$alpn, HTTP/1.1 200 with HSTS"
}

echo "interop: 5. curl -> mica server --www"
t_sec=$(now_ms)
if start_srv mica cu-plain --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
    --www --verbose; then
    # curl offers h2 and http/1.1; mica without --alpn agrees on nothing.
    cu curl-www-default TLS_AES_128_GCM_SHA256 x25519 ecdsa_secp256r1_sha256 none
    cu curl-www-http1.1 TLS_AES_128_GCM_SHA256 x25519 ecdsa_secp256r1_sha256 none --http1.1
    end_mica_srv curl-www-stop-plain
fi
if start_srv mica cu-alpn --cert "$certs/rsa2048.chain.pem" --key "$certs/rsa2048.key" \
    --www --verbose --alpn http/1.1; then
    cu curl-www-alpn TLS_AES_128_GCM_SHA256 x25519 rsa_pss_rsae_sha256 http/1.1
    cu curl-www-alpn-http1.1 TLS_AES_128_GCM_SHA256 x25519 rsa_pss_rsae_sha256 http/1.1 --http1.1
    cu curl-www-chacha-p521 TLS_CHACHA20_POLY1305_SHA256 secp521r1 rsa_pss_rsae_sha256 http/1.1 \
        --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256 --curves P-521
    cu curl-www-ccm-x448 TLS_AES_128_CCM_SHA256 x448 rsa_pss_rsae_sha256 http/1.1 \
        --tls13-ciphers TLS_AES_128_CCM_SHA256 --curves X448
    end_mica_srv curl-www-stop-alpn
fi
echo "interop: section 5: $(($(now_ms) - t_sec)) ms"

# ======================================================================================
# 6. Python ssl
# ======================================================================================
# py_client NAME SUITE GROUP ALPN NBYTES [ALPN-OFFER]: py_peer.py client to the current
# mica server (--verbose); OPENSSL_CONF=$py_conf when set narrows suites and groups
py_client() {
    n=$1 suite=$2 group=$3 alpn=$4 nbytes=$5
    case_begin "$n" || {
        case_end
        return
    }
    before=$(grep -c '^mica server: ' "$srv_log")
    if [ -n "${py_conf:-}" ]; then
        OPENSSL_CONF=$py_conf $to python3 "$py_peer" client "$srv_port" "$ca" localhost \
            "$nbytes" ${6:+"$6"} >"$tmp/$n.out" 2>&1
    else
        $to python3 "$py_peer" client "$srv_port" "$ca" localhost "$nbytes" ${6:+"$6"} \
            >"$tmp/$n.out" 2>&1
    fi
    rc=$?
    o=$tmp/$n.out
    if [ $rc != 0 ]; then
        fail "py_peer.py client exited $rc:$(excerpt "$o")$(excerpt "$srv_log")"
        case_end
        return
    fi
    has "$o" '^version: TLSv1\.3$' "python client"
    has "$o" "^cipher: $suite\$" "python client"
    has "$o" "^alpn: $(re "$alpn")\$" "python client"
    has "$o" "^echo: $nbytes bytes intact\$" "python client"
    has "$o" '^close: close_notify both ways$' "python client"
    has "$o" '^result: ok$' "python client"
    srv_logged "$suite" "$group" "$alpn"
    case_end "$suite $group alpn=$alpn, $nbytes bytes echoed, close_notify both ways"
}
# py_server NAME SUITE GROUP CERT HRR PY-GROUP [MICA-ARGS]: mica client -> py_peer.py server
py_server() {
    n=$1 suite=$2 group=$3 kind=$4 hrr=$5 pygroup=$6 margs=${7:-}
    if case_begin "$n" && start_srv py "$n" "$certs/$kind.chain.pem" "$certs/$kind.key" \
        "$pygroup"; then
        # shellcheck disable=SC2086
        mica_client "$n" $margs <"$tmp/data"
        if [ "$mc_rc" = 0 ]; then wait_exit "$srv_pid" 30; else wait_exit "$srv_pid" 1; fi
        check_mica_client "$n" "$suite" "$group" "$(sig_of "$kind")" none "$hrr" || {
            case_end
            return
        }
        [ "$st" = 0 ] || fail "py_peer.py server exited $st:$(excerpt "$srv_log")"
        cmp -s "$tmp/data" "$tmp/$n.out" ||
            fail "the echo differs ($(wc -c <"$tmp/$n.out") of $dlen bytes back)"
        has "$srv_log" '^version: TLSv1\.3$' "python server"
        has "$srv_log" "^cipher: $suite\$" "python server"
        has "$srv_log" "^echoed: $dlen bytes\$" "python server"
        has "$srv_log" '^close: close_notify both ways$' "python server"
        has "$srv_log" '^result: ok$' "python server"
    fi
    case_end "$suite $group $(sig_of "$kind") hrr=$hrr, $dlen bytes echoed"
}

echo "interop: 6. python3 ssl <-> mica"
t_sec=$(now_ms)
py_conf=""
if start_srv mica py-p256 --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
    --echo --verbose --alpn http/1.1; then
    py_client py-client-mica TLS_AES_128_GCM_SHA256 x25519 none 300000
    py_client py-client-mica-alpn TLS_AES_128_GCM_SHA256 x25519 http/1.1 1000 h2,http/1.1
    # Python cannot choose TLS 1.3 suites or groups itself; OpenSSL's config can.
    py_conf=$tmp/py-openssl.cnf
    printf '%s\n' 'openssl_conf = openssl_init' '[openssl_init]' 'ssl_conf = ssl_sect' \
        '[ssl_sect]' 'system_default = system_default_sect' '[system_default_sect]' \
        'Ciphersuites = TLS_CHACHA20_POLY1305_SHA256' 'Groups = X448:P-521' >"$py_conf"
    py_client py-client-mica-chacha-x448 TLS_CHACHA20_POLY1305_SHA256 x448 none 100000
    py_conf=""
    end_mica_srv py-client-stop-p256
fi
py_server py-server-ecdsa TLS_AES_256_GCM_SHA384 x25519 ecdsa-p256 no -
py_server py-server-ed25519 TLS_AES_256_GCM_SHA384 x25519 ed25519 no -
py_server py-server-hrr-secp384r1-rsa TLS_AES_256_GCM_SHA384 secp384r1 rsa2048 yes secp384r1
py_server py-server-secp521r1-ed448 TLS_AES_256_GCM_SHA384 secp521r1 ed448 no secp521r1 \
    "--groups secp521r1"
echo "interop: section 6: $(($(now_ms) - t_sec)) ms"

# ---- summary ----
if [ $hrr_gap -ne 0 ]; then
    echo "interop: NOTE: mica client does not say whether a HelloRetryRequest happened" \
        "(mica_conn_hrr() is not printed); HRR was checked on the peer's side only"
fi
[ -n "$table" ] && echo "interop: failed:$table"
echo "interop: $npass passed, $nfail failed in $(($(now_ms) - t_start)) ms"
if [ $bad -ne 0 ]; then
    exit 1
fi
echo "interop: ok"
exit 0
