#!/bin/sh
# Regenerate the test PKI: one CA and a leaf per key type, valid 2025-01-01 .. 2125-01-01,
# each leaf for DNS localhost, DNS *.test.mica and IP 127.0.0.1 / ::1. The files are
# checked in; run this only to change them (openssl 3 from Debian).
set -eu
cd "$(dirname "$0")"
days=36525
conf() {
    cat <<C
[req]
distinguished_name = dn
prompt = no
[dn]
CN = $1
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost, DNS:*.test.mica, IP:127.0.0.1, IP:::1
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
C
}
conf "mica test CA" > ca.cnf
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key
openssl req -new -x509 -key ca.key -out ca.pem -days $days -config ca.cnf -extensions ca \
    -not_before 20250101000000Z -not_after 21250101000000Z 2>/dev/null ||
openssl req -new -x509 -key ca.key -out ca.pem -days $days -config ca.cnf -extensions ca
leaf() { # name, genpkey args...
    name=$1; shift
    conf "mica test $name" > "$name.cnf"
    openssl genpkey "$@" -out "$name.key"
    openssl req -new -key "$name.key" -out "$name.csr" -config "$name.cnf"
    openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
        -out "$name.crt" -days $days -extfile "$name.cnf" -extensions leaf 2>/dev/null
    cat "$name.crt" ca.pem > "$name.chain.pem"
    rm -f "$name.csr" "$name.cnf"
}
leaf ecdsa-p256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
leaf ecdsa-p384 -algorithm EC -pkeyopt ec_paramgen_curve:P-384
leaf ecdsa-p521 -algorithm EC -pkeyopt ec_paramgen_curve:P-521
leaf rsa2048 -algorithm RSA -pkeyopt rsa_keygen_bits:2048
leaf ed25519 -algorithm ED25519
leaf ed448 -algorithm ED448
leaf rsa1024 -algorithm RSA -pkeyopt rsa_keygen_bits:1024   # refused: too small
leaf brainpool -algorithm EC -pkeyopt ec_paramgen_curve:brainpoolP256r1   # refused: curve
rm -f ca.cnf ca.srl
