#!/bin/sh
# scan.sh <mica>: mica scan --json against servers whose configuration is known.
#
#   - mica server (TLS 1.3 only, --early-data, an OCSP staple, --www with HSTS):
#     versions exactly TLSv1.3; the five suites in mica's default order; x25519 and
#     X25519MLKEM768 among the groups; ecdsa_secp256r1_sha256 the one scheme; verified;
#     stapled; 2 tickets of 7200 s; resumed; 0-RTT accepted (a medium finding); HSTS
#   - mica server --ciphers TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384: only
#     those two, in that order, the server's
#   - openssl s_server (TLS 1.2 and 1.3): TLSv1.2 and TLSv1.3, its three default suites,
#     the RSA-PSS schemes of an RSA key, the downgrade sentinel, no staple, no HSTS,
#     no post-quantum group: low findings only, grade A
#   - openssl s_server -tls1 (TLS 1.0 only): TLSv1.0 only, a high finding, TLS 1.3 missing
#   - a certificate for another name does not verify: a critical finding and grade F
#
# Servers listen on 127.0.0.1 only, on ports 61000 + 2 * ($$ % 500) and up (above the
# kernel's ephemeral range), moved up by 7 when in use, and are stopped on exit.
# Exits 1 on any failure, 77 without openssl or python3.
unset SSLKEYLOGFILE
set -u

if [ $# -ne 1 ]; then
    echo "usage: scan.sh <path-to-mica-binary>" >&2
    exit 2
fi
mica=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
certs="$top/tests/vectors/certs"
port=$((61000 + 2 * ($$ % 500)))
for tool in openssl python3; do
    command -v $tool >/dev/null 2>&1 || {
        echo "scan: SKIP: $tool is needed"
        exit 77
    }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mica-scan.XXXXXX") || exit 2
pids=""
cleanup() {
    for p in $pids; do
        kill "$p" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

bad=0
fail() {
    echo "scan: FAIL: $*"
    bad=1
}
to=""
if command -v timeout >/dev/null 2>&1; then
    to="timeout 60"
fi

# serve NAME READY CMD...: start CMD (an argument ending in :PORT gets the port) until READY shows in
# its output; sets srv_pid, srv_port
serve() {
    name=$1
    ready=$2
    shift 2
    tries=0
    while :; do
        cmd=""
        for a in "$@"; do
            a=$(printf '%s' "$a" | sed "s/:PORT\$/:$port/")
            cmd="$cmd '$a'"
        done
        eval "$cmd" </dev/null >"$tmp/$name.log" 2>&1 &
        srv_pid=$!
        pids="$pids $srv_pid"
        i=0
        while [ $i -lt 100 ]; do
            if grep -q "$ready" "$tmp/$name.log" 2>/dev/null; then
                srv_port=$port
                port=$((port + 1))
                return 0
            fi
            kill -0 "$srv_pid" 2>/dev/null || break
            sleep 0.05
            i=$((i + 1))
        done
        kill "$srv_pid" 2>/dev/null
        wait "$srv_pid" 2>/dev/null
        if grep -qi 'in use' "$tmp/$name.log" && [ $tries -lt 5 ]; then
            tries=$((tries + 1))
            port=$((port + 7))
            continue
        fi
        fail "$name: cannot start: $(cat "$tmp/$name.log")"
        return 1
    done
}
stop() {
    kill "$srv_pid" 2>/dev/null
    wait "$srv_pid" 2>/dev/null
}
# scan NAME ARGS...: mica scan --json ARGS against the server, into $tmp/NAME.json
scan() {
    name=$1
    shift
    $to "$mica" scan --json --servername localhost "$@" "127.0.0.1:$srv_port" \
        >"$tmp/$name.json" 2>"$tmp/$name.err" || fail "$name: mica scan exited $?: $(cat "$tmp/$name.err")"
}
# check NAME PYTHON-EXPR WHAT: the expression over d (the JSON) must be true
check() {
    python3 - "$tmp/$1.json" "$2" <<'EOF' || fail "$1: $3"
import json, sys
d = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2], {"d": d, "any": any, "all": all, "len": len})
if not ok:
    print("  the report was: " + json.dumps(d)[:1500])
sys.exit(0 if ok else 1)
EOF
}

v13='{"SSLv3": False, "TLSv1.0": False, "TLSv1.1": False, "TLSv1.2": False, "TLSv1.3": True}'
if serve mica 'listening on' "$mica" server --accept 127.0.0.1:PORT \
    --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" --www \
    --early-data 16384 --ocsp-staple "$top/tests/vectors/ocsp/good.der"; then
    scan mica --cafile "$certs/ca.pem"
    check mica "d['versions'] == $v13" "versions"
    check mica "d['tls13_cipher_suites'] == ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', \
'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_CCM_SHA256', 'TLS_AES_128_CCM_8_SHA256']" "suites"
    check mica "d['server_cipher_order']" "the server's order"
    check mica "'x25519' in d['groups'] and 'X25519MLKEM768' in d['groups']" "groups"
    check mica "d['signature_schemes'] == ['ecdsa_secp256r1_sha256']" "schemes"
    check mica "d['certificate']['verified'] and d['certificate']['ocsp_stapled']" "certificate"
    check mica "d['certificate']['chain'][0]['subject'] == 'CN=mica test ecdsa-p256'" "chain"
    check mica "d['sessions']['tickets'] == 2 and d['sessions']['ticket_lifetime'] == 7200" \
        "tickets"
    check mica "d['sessions']['resumed'] and d['sessions']['early_data_accepted']" "0-RTT"
    check mica "any(f['severity'] == 'medium' and '0-RTT' in f['title'] for f in d['findings'])" \
        "the 0-RTT finding"
    check mica "d['hsts'] == 'max-age=31536000' and d['grade'] == 'B'" "HSTS and grade"
    stop
fi
if serve order 'listening on' "$mica" server --accept 127.0.0.1:PORT \
    --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
    --ciphers TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384; then
    scan order --cafile "$certs/ca.pem"
    check order "d['tls13_cipher_suites'] == ['TLS_CHACHA20_POLY1305_SHA256', \
'TLS_AES_256_GCM_SHA384'] and d['server_cipher_order']" "the configured order"
    stop
fi
if serve ossl '^ACCEPT' openssl s_server -accept 127.0.0.1:PORT -cert "$certs/rsa2048.crt" \
    -key "$certs/rsa2048.key" -cert_chain "$certs/ca.pem" -www; then
    scan ossl --cafile "$certs/ca.pem"
    check ossl "d['versions']['TLSv1.2'] and d['versions']['TLSv1.3'] and \
not d['versions']['TLSv1.1']" "versions"
    check ossl "d['tls13_cipher_suites'] == ['TLS_AES_256_GCM_SHA384', \
'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'] or \
sorted(d['tls13_cipher_suites']) == sorted(['TLS_AES_256_GCM_SHA384', \
'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'])" "its three suites"
    check ossl "all(s.startswith('rsa_pss_rsae') for s in d['signature_schemes']) and \
len(d['signature_schemes']) >= 1" "RSA-PSS schemes"
    check ossl "d['downgrade_sentinel'] is True" "the downgrade sentinel"
    check ossl "not d['certificate']['ocsp_stapled'] and d['hsts'] is None" "no staple, no HSTS"
    check ossl "all(f['severity'] == 'low' for f in d['findings']) and d['grade'] == 'A'" \
        "low findings only, grade A"
    stop
fi
if serve tls10 '^ACCEPT' openssl s_server -accept 127.0.0.1:PORT -cert "$certs/rsa2048.crt" \
    -key "$certs/rsa2048.key" -tls1 -cipher 'ALL:@SECLEVEL=0' -www; then
    scan tls10
    check tls10 "d['versions'] == {'SSLv3': False, 'TLSv1.0': True, 'TLSv1.1': False, \
'TLSv1.2': False, 'TLSv1.3': False}" "versions"
    check tls10 "any(f['severity'] == 'high' and 'TLS 1.0' in f['title'] for f in d['findings']) \
and any('TLS 1.3' in f['title'] for f in d['findings'])" "findings"
    stop
fi
# an expired certificate: made now, valid one day, checked by the scan a year ahead is
# not possible without a clock; instead, a certificate for another name fails to verify
if serve wrongname 'listening on' "$mica" server --accept 127.0.0.1:PORT \
    --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key"; then
    $to "$mica" scan --json --servername www.example.org --cafile "$certs/ca.pem" \
        "127.0.0.1:$srv_port" >"$tmp/wrongname.json" 2>/dev/null
    check wrongname "not d['certificate']['verified'] and 'does not cover' in \
d['certificate']['verify_error'] and d['grade'] == 'F'" "a certificate for another name"
    stop
fi

if [ $bad = 0 ]; then
    echo "scan: ok"
fi
exit $bad
