#!/bin/sh
# certs.sh <mica> [port]: certificate verification by mica client (and mica verify, and
# mica server's client-certificate checks) against certificates that are good and bad on
# purpose, served by mica server and by openssl s_server, over sockets on 127.0.0.1.
#
# The PKI is made at test time in the temporary directory with the openssl CLI (openssl ca,
# which takes -startdate/-enddate): a root CA and an intermediate CA (EC P-256, valid
# 2018-2100), and leaves signed by the intermediate. Every mica client connects to
# 127.0.0.1 with --servername NAME (sent in SNI, checked in the certificate) and --http /.
# A failure must exit 1 with "mica: the server's certificate is not valid: SENTENCE" on
# stderr, and the fatal alert it sends is checked where the server shows it: mica server
# --verbose logs result=peer_alert error="...fatal alert: ALERT", openssl s_server prints
# "SSL alert number N".
#
#   1. The good leaf (DNS:localhost, IP:127.0.0.1) with its intermediate, mica server and
#      s_server: verified by name and by address; another name -> "does not cover"
#      (bad_certificate); a trust store without our root -> "cannot find the issuer"
#      (unknown_ca); --pin of the leaf, of the intermediate, of the root, or a wrong pin
#      next to a right one: verified; a wrong pin alone -> "no certificate of the chain
#      matches a configured pin (the chain's keys: ...)" (bad_certificate); --ocsp require
#      without a staple -> "stapled no OCSP response" (bad_certificate_status_response).
#   2. The leaf sent without its intermediate, mica server and s_server: "cannot find the
#      issuer ... the server probably does not send its intermediate certificate"
#      (unknown_ca); verified when --cafile holds the root and the intermediate.
#   3. Unknown CAs, mica server and s_server: a chain sent up to its root, which the client
#      does not trust -> "the chain ends in the self-signed root" (unknown_ca); a
#      self-signed leaf -> "is self-signed and not in the trust store" (unknown_ca).
#   4. Validity, mica server and s_server: a leaf that expired in 2020 -> "expired on
#      2020-... days ago"; one valid from 2090 -> "is not valid before 2090-" (both
#      certificate_expired).
#   5. Names, mica server: *.example.test covers a.example.test, not a.b.example.test nor
#      example.test (bad_certificate); www.example.test is not localhost; an IP-only leaf
#      is verified for 127.0.0.1 (and no SNI is sent: sni=none), not for localhost.
#   6. Purpose, mica server: a leaf with extended key usage clientAuth only -> "is not for
#      TLS servers" (unsupported_certificate).
#   7. Weak certificates: a leaf signed with ecdsa-with-SHA1 (mica server, and s_server at
#      @SECLEVEL=0, which it needs to load it) -> "a digest mica does not trust"; an
#      RSA-1024 leaf, which mica server refuses to load (checked), served by s_server at
#      @SECLEVEL=0 -> "has an RSA key of 1024 bits, too weak" (both
#      unsupported_certificate).
#   8. OCSP stapling (responses made with openssl ocsp from an index file), mica server
#      --ocsp-staple and s_server -status_file: a good staple passes --ocsp require and
#      auto; a staple that says revoked (keyCompromise) fails in the default --ocsp auto
#      and in require -> "was revoked on ... (reason: keyCompromise)"
#      (certificate_revoked), and is ignored with --ocsp off.
#   9. mica verify: an expired leaf (and --time in its validity), --purpose server on the
#      clientAuth-only leaf, --purpose client on the client leaf, --untrusted, --host,
#      --ip, the RSA-1024 leaf.
#  10. Mutual TLS: mica server --verify-client require --client-ca ROOT and openssl
#      s_client with a client chain: the page's row "client certificate: CN=... (verified)"
#      and client_cert=verified; without a certificate the handshake fails
#      (result=certificate_required); the client leaf without its intermediate is refused
#      (cert_untrusted, unknown_ca); mica client --cert to the same server. --verify-client
#      optional: no certificate is served (client_cert=none), an untrusted one too
#      (client_cert=unverified). mica client --cert/--key -> openssl s_server -Verify 2:
#      verified by s_server; without --cert, exit 1 and certificate_required.
#
# Ports: [port] (default 54000 + 4 * ($$ % 1000)); one server runs at a time, each on the
# same port (mica server and s_server set SO_REUSEADDR), moved up by 7 when in use. Every
# server runs under timeout when it is installed and is stopped on exit; every client runs
# under timeout.
#
# Exit status: 0 all pass, 1 any failure, 2 bad usage, 77 (skip) without openssl.
unset SSLKEYLOGFILE
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: certs.sh <path-to-mica-binary> [port]" >&2
    exit 2
fi
mica=$1
port=${2:-$((54000 + 4 * ($$ % 1000)))}

if [ ! -x "$mica" ]; then
    echo "certs: $mica is not an executable" >&2
    exit 2
fi
command -v openssl >/dev/null 2>&1 || {
    echo "certs: SKIP: openssl is needed"
    exit 77
}
me=certs
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
make_tmp
use_timeout 10 100
# ere TEXT: TEXT with the characters special in an ERE escaped (for pins, in base64)
ere() {
    printf '%s' "$1" | sed 's/[][\.*+?(){}|^$]/\\&/g'
}

# ---- the PKI -----------------------------------------------------------------------------
pki=$tmp/pki
mkdir "$pki" "$pki/rootdb" "$pki/interdb" "$pki/selfdb" || exit 1
# gen WHAT ARGS...: openssl ARGS (stderr to pki/openssl.log); a failure ends the test
gen() {
    what=$1
    shift
    openssl "$@" 2>"$pki/openssl.log" >/dev/null ||
        {
            echo "certs: cannot make $what: openssl $1 failed:$(excerpt "$pki/openssl.log")" >&2
            exit 1
        }
}
# a minimal openssl ca configuration; the database, the SAN and the EKU come from the
# environment (openssl ca -extensions leaf)
cat >"$pki/ca.cnf" <<'EOF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ca ]
default_ca = ca_default
[ ca_default ]
dir = $ENV::MICA_CA_DIR
database = $dir/index.txt
serial = $dir/serial
new_certs_dir = $dir
default_md = sha256
default_days = 30
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
[ policy_any ]
commonName = supplied
[ v3_root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_inter ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = $ENV::MICA_EKU
subjectAltName = $ENV::MICA_SAN
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
for db in rootdb interdb selfdb; do : >"$pki/$db/index.txt"; done
echo 1000 >"$pki/rootdb/serial"
echo 2000 >"$pki/interdb/serial"
echo 3000 >"$pki/selfdb/serial"
MICA_CA_DIR=$pki MICA_SAN=DNS:unused MICA_EKU=serverAuth
export MICA_CA_DIR MICA_SAN MICA_EKU
# eckey FILE: a P-256 key
eckey() {
    gen "$1" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
}
# ca DB ARGS...: openssl ca with the database DB
ca() {
    MICA_CA_DIR=$pki/$1
    shift
    gen "a certificate ($*)" ca -config "$pki/ca.cnf" -batch -notext "$@"
}
# csr NAME CN: NAME.key (made when missing) and NAME.csr for CN=CN
csr() {
    [ -f "$pki/$1.key" ] || eckey "$pki/$1.key"
    gen "$1.csr" req -new -config "$pki/ca.cnf" -key "$pki/$1.key" -subj "/CN=$2" \
        -out "$pki/$1.csr"
}
# leaf NAME CN SAN EKU [openssl ca options]: NAME.pem signed by the intermediate, and
# NAME.chain.pem (leaf + intermediate)
leaf() {
    n=$1 cn=$2
    MICA_SAN=$3 MICA_EKU=$4
    shift 4
    csr "$n" "$cn"
    ca interdb -cert "$pki/inter.pem" -keyfile "$pki/inter.key" -in "$pki/$n.csr" \
        -extensions leaf -out "$pki/$n.pem" "$@"
    cat "$pki/$n.pem" "$pki/inter.pem" >"$pki/$n.chain.pem"
}
long="-startdate 20180101000000Z -enddate 21000101000000Z"
csr root "mica certs test root"
# shellcheck disable=SC2086
ca rootdb -selfsign -keyfile "$pki/root.key" -in "$pki/root.csr" -extensions v3_root \
    -out "$pki/root.pem" $long
csr inter "mica certs test intermediate"
# shellcheck disable=SC2086
ca rootdb -cert "$pki/root.pem" -keyfile "$pki/root.key" -in "$pki/inter.csr" \
    -extensions v3_inter -out "$pki/inter.pem" $long
# another root, which signed nothing here (an unknown CA)
eckey "$pki/other.key"
gen other.pem req -new -x509 -config "$pki/ca.cnf" -key "$pki/other.key" \
    -subj "/CN=mica certs other root" -days 30 -out "$pki/other.pem"
both='serverAuth, clientAuth'
lh='DNS:localhost, IP:127.0.0.1'
leaf good localhost "$lh" "$both"
leaf expired localhost "$lh" "$both" -startdate 20190101000000Z -enddate 20200101000000Z
leaf future localhost "$lh" "$both" -startdate 20900101000000Z -enddate 20910101000000Z
leaf www www.example.test DNS:www.example.test "$both"
leaf wild '*.example.test' 'DNS:*.example.test' "$both"
leaf iponly 127.0.0.1 IP:127.0.0.1 "$both"
leaf cliekus localhost "$lh" clientAuth
leaf sha1 localhost "$lh" "$both" -md sha1
gen rsa1024.key genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$pki/rsa1024.key"
leaf rsa1024 localhost "$lh" "$both"
leaf client "mica certs test client" DNS:client.example.test clientAuth
# a self-signed leaf (CA:FALSE) for localhost
MICA_SAN=$lh MICA_EKU=serverAuth
csr self localhost
ca selfdb -selfsign -keyfile "$pki/self.key" -in "$pki/self.csr" -extensions leaf \
    -out "$pki/self.pem"
cat "$pki/root.pem" "$pki/inter.pem" >"$pki/rootinter.pem"
cat "$pki/inter.pem" "$pki/root.pem" >"$pki/interroot.pem"
cat "$pki/good.chain.pem" "$pki/root.pem" >"$pki/good.full.pem"
# OCSP responses for the good leaf, signed by the intermediate: good (the intermediate's
# database says V) and revoked (the same line turned into R, keyCompromise, now)
gen ocsp-req ocsp -issuer "$pki/inter.pem" -cert "$pki/good.pem" -reqout "$pki/ocsp.req" \
    -no_nonce
serial=$(openssl x509 -in "$pki/good.pem" -noout -serial | sed 's/^serial=//')
now=$(date -u +%y%m%d%H%M%SZ)
awk -F '\t' -v s="$serial" -v t="$now" 'BEGIN { OFS = "\t" }
    $4 == s { $1 = "R"; $3 = t ",keyCompromise" } { print }' \
    "$pki/interdb/index.txt" >"$pki/revoked.index"
echo 'unique_subject = no' >"$pki/revoked.index.attr"
if ! grep -q "^R	" "$pki/revoked.index"; then
    echo "certs: no revoked line in revoked.index:$(excerpt "$pki/revoked.index")" >&2
    exit 1
fi
for st in good revoked; do
    idx=$pki/interdb/index.txt
    [ $st = revoked ] && idx=$pki/revoked.index
    gen "the $st OCSP response" ocsp -index "$idx" -rsigner "$pki/inter.pem" \
        -rkey "$pki/inter.key" -CA "$pki/inter.pem" -reqin "$pki/ocsp.req" \
        -respout "$pki/$st.ocsp" -ndays 7
done
# spki FILE: the certificate's SPKI pin, base64 of SHA-256 of its DER public key
spki() {
    openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER |
        openssl dgst -sha256 -binary | base64
}
pin_leaf=$(spki "$pki/good.pem")
pin_inter=$(spki "$pki/inter.pem")
pin_root=$(spki "$pki/root.pem")
pin_other=$(spki "$pki/other.pem")
if [ -z "$pin_leaf" ] || [ -z "$pin_inter" ] || [ -z "$pin_root" ] || [ -z "$pin_other" ]; then
    echo "certs: cannot compute the SPKI pins" >&2
    exit 1
fi

# ---- servers -----------------------------------------------------------------------------
# serve KIND NAME ARGS...: KIND mica (mica server --www --verbose ARGS) or ossl (openssl
# s_server -www ARGS) on 127.0.0.1:$port, its output in $tmp/NAME.log. Sets srv_pid,
# srv_kind, srv_log and conn_ere (the lines it writes per connection that it ends or sees
# ended with an alert). Returns 1 (after a failure) when it cannot start.
serve() {
    srv_kind=$1
    name=$2
    shift 2
    srv_log=$tmp/$name.log
    if [ "$srv_kind" = mica ]; then
        conn_ere=' result='
        spawn_server "$srv_log" 'listening on' \
            "$mica" server --accept 127.0.0.1:@PORT@ --www --verbose "$@"
    else
        conn_ere='SSL alert number [0-9]+'
        spawn_server -a "$srv_log" '^ACCEPT' openssl s_server -accept 127.0.0.1:@PORT@ -www "$@"
    fi || {
        fail "$name: cannot start the server:$(excerpt "$srv_log")"
        return 1
    }
    port=$srv_port # one server at a time: the next one takes the same port
}
# stop: stop the server; a mica server must exit 0 after SIGTERM with no sanitizer report
# (s_server dies of the signal, which the shell would report on stderr)
stop() {
    if [ "$srv_kind" = mica ]; then
        stop_server "$srv_pid" "$srv_log"
    else
        kill "$srv_pid" 2>/dev/null
        lib_reap "$srv_pid" "$srv_log"
        wait "$srv_pid" 2>/dev/null
        rm_pid "$srv_pid"
    fi
}
# nconn: the number of connection lines the server has written
nconn() {
    grep -Ec -- "$conn_ere" "$srv_log"
}
# conn_line NAME AT: wait (at most 5 s) for the server's connection line number AT+1, copy
# it to $tmp/NAME.line; fail when it does not come
conn_line() {
    i=0
    while [ "$(nconn)" -le "$2" ] && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    grep -E -- "$conn_ere" "$srv_log" | sed -n "$(($2 + 1))p" >"$tmp/$1.line"
    [ -s "$tmp/$1.line" ] ||
        fail "$c $1: the server logged no line for the connection:$(excerpt "$srv_log")"
}
# alert_no ALERT: the number of a TLS alert (as openssl s_server prints it)
alert_no() {
    case $1 in
    bad_certificate) echo 42 ;;
    unsupported_certificate) echo 43 ;;
    certificate_revoked) echo 44 ;;
    certificate_expired) echo 45 ;;
    unknown_ca) echo 48 ;;
    bad_certificate_status_response) echo 113 ;;
    certificate_required) echo 116 ;;
    *) echo "?" ;;
    esac
}

# mclient NAME CA SERVERNAME ARGS...: mica client --http / --cafile $pki/CA --servername
# SERVERNAME (none when -) ARGS to 127.0.0.1 at the running server; stdout in
# $tmp/NAME.out, stderr in $tmp/NAME.err, exit status in rc
mclient() {
    n=$1 cafile=$pki/$2 sn=$3
    shift 3
    if [ "$sn" = - ]; then
        $to "$mica" client --http / --cafile "$cafile" "$@" "127.0.0.1:$port" \
            </dev/null >"$tmp/$n.out" 2>"$tmp/$n.err"
    else
        $to "$mica" client --http / --cafile "$cafile" --servername "$sn" "$@" \
            "127.0.0.1:$port" </dev/null >"$tmp/$n.out" 2>"$tmp/$n.err"
    fi
    rc=$?
}
# ok NAME CA SERVERNAME ARGS...: mclient must exit 0 with the page (and mica server logs
# result=ok for the connection)
ok() {
    n=$1
    at=$(nconn)
    mclient "$@"
    [ $rc = 0 ] || fail "$c $n: mica client exited $rc, want 0:$(excerpt "$tmp/$n.err")"
    has "$tmp/$n.err" '^verification: ok$' "$c $n: mica client"
    has "$tmp/$n.out" '^HTTP/1\.[01] 200 ' "$c $n: the page"
    if [ "$srv_kind" = mica ]; then
        conn_line "$n" "$at"
        has "$tmp/$n.line" ' result=ok$' "$c $n: mica server's line"
    fi
}
# nok NAME ALERT ERE CA SERVERNAME ARGS...: mclient must exit 1 saying that the server's
# certificate is not valid, then ERE, and the server must see the fatal alert ALERT
nok() {
    n=$1 alert=$2 why=$3
    shift 3
    at=$(nconn)
    mclient "$n" "$@"
    [ $rc = 1 ] || fail "$c $n: mica client exited $rc, want 1:$(excerpt "$tmp/$n.err")"
    has "$tmp/$n.err" "^mica: the server's certificate is not valid: .*$why" \
        "$c $n: mica client's reason"
    conn_line "$n" "$at"
    if [ "$srv_kind" = mica ]; then
        has "$tmp/$n.line" \
            " result=peer_alert error=\"the peer ended the connection with a fatal alert: $alert\"\$" \
            "$c $n: mica server's line (the client's alert)"
    else
        has "$tmp/$n.line" "SSL alert number $(alert_no "$alert")\$" \
            "$c $n: s_server's error (the client's alert, $alert)"
    fi
}

# sentences (EREs) of mica client, after "the server's certificate is not valid: "
not_cover() { # NAME NAMES
    echo "certificate '[^']*' does not cover $(ere "$1") \\(its names: $(ere "$2")\\)\$"
}
no_inter="cannot find the issuer 'CN=mica certs test intermediate' of 'CN=localhost' in the trust store: the server probably does not send its intermediate certificate\$"
no_root="cannot find the issuer 'CN=mica certs test root' of 'CN=mica certs test intermediate' in the trust store\$"
self_root="the chain ends in the self-signed root 'CN=mica certs test root', which is not in the trust store\$"
self_leaf="certificate 'CN=localhost' is self-signed and not in the trust store\$"
expired="certificate 'CN=localhost' expired on 2020-01-01 00:00:00 UTC, [0-9]+ days ago\$"
future="certificate 'CN=localhost' is not valid before 2090-01-01 00:00:00 UTC"
pin_bad="no certificate of the chain matches a configured pin \\(the chain's keys: sha256/$(ere "$pin_leaf"), sha256/$(ere "$pin_inter")"
no_staple="stapled no OCSP response for 'CN=localhost'"
revoked="certificate 'CN=localhost' was revoked on 20[0-9][0-9]-[0-9-]+ [0-9:]+ UTC \\(reason: keyCompromise\\)"
eku="certificate 'CN=localhost' at depth 0 is not for TLS servers \\(its extended key usage: TLS Web Client Authentication\\)\$"
sha1="certificate 'CN=localhost' at depth 0 is signed with ecdsa-with-SHA1, a digest mica does not trust"
rsa1024="certificate 'CN=localhost' at depth 0 has an RSA key of 1024 bits, too weak"
c=""

# ---- 1. the good chain -------------------------------------------------------------------
# good_chain: the checks of 1. against the running server
good_chain() {
    ok name root.pem localhost
    ok addr root.pem -
    nok wronghost bad_certificate "$(not_cover www.example.test 'localhost, 127.0.0.1')" \
        root.pem www.example.test
    nok untrusted unknown_ca "$no_root" other.pem localhost
    ok pin-leaf root.pem localhost --pin "sha256/$pin_leaf"
    ok pin-inter root.pem localhost --pin "sha256/$pin_inter"
    # the root (the trust anchor, not sent by the server) is part of the verified chain
    ok pin-root root.pem localhost --pin "sha256/$pin_root"
    ok pin-two root.pem localhost --pin "sha256/$pin_other" --pin "sha256/$pin_leaf"
    nok pin-wrong bad_certificate "$pin_bad" root.pem localhost --pin "sha256/$pin_other"
    # the whole list of the chain's keys, root included (a sentence is not cut short)
    has "$tmp/pin-wrong.err" "$pin_bad, sha256/$(ere "$pin_root")\\)\$" \
        "$c pin-wrong: the whole list of the chain's keys"
    nok ocsp-absent bad_certificate_status_response "$no_staple" root.pem localhost \
        --ocsp require
}
c="1. mica server:"
echo "certs: 1. the good chain -> mica server, openssl s_server"
if serve mica good --cert "$pki/good.chain.pem" --key "$pki/good.key"; then
    good_chain
    has "$tmp/addr.line" ' sni=none ' "$c addr: no SNI for an address"
    has "$tmp/wronghost.line" ' sni=www\.example\.test ' "$c wronghost: the SNI"
    stop
fi
c="1. s_server:"
if serve ossl good-ossl -cert "$pki/good.pem" -key "$pki/good.key" \
    -cert_chain "$pki/inter.pem"; then
    good_chain
    stop
fi

# ---- 2. the intermediate not sent --------------------------------------------------------
echo "certs: 2. the leaf without its intermediate -> mica server, openssl s_server"
c="2. mica server:"
if serve mica leafonly --cert "$pki/good.pem" --key "$pki/good.key"; then
    nok no-inter unknown_ca "$no_inter" root.pem localhost
    ok with-inter rootinter.pem localhost
    stop
fi
c="2. s_server:"
if serve ossl leafonly-ossl -cert "$pki/good.pem" -key "$pki/good.key"; then
    nok no-inter unknown_ca "$no_inter" root.pem localhost
    ok with-inter rootinter.pem localhost
    stop
fi

# ---- 3. unknown CAs ----------------------------------------------------------------------
echo "certs: 3. an untrusted root, a self-signed leaf -> mica server, openssl s_server"
c="3. mica server:"
if serve mica full --cert "$pki/good.full.pem" --key "$pki/good.key"; then
    nok other-root unknown_ca "$self_root" other.pem localhost
    ok full root.pem localhost
    stop
fi
if serve mica self --cert "$pki/self.pem" --key "$pki/self.key"; then
    nok self unknown_ca "$self_leaf" root.pem localhost
    stop
fi
c="3. s_server:"
if serve ossl full-ossl -cert "$pki/good.pem" -key "$pki/good.key" \
    -cert_chain "$pki/interroot.pem"; then
    nok other-root unknown_ca "$self_root" other.pem localhost
    ok full root.pem localhost
    stop
fi
if serve ossl self-ossl -cert "$pki/self.pem" -key "$pki/self.key"; then
    nok self unknown_ca "$self_leaf" root.pem localhost
    stop
fi

# ---- 4. validity -------------------------------------------------------------------------
echo "certs: 4. expired, not yet valid -> mica server, openssl s_server"
for kind in mica ossl; do
    c="4. $kind server:"
    if [ $kind = mica ]; then
        serve mica expired --cert "$pki/expired.chain.pem" --key "$pki/expired.key" || continue
    else
        serve ossl expired-ossl -cert "$pki/expired.pem" -key "$pki/expired.key" \
            -cert_chain "$pki/inter.pem" || continue
    fi
    nok expired certificate_expired "$expired" root.pem localhost
    stop
    if [ $kind = mica ]; then
        serve mica future --cert "$pki/future.chain.pem" --key "$pki/future.key" || continue
    else
        serve ossl future-ossl -cert "$pki/future.pem" -key "$pki/future.key" \
            -cert_chain "$pki/inter.pem" || continue
    fi
    nok future certificate_expired "$future" root.pem localhost
    stop
done

# ---- 5. names ----------------------------------------------------------------------------
echo "certs: 5. a wildcard, another host, an IP-only leaf -> mica server"
c="5. mica server:"
if serve mica wild --cert "$pki/wild.chain.pem" --key "$pki/wild.key"; then
    ok wild-a root.pem a.example.test
    nok wild-ab bad_certificate "$(not_cover a.b.example.test '*.example.test')" \
        root.pem a.b.example.test
    nok wild-bare bad_certificate "$(not_cover example.test '*.example.test')" \
        root.pem example.test
    stop
fi
if serve mica www --cert "$pki/www.chain.pem" --key "$pki/www.key"; then
    ok www root.pem www.example.test
    nok www-localhost bad_certificate "$(not_cover localhost www.example.test)" \
        root.pem localhost
    stop
fi
if serve mica iponly --cert "$pki/iponly.chain.pem" --key "$pki/iponly.key"; then
    ok ip-sn root.pem 127.0.0.1
    has "$tmp/ip-sn.line" ' sni=none ' "$c ip-sn: no SNI for an address"
    ok ip-addr root.pem -
    nok ip-localhost bad_certificate "$(not_cover localhost 127.0.0.1)" root.pem localhost
    stop
fi

# ---- 6. purpose --------------------------------------------------------------------------
echo "certs: 6. a clientAuth-only leaf as a server's -> mica server"
c="6. mica server:"
if serve mica cliekus --cert "$pki/cliekus.chain.pem" --key "$pki/cliekus.key"; then
    nok eku unsupported_certificate "$eku" root.pem localhost
    stop
fi

# ---- 7. weak certificates ----------------------------------------------------------------
echo "certs: 7. SHA-1 signature, RSA-1024 key -> mica server, openssl s_server"
c="7. mica server:"
if serve mica sha1 --cert "$pki/sha1.chain.pem" --key "$pki/sha1.key"; then
    nok sha1 unsupported_certificate "$sha1" root.pem localhost
    stop
fi
# mica server refuses an RSA key below 2048 bits at startup
$to "$mica" server --cert "$pki/rsa1024.chain.pem" --key "$pki/rsa1024.key" \
    --accept "127.0.0.1:$port" --www </dev/null >/dev/null 2>"$tmp/rsa1024-srv.err"
rc=$?
[ $rc = 1 ] ||
    fail "7. mica server --cert rsa1024: exited $rc, want 1:$(excerpt "$tmp/rsa1024-srv.err")"
has "$tmp/rsa1024-srv.err" '^mica server: cannot use --cert .*rsa1024\.chain\.pem' \
    "7. mica server --cert rsa1024"
# openssl s_server needs security level 0 to load these two (at its default level it
# says "ca md too weak" and "ee key too small")
c="7. s_server:"
if serve ossl sha1-ossl -cert "$pki/sha1.pem" -key "$pki/sha1.key" -cert_chain "$pki/inter.pem" \
    -cipher 'ALL:@SECLEVEL=0'; then
    nok sha1 unsupported_certificate "$sha1" root.pem localhost
    stop
fi
if serve ossl rsa1024-ossl -cert "$pki/rsa1024.pem" -key "$pki/rsa1024.key" \
    -cert_chain "$pki/inter.pem" -cipher 'ALL:@SECLEVEL=0'; then
    nok rsa1024 unsupported_certificate "$rsa1024" root.pem localhost
    stop
fi

# ---- 8. OCSP stapling --------------------------------------------------------------------
echo "certs: 8. stapled OCSP responses, good and revoked -> mica server, openssl s_server"
c="8. mica server:"
if serve mica staple-good --cert "$pki/good.chain.pem" --key "$pki/good.key" \
    --ocsp-staple "$pki/good.ocsp"; then
    ok staple-require root.pem localhost --ocsp require
    ok staple-auto root.pem localhost
    stop
fi
if serve mica staple-revoked --cert "$pki/good.chain.pem" --key "$pki/good.key" \
    --ocsp-staple "$pki/revoked.ocsp"; then
    nok revoked-auto certificate_revoked "$revoked" root.pem localhost
    nok revoked-require certificate_revoked "$revoked" root.pem localhost --ocsp require
    ok revoked-off root.pem localhost --ocsp off
    stop
fi
c="8. s_server:"
if serve ossl staple-good-ossl -cert "$pki/good.pem" -key "$pki/good.key" \
    -cert_chain "$pki/inter.pem" -status_file "$pki/good.ocsp"; then
    ok staple-require root.pem localhost --ocsp require
    stop
fi
if serve ossl staple-revoked-ossl -cert "$pki/good.pem" -key "$pki/good.key" \
    -cert_chain "$pki/inter.pem" -status_file "$pki/revoked.ocsp"; then
    nok revoked-auto certificate_revoked "$revoked" root.pem localhost
    ok revoked-off root.pem localhost --ocsp off
    stop
fi

# ---- 9. mica verify ----------------------------------------------------------------------
echo "certs: 9. mica verify"
# verify NAME RC ERE ARGS...: mica verify ARGS must exit RC and print a line /^verified: ERE/
verify() {
    n=$1 want=$2 line=$3
    shift 3
    $to "$mica" verify "$@" </dev/null >"$tmp/$n.vout" 2>&1
    rc=$?
    [ $rc = "$want" ] || fail "9. $n: mica verify exited $rc, want $want:$(excerpt "$tmp/$n.vout")"
    has "$tmp/$n.vout" "^verified: $line" "9. $n: mica verify"
}
verify v-good 0 'ok$' "$pki/good.chain.pem" --cafile "$pki/root.pem" --host localhost
verify v-expired 1 "FAILED: $expired" "$pki/expired.chain.pem" --cafile "$pki/root.pem" \
    --host localhost
verify v-expired-then 0 'ok$' "$pki/expired.chain.pem" --cafile "$pki/root.pem" \
    --host localhost --time 2019-06-01T00:00:00Z
verify v-future-then 0 'ok$' "$pki/future.chain.pem" --cafile "$pki/root.pem" \
    --time 2090-06-01T00:00:00Z
verify v-eku-server 1 "FAILED: $eku" "$pki/cliekus.chain.pem" --cafile "$pki/root.pem" \
    --purpose server
verify v-eku-client 0 'ok$' "$pki/cliekus.chain.pem" --cafile "$pki/root.pem" --purpose client
verify v-client 0 'ok$' "$pki/client.chain.pem" --cafile "$pki/root.pem" --purpose client
verify v-client-server 1 "FAILED: certificate 'CN=mica certs test client' at depth 0 is not for TLS servers" \
    "$pki/client.chain.pem" --cafile "$pki/root.pem"
verify v-untrusted 0 'ok$' "$pki/good.pem" --cafile "$pki/root.pem" --untrusted "$pki/inter.pem" \
    --host localhost
verify v-no-inter 1 "FAILED: cannot find the issuer 'CN=mica certs test intermediate'" \
    "$pki/good.pem" --cafile "$pki/root.pem"
verify v-host 1 "FAILED: $(not_cover www.example.test 'localhost, 127.0.0.1')" \
    "$pki/good.chain.pem" --cafile "$pki/root.pem" --host www.example.test
verify v-ip 0 'ok$' "$pki/iponly.chain.pem" --cafile "$pki/root.pem" --ip 127.0.0.1
verify v-rsa1024 1 "FAILED: $rsa1024" "$pki/rsa1024.chain.pem" --cafile "$pki/root.pem"

# ---- 10. mutual TLS ----------------------------------------------------------------------
echo "certs: 10. mutual TLS: openssl s_client and mica client -> mica server --verify-client;"
echo "certs:     mica client --cert -> openssl s_server -Verify"
# sclient NAME ARGS...: openssl s_client (trusting the root) sends GET / to the running
# server and reads until it closes; output in $tmp/NAME.{out,err}, exit status in rc
sclient() {
    n=$1
    shift
    printf 'GET / HTTP/1.0\r\n\r\n' | $to openssl s_client -connect "127.0.0.1:$port" \
        -servername localhost -CAfile "$pki/root.pem" -verify_return_error -ign_eof "$@" \
        >"$tmp/$n.out" 2>"$tmp/$n.err"
    rc=$?
}
row_verified='^<tr><th>client certificate</th><td>CN=mica certs test client \(verified\)</td></tr>$'
c="10. require:"
if serve mica mtls-require --cert "$pki/good.chain.pem" --key "$pki/good.key" \
    --verify-client require --client-ca "$pki/root.pem"; then
    at=$(nconn)
    sclient m-cert -cert "$pki/client.pem" -cert_chain "$pki/inter.pem" -key "$pki/client.key"
    [ $rc = 0 ] || fail "$c s_client with a certificate exited $rc:$(excerpt "$tmp/m-cert.err")"
    has "$tmp/m-cert.out" "$row_verified" "$c s_client with a certificate: the page"
    conn_line m-cert "$at"
    has "$tmp/m-cert.line" ' client_cert=verified .*result=ok$' "$c s_client with a certificate"

    at=$(nconn)
    sclient m-none
    [ $rc = 1 ] || fail "$c s_client without a certificate exited $rc, want 1:$(excerpt "$tmp/m-none.err")"
    has "$tmp/m-none.err" 'alert certificate required' "$c s_client without a certificate"
    hasnt "$tmp/m-none.out" '^HTTP/' "$c s_client without a certificate: a page"
    conn_line m-none "$at"
    has "$tmp/m-none.line" ' client_cert=none .*result=certificate_required ' \
        "$c s_client without a certificate"

    # the client leaf without its intermediate does not chain to --client-ca
    at=$(nconn)
    sclient m-leafonly -cert "$pki/client.pem" -key "$pki/client.key"
    [ $rc = 1 ] || fail "$c s_client with the leaf only exited $rc, want 1:$(excerpt "$tmp/m-leafonly.err")"
    has "$tmp/m-leafonly.err" 'alert unknown ca' "$c s_client with the leaf only"
    conn_line m-leafonly "$at"
    has "$tmp/m-leafonly.line" " client_cert=unverified .*result=cert_untrusted error=\"the client's certificate is not valid: cannot find the issuer 'CN=mica certs test intermediate' of 'CN=mica certs test client'" \
        "$c s_client with the leaf only"
    # the hint names the party that did not send its intermediate: the client
    hasnt "$tmp/m-leafonly.line" 'the server probably does not send' \
        "$c s_client with the leaf only: the hint"
    has "$tmp/m-leafonly.line" 'the client probably does not send its intermediate' \
        "$c s_client with the leaf only: the hint"

    # mica client --cert against mica server
    at=$(nconn)
    $to "$mica" client --http / --cafile "$pki/root.pem" --servername localhost \
        --cert "$pki/client.chain.pem" --key "$pki/client.key" "127.0.0.1:$port" \
        </dev/null >"$tmp/m-mica.out" 2>"$tmp/m-mica.err"
    rc=$?
    [ $rc = 0 ] || fail "$c mica client --cert exited $rc:$(excerpt "$tmp/m-mica.err")"
    has "$tmp/m-mica.out" "$row_verified" "$c mica client --cert: the page"
    conn_line m-mica "$at"
    has "$tmp/m-mica.line" ' client_cert=verified .*result=ok$' "$c mica client --cert"
    stop
fi
c="10. optional:"
if serve mica mtls-optional --cert "$pki/good.chain.pem" --key "$pki/good.key" \
    --verify-client optional --client-ca "$pki/root.pem"; then
    at=$(nconn)
    sclient o-none
    [ $rc = 0 ] || fail "$c s_client without a certificate exited $rc:$(excerpt "$tmp/o-none.err")"
    has "$tmp/o-none.out" '^<tr><th>client certificate</th><td>none</td></tr>$' \
        "$c s_client without a certificate: the page"
    conn_line o-none "$at"
    has "$tmp/o-none.line" ' client_cert=none .*result=ok$' "$c s_client without a certificate"

    at=$(nconn)
    sclient o-self -cert "$pki/self.pem" -key "$pki/self.key"
    [ $rc = 0 ] || fail "$c s_client with a self-signed certificate exited $rc:$(excerpt "$tmp/o-self.err")"
    has "$tmp/o-self.out" '^<tr><th>client certificate</th><td>CN=localhost \(certificate &#39;CN=localhost&#39; is self-signed and not in the trust store\)</td></tr>$' \
        "$c s_client with a self-signed certificate: the page"
    conn_line o-self "$at"
    has "$tmp/o-self.line" ' client_cert=unverified .*result=ok$' \
        "$c s_client with a self-signed certificate"

    at=$(nconn)
    sclient o-cert -cert "$pki/client.pem" -cert_chain "$pki/inter.pem" -key "$pki/client.key"
    [ $rc = 0 ] || fail "$c s_client with a certificate exited $rc:$(excerpt "$tmp/o-cert.err")"
    has "$tmp/o-cert.out" "$row_verified" "$c s_client with a certificate: the page"
    conn_line o-cert "$at"
    has "$tmp/o-cert.line" ' client_cert=verified .*result=ok$' "$c s_client with a certificate"
    stop
fi
c="10. s_server -Verify 2:"
if serve ossl mtls-ossl -cert "$pki/good.pem" -key "$pki/good.key" -cert_chain "$pki/inter.pem" \
    -Verify 2 -CAfile "$pki/root.pem"; then
    $to "$mica" client --http / --cafile "$pki/root.pem" --servername localhost \
        --cert "$pki/client.chain.pem" --key "$pki/client.key" "127.0.0.1:$port" \
        </dev/null >"$tmp/s-cert.out" 2>"$tmp/s-cert.err"
    rc=$?
    [ $rc = 0 ] || fail "$c mica client --cert exited $rc:$(excerpt "$tmp/s-cert.err")"
    has "$tmp/s-cert.out" '^HTTP/1\.0 200 ' "$c mica client --cert: the page"
    has "$tmp/s-cert.out" '^Client certificate' "$c mica client --cert: s_server's page"
    has "$tmp/s-cert.out" 'Subject: CN *= *mica certs test client' \
        "$c mica client --cert: the client certificate on s_server's page"
    has "$srv_log" '^depth=0 CN = mica certs test client' "$c s_server's log"
    has "$srv_log" '^depth=2 CN = mica certs test root' "$c s_server's log (the chain)"
    hasnt "$srv_log" '^verify error' "$c s_server's log"

    $to "$mica" client --http / --cafile "$pki/root.pem" --servername localhost \
        "127.0.0.1:$port" </dev/null >"$tmp/s-none.out" 2>"$tmp/s-none.err"
    rc=$?
    [ $rc = 1 ] || fail "$c mica client without --cert exited $rc, want 1:$(excerpt "$tmp/s-none.err")"
    has "$tmp/s-none.err" '^mica: .*certificate_required' "$c mica client without --cert"
    hasnt "$tmp/s-none.out" '^HTTP/' "$c mica client without --cert: a page"
    stop
fi

# 11. post-handshake client authentication (RFC 8446 4.6.2): mica server's /client-auth
# asks a connected client that offered post_handshake_auth; openssl s_server's "c"
# command asks mica client
echo "certs: 11. post-handshake authentication: s_client -enable_pha and mica client ->"
echo "certs:     mica server /client-auth; mica client -> openssl s_server (the c command)"
c="11. /client-auth:"
if serve mica pha --cert "$pki/good.chain.pem" --key "$pki/good.key" \
    --client-ca "$pki/root.pem"; then
    printf 'GET /client-auth HTTP/1.0\r\n\r\n' | $to openssl s_client -connect "127.0.0.1:$port" \
        -servername localhost -CAfile "$pki/root.pem" -ign_eof -enable_pha \
        -cert "$pki/client.pem" -cert_chain "$pki/inter.pem" -key "$pki/client.key" \
        >"$tmp/pha-o.out" 2>"$tmp/pha-o.err"
    has "$tmp/pha-o.out" "$row_verified" "$c s_client -enable_pha: the page"
    hasnt "$tmp/pha-o.out" 'Acceptable client certificate CA names' \
        "$c s_client -enable_pha: no request in the handshake"
    $to "$mica" client --http /client-auth --cafile "$pki/root.pem" --servername localhost \
        --cert "$pki/client.chain.pem" --key "$pki/client.key" "127.0.0.1:$port" \
        </dev/null >"$tmp/pha-m.out" 2>"$tmp/pha-m.err"
    rc=$?
    [ $rc = 0 ] || fail "$c mica client --cert exited $rc:$(excerpt "$tmp/pha-m.err")"
    has "$tmp/pha-m.out" "$row_verified" "$c mica client --cert: the page"
    # without a certificate the client offers nothing to ask for: served, none
    $to "$mica" client --http /client-auth --cafile "$pki/root.pem" --servername localhost \
        "127.0.0.1:$port" </dev/null >"$tmp/pha-n.out" 2>"$tmp/pha-n.err"
    has "$tmp/pha-n.out" '^<tr><th>client certificate</th><td>none</td></tr>$' \
        "$c mica client without --cert"
    stop
fi
c="11. s_server c:"
mkfifo "$tmp/pha.fifo"
tries=0
while :; do
    $to_srv openssl s_server -accept "127.0.0.1:$port" -cert "$pki/good.pem" \
        -key "$pki/good.key" -cert_chain "$pki/inter.pem" -verify 2 -CAfile "$pki/root.pem" \
        <"$tmp/pha.fifo" >"$tmp/pha-s.log" 2>&1 &
    srv_pid=$!
    pids="$pids $srv_pid"
    exec 7>"$tmp/pha.fifo"
    i=0
    while [ $i -lt 100 ] && ! grep -q '^ACCEPT' "$tmp/pha-s.log" 2>/dev/null; do
        kill -0 "$srv_pid" 2>/dev/null || break
        sleep 0.05
        i=$((i + 1))
    done
    grep -q '^ACCEPT' "$tmp/pha-s.log" && break
    exec 7>&-
    kill "$srv_pid" 2>/dev/null
    wait "$srv_pid" 2>/dev/null
    rm_pid "$srv_pid"
    tries=$((tries + 1))
    if ! grep -qi 'in use' "$tmp/pha-s.log" || [ $tries -ge 5 ]; then
        fail "$c cannot start openssl s_server:$(excerpt "$tmp/pha-s.log")"
        break
    fi
    port=$((port + 7))
done
if grep -q '^ACCEPT' "$tmp/pha-s.log" 2>/dev/null; then
    (sleep 1.5; printf 'after\n') | $to "$mica" client --cafile "$pki/root.pem" \
        --servername localhost --cert "$pki/client.chain.pem" --key "$pki/client.key" \
        --trace "127.0.0.1:$port" >"$tmp/pha-c.out" 2>"$tmp/pha-c.err" &
    cpid=$!
    sleep 0.7
    printf 'c\n' >&7 # s_server: request a certificate now (SSL_verify_client_post_handshake)
    wait "$cpid"
    exec 7>&-
    has "$tmp/pha-c.err" '^<- CertificateRequest \([0-9]+ bytes, application keys\)' \
        "$c mica client: the request after the handshake"
    has "$tmp/pha-c.err" '^-> CertificateVerify \([0-9]+ bytes, application keys\)' \
        "$c mica client: its answer"
    has "$tmp/pha-s.log" '^SSL_do_handshake -> 1' "$c s_server: the exchange"
    hasnt "$tmp/pha-s.log" '^verify error' "$c s_server: the verification"
    kill "$srv_pid" 2>/dev/null
    wait "$srv_pid" 2>/dev/null
    rm_pid "$srv_pid"
fi

if [ $bad = 0 ]; then
    echo "certs: ok"
fi
exit $bad
