/*
 * mica_cert_describe (include/mica/cert.h): the facts of a certificate as text, through
 * libcrypto's X509 accessors.
 */
#include <mica/cert.h>

#include <arpa/inet.h>
#include <limits.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crypto/gate.h"

static void name_text(const X509_NAME *n, char *out, size_t cap)
{
    BIO *b = BIO_new(BIO_s_mem());
    int len;

    out[0] = '\0';
    if (b == NULL) {
        return;
    }
    if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0) {
        len = BIO_read(b, out, (int)cap - 1);
        out[len > 0 ? len : 0] = '\0';
    }
    BIO_free(b);
}

static void time_text(const ASN1_TIME *t, char *out, size_t cap, int64_t *secs)
{
    struct tm tm;

    out[0] = '\0';
    *secs = 0;
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
        return;
    }
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
    *secs = (int64_t)timegm(&tm);
}

static void sans_text(X509 *x, char *out, size_t cap)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    size_t len = 0;

    out[0] = '\0';
    for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        char one[300];
        one[0] = '\0';
        if (g->type == GEN_DNS) {
            snprintf(one, sizeof(one), "DNS:%.*s", ASN1_STRING_length(g->d.dNSName),
                     (const char *)ASN1_STRING_get0_data(g->d.dNSName));
        } else if (g->type == GEN_IPADD) {
            const unsigned char *b = ASN1_STRING_get0_data(g->d.iPAddress);
            int n = ASN1_STRING_length(g->d.iPAddress);
            char ip[INET6_ADDRSTRLEN] = "?";
            if (n == 4 || n == 16) {
                inet_ntop(n == 4 ? AF_INET : AF_INET6, b, ip, sizeof(ip));
            }
            snprintf(one, sizeof(one), "IP:%s", ip);
        } else if (g->type == GEN_EMAIL) {
            snprintf(one, sizeof(one), "email:%.*s", ASN1_STRING_length(g->d.rfc822Name),
                     (const char *)ASN1_STRING_get0_data(g->d.rfc822Name));
        } else {
            continue;
        }
        len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, "%s%s", len > 0 ? ", " : "",
                                one);
        if (len >= cap) {
            break;
        }
    }
    GENERAL_NAMES_free(names);
}

static void key_text(X509 *x, char *out, size_t cap)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    char group[64];
    size_t n = 0;

    snprintf(out, cap, "unknown");
    if (pk == NULL) {
        return;
    }
    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_RSA: snprintf(out, cap, "RSA %d", EVP_PKEY_get_bits(pk)); break;
    case EVP_PKEY_RSA_PSS: snprintf(out, cap, "RSA-PSS %d", EVP_PKEY_get_bits(pk)); break;
    case EVP_PKEY_ED25519: snprintf(out, cap, "Ed25519"); break;
    case EVP_PKEY_ED448: snprintf(out, cap, "Ed448"); break;
    case EVP_PKEY_EC:
        if (EVP_PKEY_get_utf8_string_param(pk, "group", group, sizeof(group), &n) == 1) {
            const char *nist = EC_curve_nid2nist(OBJ_sn2nid(group));
            snprintf(out, cap, "ECDSA %.48s", nist != NULL ? nist : group);
        } else {
            snprintf(out, cap, "ECDSA");
        }
        break;
    default: snprintf(out, cap, "%s", OBJ_nid2sn(EVP_PKEY_get_base_id(pk))); break;
    }
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        snprintf(out + 2 * i, 3, "%02x", p[i]);
    }
}

mica_err mica_cert_describe(const uint8_t *der, size_t len, struct mica_cert_info *out)
{
    const unsigned char *p = der;
    X509 *x;
    uint8_t digest[32];
    unsigned char *spki = NULL;
    int spki_len;

    ENSURE(der != NULL && out != NULL && len <= LONG_MAX, MICA_E_ARGUMENT);
    memset(out, 0, sizeof(*out));
    x = d2i_X509(NULL, &p, (long)len);
    if (x == NULL || p != der + len) {
        X509_free(x);
        return mica_cr_fail(MICA_E_DECODE);
    }
    name_text(X509_get_subject_name(x), out->subject, sizeof(out->subject));
    name_text(X509_get_issuer_name(x), out->issuer, sizeof(out->issuer));
    sans_text(x, out->sans, sizeof(out->sans));
    time_text(X509_get0_notBefore(x), out->not_before, sizeof(out->not_before), &out->not_before_s);
    time_text(X509_get0_notAfter(x), out->not_after, sizeof(out->not_after), &out->not_after_s);
    key_text(x, out->key, sizeof(out->key));
    snprintf(out->signature_algorithm, sizeof(out->signature_algorithm), "%s",
             OBJ_nid2ln(X509_get_signature_nid(x)));
    if (mica_hash(&mica_hash_sha256, der, len, digest) == MICA_OK) {
        hex(digest, sizeof(digest), out->sha256);
    }
    /* RFC 7469 pins: base64(SHA-256(SubjectPublicKeyInfo)) */
    spki_len = i2d_PUBKEY(X509_get0_pubkey(x), &spki);
    if (spki_len > 0 && mica_hash(&mica_hash_sha256, spki, (size_t)spki_len, digest) == MICA_OK) {
        memcpy(out->spki_pin, "sha256/", 7);
        EVP_EncodeBlock((unsigned char *)out->spki_pin + 7, digest, sizeof(digest));
    }
    OPENSSL_free(spki);
    X509_free(x);
    ERR_clear_error();
    return MICA_OK;
}
