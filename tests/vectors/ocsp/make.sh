#!/bin/sh
# Regenerate the OCSP responses the tests use, for the test leaf
# tests/vectors/certs/ecdsa-p256.crt, signed by the test CA (tests/vectors/certs): the
# files are checked in; run this only to change them (openssl 3 from Debian).
#   good.der      status good, valid 100 years
#   revoked.der   revoked 2026-01-01 (keyCompromise), valid 100 years
#   short.der     status good, nextUpdate one day after it was made (stale later)
#   other.der     status good but signed by a key the CA never certified
set -eu
cd "$(dirname "$0")"
certs=../certs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
serial=$(openssl x509 -in $certs/ecdsa-p256.crt -noout -serial | cut -d= -f2)
subject=$(openssl x509 -in $certs/ecdsa-p256.crt -noout -subject -nameopt compat | sed 's/^subject=//')
openssl ocsp -issuer $certs/ca.pem -cert $certs/ecdsa-p256.crt -reqout "$tmp/req.der" -no_nonce \
    >/dev/null 2>&1
respond() { # out status days signer-cert signer-key
    rev=""
    [ "$2" = R ] && rev=260101000000Z,keyCompromise
    printf '%s\t301001010000Z\t%s\t%s\tunknown\t%s\n' "$2" "$rev" "$serial" "$subject" \
        >"$tmp/index.txt"
    openssl ocsp -index "$tmp/index.txt" -rsigner "$4" -rkey "$5" -CA $certs/ca.pem \
        -reqin "$tmp/req.der" -respout "$1" -ndays "$3" >/dev/null 2>&1
}
respond good.der V 36500 $certs/ca.pem $certs/ca.key
respond revoked.der R 36500 $certs/ca.pem $certs/ca.key
respond short.der V 1 $certs/ca.pem $certs/ca.key
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=mica test CA" \
    -keyout "$tmp/other.key" -out "$tmp/other.pem" -days 36500 2>/dev/null
respond other.der V 36500 "$tmp/other.pem" "$tmp/other.key"
ls -l ./*.der

# CRLs of the test CA: one that revokes the leaf, one that revokes nothing (100 years)
cat >"$tmp/ca.cnf" <<C
[ca]
default_ca = test
[test]
database = $tmp/db.txt
crlnumber = $tmp/crlnumber
default_md = sha256
default_crl_days = 36500
C
echo 01 >"$tmp/crlnumber"
printf 'R\t301001010000Z\t260101000000Z,keyCompromise\t%s\tunknown\t%s\n' "$serial" "$subject" \
    >"$tmp/db.txt"
openssl ca -config "$tmp/ca.cnf" -gencrl -keyfile $certs/ca.key -cert $certs/ca.pem \
    -out crl-revoked.pem 2>/dev/null
: >"$tmp/db.txt"
openssl ca -config "$tmp/ca.cnf" -gencrl -keyfile $certs/ca.key -cert $certs/ca.pem \
    -out crl-empty.pem 2>/dev/null
ls -l ./*.pem
