#!/bin/sh
# Write the seeds of fuzz_verify: OCSP responses for the test leaf
# (tests/vectors/certs/ecdsa-p256.crt) signed by the test CA -- good, revoked, and one for
# another serial (unknown to the request) -- valid for 100 years from now, and two pin
# texts. Needs openssl 3. Usage (from anywhere): sh tests/fuzz/make_verify_corpus.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
certs=$here/../vectors/certs
out=$here/corpus/fuzz_verify
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
serial=$(openssl x509 -in "$certs/ecdsa-p256.crt" -noout -serial | cut -d= -f2)
subject=$(openssl x509 -in "$certs/ecdsa-p256.crt" -noout -subject -nameopt compat | sed 's/^subject=//')
respond() { # status name
    printf '%s\t301001010000Z\t%s\t%s\tunknown\t%s\n' "$1" \
        "$([ "$1" = R ] && echo 260101000000Z,keyCompromise)" "$serial" "$subject" >"$tmp/index.txt"
    openssl ocsp -issuer "$certs/ca.pem" -cert "$certs/ecdsa-p256.crt" -reqout "$tmp/req.der" \
        -no_nonce >/dev/null 2>&1
    openssl ocsp -index "$tmp/index.txt" -rsigner "$certs/ca.pem" -rkey "$certs/ca.key" \
        -CA "$certs/ca.pem" -reqin "$tmp/req.der" -respout "$out/$2.der" -ndays 36500 \
        >/dev/null 2>&1
}
respond V good
respond R revoked
printf 'sha256/%s' "$(openssl x509 -in "$certs/ecdsa-p256.crt" -noout -pubkey |
    openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64)" >"$out/pin.txt"
printf 'sha256/AAAA' >"$out/pin-short.txt"
ls -l "$out"
