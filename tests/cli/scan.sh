#!/bin/sh
# scan.sh <mica>: mica scan --json against servers whose configuration is known.
#
#   - mica server (TLS 1.3 only, --early-data, an OCSP staple, --www with HSTS):
#     versions exactly TLSv1.3; the five suites in mica's default order; x25519 and
#     X25519MLKEM768 among the groups; ecdsa_secp256r1_sha256 the one scheme; verified;
#     stapled; 2 tickets of 7200 s; resumed; 0-RTT accepted and a replay of it refused
#     (its early data rejected: anti-replay), a low finding; HSTS; grade A
#   - the same with --anti-replay off: the replay is accepted again, a high finding, grade
#     C, and the grade's reasons name it
#   - mica server --ciphers TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384: only
#     those two, in that order, the server's
#   - openssl s_server (TLS 1.2 and 1.3): TLSv1.2 and TLSv1.3, its three default suites,
#     the RSA-PSS schemes of an RSA key, the downgrade sentinel, TLS 1.2 suites in the
#     client's order with ECDHE first, RSA key exchange (medium) and CBC (low) findings,
#     no staple, no HSTS, no post-quantum group
#   - openssl s_server -early_data (its anti-replay: single-use tickets): the replay's
#     ticket is refused; with -no_anti_replay the replay is accepted again
#   - openssl s_server -tls1_2 -serverpref with static RSA first: the server's order,
#     "prefers ... without forward secrecy" (high) (OpenSSL 3 has no 3DES, RC4 or export
#     suite left to test the other findings with)
#   - openssl s_server -tls1 (TLS 1.0 only): TLSv1.0 only, a high finding, TLS 1.3 missing,
#     its suites enumerated as TLS 1.0's (anonymous ones: critical, grade F), the
#     certificate "not checked"
#   - openssl s_server with an Ed25519 certificate: TLS 1.2 found (its probe offers
#     ed25519), ECDSA-named TLS 1.2 suites, the one scheme ed25519
#   - certificates: for another name, expired, expiring in 10 days: critical, critical,
#     medium findings
#   - usage errors exit 2; an unreachable port exits 1
# Each scan must finish within 60 s (the issue's bound for a healthy server; they take a
# few seconds).
#
# Servers listen on 127.0.0.1 only, on ports 61000 + 2 * ($$ % 500) and up (above the
# kernel's ephemeral range), moved up by 7 when in use, and are stopped by the test.
# Exits 1 on any failure, 77 without openssl or python3.
unset SSLKEYLOGFILE
set -u

if [ $# -ne 1 ]; then
    echo "usage: scan.sh <path-to-mica-binary>" >&2
    exit 2
fi
mica=$1
for tool in openssl python3; do
    command -v $tool >/dev/null 2>&1 || {
        echo "scan: SKIP: $tool is needed"
        exit 77
    }
done
top=$(cd "$(dirname "$0")/../.." && pwd)
certs="$top/tests/vectors/certs"
port=$((61000 + 2 * ($$ % 500)))
me=scan
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
make_tmp
use_timeout 60 100

# serve mica|ossl NAME ARGS...: mica server --accept (--cert: the ECDSA P-256 chain) or
# openssl s_server -accept (its standard input an open pipe: it stops at end of input)
serve() {
    srv_kind=$1
    name=$2
    shift 2
    srv_log=$tmp/$name.log
    if [ "$srv_kind" = mica ]; then
        spawn_server "$srv_log" 'listening on' "$mica" server --accept 127.0.0.1:@PORT@ "$@"
    else
        mkfifo "$tmp/$name.in"
        sleep 300 >"$tmp/$name.in" &
        feeder=$!
        pids="$pids $feeder"
        spawn_server -a -i "$tmp/$name.in" "$srv_log" '^ACCEPT' openssl s_server \
            -accept 127.0.0.1:@PORT@ "$@"
    fi || {
        fail "$name: cannot start the server:$(excerpt "$srv_log")"
        return 1
    }
}
stop() {
    if [ "$srv_kind" = mica ]; then
        stop_server "$srv_pid" "$srv_log"
    else
        kill "$srv_pid" "$feeder" 2>/dev/null
        lib_reap "$srv_pid" "$srv_log"
        wait "$srv_pid" 2>/dev/null
        wait "$feeder" 2>/dev/null
        rm_pid "$srv_pid"
        rm_pid "$feeder"
    fi
}
# scan NAME ARGS...: mica scan --json ARGS against the server, into $tmp/NAME.json; it
# must exit 0 within 60 s
scan() {
    name=$1
    shift
    $to "$mica" scan --json --servername localhost "$@" "127.0.0.1:$srv_port" \
        >"$tmp/$name.json" 2>"$tmp/$name.err"
    rc=$?
    [ $rc = 0 ] || fail "$name: mica scan exited $rc:$(excerpt "$tmp/$name.err")"
}
# check NAME PYTHON-EXPR WHAT: the expression over d (the JSON) must be true
check() {
    python3 - "$tmp/$1.json" "$2" <<'EOF' || fail "$1: $3"
import json, sys
d = json.load(open(sys.argv[1]))
def finding(sev, text):
    return any(f['severity'] == sev and text in f['title'] for f in d['findings'])
ok = eval(sys.argv[2], {"d": d, "any": any, "all": all, "len": len, "finding": finding})
if not ok:
    print("  the report was: " + json.dumps(d)[:2500])
sys.exit(0 if ok else 1)
EOF
}

p256="--cert $certs/ecdsa-p256.chain.pem --key $certs/ecdsa-p256.key"
rsa="-cert $certs/rsa2048.crt -key $certs/rsa2048.key -cert_chain $certs/ca.pem"
v13='{"SSLv3": False, "TLSv1.0": False, "TLSv1.1": False, "TLSv1.2": False, "TLSv1.3": True}'

# shellcheck disable=SC2086 # p256, rsa: several arguments
if serve mica mica $p256 --www --early-data 16384 \
    --ocsp-staple "$top/tests/vectors/ocsp/good.der"; then
    scan mica --cafile "$certs/ca.pem"
    check mica "d['versions'] == $v13" "versions"
    check mica "d['tls13_cipher_suites'] == ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', \
'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_CCM_SHA256', 'TLS_AES_128_CCM_8_SHA256']" "suites"
    check mica "d['server_cipher_order'] and d['tls12_cipher_suites'] == []" "the server's order"
    check mica "'x25519' in d['groups'] and 'X25519MLKEM768' in d['groups']" "groups"
    check mica "d['preferred_group'] == 'X25519MLKEM768'" "the preferred group"
    check mica "d['signature_schemes'] == ['ecdsa_secp256r1_sha256']" "schemes"
    check mica "d['certificate']['verified'] and d['certificate']['ocsp_stapled']" "certificate"
    check mica "d['certificate']['chain'][0]['subject'] == 'CN=mica test ecdsa-p256'" "chain"
    check mica "d['sessions']['tickets'] == 2 and d['sessions']['ticket_lifetime'] == 7200" \
        "tickets"
    check mica "d['sessions']['resumed'] and d['sessions']['early_data_accepted']" "0-RTT"
    check mica "d['sessions']['replayed_early_data'] == 'early_data_rejected'" \
        "the replayed 0-RTT flight: its early data rejected"
    check mica "finding('low', 'a replay was refused')" "the 0-RTT finding"
    check mica "d['http'] and d['hsts'] == 'max-age=31536000'" "HSTS"
    check mica "d['grade'] == 'A' and d['grade_reasons'] == ['0-RTT early data is accepted \
(a replay was refused)']" "the grade and its reason"
    stop
fi
# shellcheck disable=SC2086
if serve mica replay $p256 --www --early-data 16384 --anti-replay off; then
    scan replay --cafile "$certs/ca.pem"
    check replay "d['sessions']['replayed_early_data'] == 'accepted'" \
        "the replayed 0-RTT flight is accepted again"
    check replay "finding('high', 'a replayed early-data flight was accepted again')" \
        "the replay finding"
    check replay "d['grade'] == 'C' and len(d['grade_reasons']) == 1 and \
'replayed' in d['grade_reasons'][0]" "the grade and its reason"
    stop
fi
# shellcheck disable=SC2086
if serve mica order $p256 --ciphers TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384; then
    scan order --cafile "$certs/ca.pem"
    check order "d['tls13_cipher_suites'] == ['TLS_CHACHA20_POLY1305_SHA256', \
'TLS_AES_256_GCM_SHA384'] and d['server_cipher_order']" "the configured order"
    check order "not d['http'] and d['hsts'] is None and not finding('low', 'HSTS')" \
        "an echo server: no HTTP, so no HSTS finding"
    stop
fi
# shellcheck disable=SC2086
if serve ossl ossl $rsa -www; then
    scan ossl --cafile "$certs/ca.pem"
    check ossl "d['versions']['TLSv1.2'] and d['versions']['TLSv1.3'] and \
not d['versions']['TLSv1.1']" "versions"
    check ossl "sorted(d['tls13_cipher_suites']) == sorted(['TLS_AES_256_GCM_SHA384', \
'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'])" "its three suites"
    check ossl "all(s.startswith('rsa_pss_rsae') for s in d['signature_schemes']) and \
len(d['signature_schemes']) >= 1" "RSA-PSS schemes"
    check ossl "d['downgrade_sentinel'] is True" "the downgrade sentinel"
    check ossl "d['tls12_cipher_suites'][0] == 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256' and \
'TLS_RSA_WITH_AES_128_GCM_SHA256' in d['tls12_cipher_suites'] and \
not any('ECDSA' in s or 'RC4' in s or '3DES' in s for s in d['tls12_cipher_suites']) and \
not d['tls12_server_cipher_order']" "TLS 1.2 suites (an RSA key; the client's order)"
    check ossl "finding('medium', 'without forward secrecy') and finding('low', 'CBC')" \
        "TLS 1.2 findings"
    check ossl "not d['certificate']['ocsp_stapled'] and d['hsts'] is None" "no staple, no HSTS"
    check ossl "finding('low', 'post-quantum') and d['grade'] == 'B'" "post-quantum, grade"
    stop
fi
# shellcheck disable=SC2086
if serve ossl ossl-early $rsa -early_data; then
    scan ossl-early --cafile "$certs/ca.pem"
    check ossl-early "d['sessions']['early_data_accepted'] and \
d['sessions']['replayed_early_data'] == 'ticket_refused'" \
        "s_server's anti-replay: the replay's ticket refused"
    stop
fi
# shellcheck disable=SC2086
if serve ossl ossl-noar $rsa -early_data -no_anti_replay; then
    scan ossl-noar --cafile "$certs/ca.pem"
    check ossl-noar "d['sessions']['replayed_early_data'] == 'accepted' and \
finding('high', 'replayed')" "s_server -no_anti_replay: the replay accepted"
    stop
fi
# shellcheck disable=SC2086
if serve ossl rsafirst $rsa -www -tls1_2 -serverpref \
    -cipher 'AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256'; then
    scan rsafirst --cafile "$certs/ca.pem"
    check rsafirst "d['tls12_cipher_suites'] == ['TLS_RSA_WITH_AES_128_CBC_SHA', \
'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'] and \
d['tls12_server_cipher_order']" "the server's TLS 1.2 order"
    check rsafirst "finding('high', 'prefers TLS 1.2 suites without forward secrecy') and \
finding('high', 'TLS 1.3 is not supported')" "findings"
    stop
fi
# shellcheck disable=SC2086
if serve ossl tls10 $rsa -tls1 -cipher 'ALL:@SECLEVEL=0' -www; then
    scan tls10
    check tls10 "d['versions'] == {'SSLv3': False, 'TLSv1.0': True, 'TLSv1.1': False, \
'TLSv1.2': False, 'TLSv1.3': False}" "versions"
    check tls10 "finding('high', 'TLS 1.0') and finding('high', 'TLS 1.3')" "findings"
    check tls10 "d['legacy_cipher_suites']['version'] == 'TLSv1.0' and \
'TLS_DH_anon_WITH_AES_128_CBC_SHA' in d['legacy_cipher_suites']['suites'] and \
d['tls12_cipher_suites'] == []" "TLS 1.0's suites, enumerated"
    check tls10 "finding('critical', 'broken TLS 1.0 cipher suites') and d['grade'] == 'F'" \
        "anonymous suites: grade F"
    check tls10 "not d['certificate']['checked'] and \
d['certificate']['verify_error'].startswith('not checked')" "the certificate: not checked"
    stop
fi
# an Ed25519 certificate: TLS 1.2 is found only when the probe offers ed25519
ed25519="-cert $certs/ed25519.crt -key $certs/ed25519.key -cert_chain $certs/ca.pem"
# shellcheck disable=SC2086
if serve ossl ed25519 $ed25519 -www; then
    scan ed25519 --cafile "$certs/ca.pem"
    check ed25519 "d['versions']['TLSv1.2'] and \
'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256' in d['tls12_cipher_suites'] and \
d['signature_schemes'] == ['ed25519'] and d['certificate']['verified']" \
        "TLS 1.2 and 1.3 with an Ed25519 certificate"
    stop
fi

# certificates: for another name; expired (not after is a day before not before) and
# expiring in 10 days, both signed by the test CA
# shellcheck disable=SC2086
if serve mica wrongname $p256; then
    scan wrongname --cafile "$certs/ca.pem" --servername www.example.org
    check wrongname "not d['certificate']['verified'] and 'does not cover' in \
d['certificate']['verify_error'] and d['grade'] == 'F'" "a certificate for another name"
    stop
fi
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/leaf.key" 2>/dev/null &&
    openssl req -new -key "$tmp/leaf.key" -subj /CN=localhost -out "$tmp/leaf.csr" \
        2>/dev/null &&
    printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$tmp/leaf.ext" ||
    fail "cannot make a key and request"
for days in -1 10; do
    name=days$days
    openssl x509 -req -in "$tmp/leaf.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" \
        -days $days -extfile "$tmp/leaf.ext" -out "$tmp/$name.pem" 2>"$tmp/$name.x509" ||
        fail "cannot sign a leaf for $days days:$(excerpt "$tmp/$name.x509")"
    cat "$tmp/$name.pem" "$certs/ca.pem" >"$tmp/$name.chain.pem"
    if serve mica "$name" --cert "$tmp/$name.chain.pem" --key "$tmp/leaf.key"; then
        scan "$name" --cafile "$certs/ca.pem"
        if [ "$days" = -1 ]; then
            check "$name" "not d['certificate']['verified'] and 'expired' in \
d['certificate']['verify_error'] and finding('critical', 'the certificate has expired') and \
d['grade'] == 'F'" "an expired certificate"
        else
            check "$name" "d['certificate']['verified'] and \
d['certificate']['chain'][0]['days_left'] in (9, 10) and \
finding('medium', 'the certificate expires in') and d['grade'] == 'B'" \
                "a certificate that expires in 10 days"
        fi
        stop
    fi
done

# usage and reachability
$to "$mica" scan >/dev/null 2>&1
[ $? = 2 ] || fail "mica scan without a target: want exit 2"
$to "$mica" scan --parallel 0 127.0.0.1:1 >/dev/null 2>"$tmp/par.err"
[ $? = 2 ] || fail "mica scan --parallel 0: want exit 2"
has "$tmp/par.err" 'give a number from 1 to 16' "--parallel 0"
$to "$mica" scan --timeout 2 "127.0.0.1:$port" >/dev/null 2>"$tmp/down.err"
[ $? = 1 ] || fail "mica scan of a port nobody listens on: want exit 1"
has "$tmp/down.err" '^mica scan: cannot connect to 127\.0\.0\.1:[0-9]+: Connection refused' \
    "an unreachable port"
"$mica" scan --help | grep -q -- '--parallel N' || fail "mica scan --help: --parallel"

if [ $bad = 0 ]; then
    echo "scan: ok"
fi
exit $bad
