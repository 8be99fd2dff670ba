#!/bin/sh
# mica verify: chains on disk verified like mica client verifies a server, with reasons.
set -u
mica=$1
certs="$(cd "$(dirname "$0")/../vectors/certs" && pwd)"
fail=0
expect() { # want_exit want_text args...
    want=$1 text=$2
    shift 2
    out=$("$mica" verify "$@" 2>&1)
    rc=$?
    if [ $rc -ne "$want" ] || ! printf '%s' "$out" | grep -q -- "$text"; then
        echo "verify: FAIL: mica verify $*: exit $rc, want $want with '$text': $out"
        fail=1
    fi
}
expect 0 "verified: ok" --cafile "$certs/ca.pem" --host localhost "$certs/ecdsa-p256.chain.pem"
expect 0 "verified: ok" --cafile "$certs/ca.pem" --ip 127.0.0.1 "$certs/rsa2048.chain.pem"
expect 0 "verified: ok" --cafile "$certs/ca.pem" --host a.test.mica "$certs/ed25519.chain.pem"
expect 1 "does not cover example.com" --cafile "$certs/ca.pem" --host example.com \
    "$certs/ecdsa-p256.chain.pem"
expect 1 "does not cover a.b.test.mica" --cafile "$certs/ca.pem" --host a.b.test.mica \
    "$certs/ecdsa-p256.chain.pem"
expect 1 "expired" --cafile "$certs/ca.pem" --time 2200-01-01T00:00:00Z "$certs/ecdsa-p256.chain.pem"
expect 1 "is not valid before" --cafile "$certs/ca.pem" --time 2000-01-01T00:00:00Z \
    "$certs/ecdsa-p256.chain.pem"
# the leaf alone: the intermediate (here the CA itself) must come from --untrusted or --cafile
expect 1 "cannot find the issuer" "$certs/ecdsa-p256.crt"
expect 0 "verified: ok" --cafile "$certs/ca.pem" --purpose client "$certs/ecdsa-p256.crt"
expect 2 "RFC 3339" --time tomorrow "$certs/ecdsa-p256.crt"
expect 2 "one chain file" a b
expect 1 "cannot read" /nonexistent.pem
out=$("$mica" verify --json --cafile "$certs/ca.pem" --host example.com "$certs/ecdsa-p256.chain.pem")
printf '%s' "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
sys.exit(0 if r["verified"] is False and r["code"] == "cert_hostname" and "example.com" in r["error"] else 1)
' || { echo "verify: FAIL: --json gave $out"; fail=1; }
[ $fail -eq 0 ] && echo "verify: ok"
exit $fail
