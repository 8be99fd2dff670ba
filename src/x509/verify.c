/*
 * Verifying a peer's chain: libcrypto's X509_verify_cert with mica's policy around it,
 * and a sentence for every way it can fail.
 *
 *   - trust anchors: the store (system, file, directory, memory; CRLs when loaded);
 *   - chain building from the peer's certificates in any order, depth limited;
 *   - purpose: serverAuth for a server, clientAuth for a client; basicConstraints, key
 *     usage and name constraints as libcrypto enforces them;
 *   - strength: security level 2 (RSA and DH keys >= 2048 bits, ECC >= 224, no MD5 or
 *     SHA-1 signatures), and leaf keys only of the kinds mica can verify in TLS 1.3;
 *   - names (RFC 6125): DNS names from subjectAltName only (the CN is never used), a
 *     wildcard only as a whole left-most label and never directly under a public-suffix-
 *     like single label (libcrypto refuses "*.com"), case-insensitive; IP addresses only
 *     against IP SANs;
 *   - time: the config's clock, so tests move time instead of waiting;
 *   - then pins (SPKI SHA-256 of any certificate in the verified chain) and the stapled
 *     OCSP response (signature and responder authority, freshness, status).
 * Each failure names the certificate (depth and subject), the check and the values.
 */
#include "x509/x509.h"
#include "x509/internal.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/limits.h"
#include "crypto/gate.h"

#define OCSP_SKEW_S 300 /* clock tolerance for thisUpdate / nextUpdate */

static void subject_of(X509 *x, char *buf, size_t cap)
{
    BIO *b = BIO_new(BIO_s_mem());
    int n = 0;

    snprintf(buf, cap, "(unknown)");
    if (x == NULL || b == NULL) {
        BIO_free(b);
        return;
    }
    if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) >= 0) {
        n = BIO_read(b, buf, (int)cap - 1);
        buf[n > 0 ? n : 0] = '\0';
    }
    if (n <= 0) {
        snprintf(buf, cap, "(no subject)");
    }
    BIO_free(b);
}

static void issuer_of(X509 *x, char *buf, size_t cap)
{
    BIO *b = BIO_new(BIO_s_mem());
    int n = 0;

    snprintf(buf, cap, "(unknown)");
    if (x != NULL && b != NULL &&
        X509_NAME_print_ex(b, X509_get_issuer_name(x), 0, XN_FLAG_RFC2253) >= 0) {
        n = BIO_read(b, buf, (int)cap - 1);
        buf[n > 0 ? n : 0] = '\0';
    }
    BIO_free(b);
}

/* "2025-03-01 00:00:00 UTC" and the signed difference to now in whole days */
static void when(const ASN1_TIME *t, time_t now, char *buf, size_t cap, long *days)
{
    struct tm tm;
    int d = 0, s = 0;

    snprintf(buf, cap, "(unknown time)");
    *days = 0;
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
        return;
    }
    strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
    {
        ASN1_TIME *at = ASN1_TIME_set(NULL, now);
        if (at != NULL && ASN1_TIME_diff(&d, &s, at, t) == 1) {
            *days = d;
        }
        ASN1_TIME_free(at);
    }
}

/* the DNS and IP names of a certificate, for "its names: ..." */
static void names_of(X509 *x, char *buf, size_t cap)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    size_t len = 0;

    buf[0] = '\0';
    for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        char one[300] = "";
        if (g->type == GEN_DNS) {
            snprintf(one, sizeof(one), "%.*s", ASN1_STRING_length(g->d.dNSName),
                     (const char *)ASN1_STRING_get0_data(g->d.dNSName));
        } else if (g->type == GEN_IPADD) {
            const unsigned char *p = ASN1_STRING_get0_data(g->d.iPAddress);
            int n = ASN1_STRING_length(g->d.iPAddress);
            if (n == 4) {
                snprintf(one, sizeof(one), "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
            } else if (n == 16) {
                snprintf(one, sizeof(one), "IPv6 address");
            }
        }
        if (one[0] != '\0' && len + strlen(one) + 3 < cap) {
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", len > 0 ? ", " : "", one);
        }
    }
    GENERAL_NAMES_free(names);
    if (buf[0] == '\0') {
        snprintf(buf, cap, "none: it has no DNS or IP subjectAltName");
    }
}

static void eku_of(X509 *x, char *buf, size_t cap)
{
    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
    size_t len = 0;

    buf[0] = '\0';
    for (int i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku); i++) {
        char one[80];
        OBJ_obj2txt(one, sizeof(one), sk_ASN1_OBJECT_value(eku, i), 0);
        if (len + strlen(one) + 3 < cap) {
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", len > 0 ? ", " : "", one);
        }
    }
    EXTENDED_KEY_USAGE_free(eku);
    if (buf[0] == '\0') {
        snprintf(buf, cap, "none");
    }
}

static void key_of(X509 *x, char *buf, size_t cap)
{
    EVP_PKEY *k = X509_get0_pubkey(x);

    if (k == NULL) {
        snprintf(buf, cap, "an unreadable key");
    } else if (EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA) {
        snprintf(buf, cap, "an RSA key of %d bits", EVP_PKEY_get_bits(k));
    } else {
        snprintf(buf, cap, "a %s key of %d bits", OBJ_nid2sn(EVP_PKEY_get_base_id(k)),
                 EVP_PKEY_get_bits(k));
    }
}

/* explain: the sentence and code of a failed X509_verify_cert */
static mica_err explain(X509_STORE_CTX *ctx, const struct mica_x509_policy *p, char *why,
                        size_t cap)
{
    int e = X509_STORE_CTX_get_error(ctx);
    int depth = X509_STORE_CTX_get_error_depth(ctx);
    X509 *x = X509_STORE_CTX_get_current_cert(ctx);
    time_t now = (time_t)(p->now_ms / 1000u);
    char subject[256], issuer[256], more[512], date[64];
    long days = 0;

    subject_of(x, subject, sizeof(subject));
    switch (e) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        names_of(x, more, sizeof(more));
        snprintf(why, cap, "certificate '%s' does not cover %s (its names: %s)", subject,
                 p->name != NULL ? p->name : "the name", more);
        return MICA_E_CERT_HOSTNAME;
    case X509_V_ERR_CERT_HAS_EXPIRED:
        when(X509_get0_notAfter(x), now, date, sizeof(date), &days);
        snprintf(why, cap, "certificate '%s'%s expired on %s, %ld day%s ago", subject,
                 depth > 0 ? " (an issuer of the chain)" : "", date, -days, days == -1 ? "" : "s");
        return MICA_E_CERT_EXPIRED;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        when(X509_get0_notBefore(x), now, date, sizeof(date), &days);
        snprintf(why, cap,
                 "certificate '%s' is not valid before %s, %ld day%s from now (is a clock "
                 "wrong?)",
                 subject, date, days, days == 1 ? "" : "s");
        return MICA_E_CERT_EXPIRED;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        issuer_of(x, issuer, sizeof(issuer));
        snprintf(why, cap, "cannot find the issuer '%s' of '%s' in the trust store%s", issuer,
                 subject,
                 depth > 0   ? ""
                 : p->server ? ": the server probably does not send its intermediate certificate"
                             : ": the client probably does not send its intermediate certificate");
        return MICA_E_CERT_UNTRUSTED;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        snprintf(why, cap, "certificate '%s' is self-signed and not in the trust store", subject);
        return MICA_E_CERT_UNTRUSTED;
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        snprintf(why, cap,
                 "the chain ends in the self-signed root '%s', which is not in the trust store",
                 subject);
        return MICA_E_CERT_UNTRUSTED;
    case X509_V_ERR_CERT_UNTRUSTED:
        snprintf(why, cap, "certificate '%s' is not trusted for this purpose", subject);
        return MICA_E_CERT_UNTRUSTED;
    case X509_V_ERR_INVALID_PURPOSE:
        eku_of(x, more, sizeof(more));
        snprintf(why, cap,
                 "certificate '%s' at depth %d is not for TLS %ss (its extended key usage: %s)",
                 subject, depth, p->server ? "server" : "client", more);
        return MICA_E_CERT_PURPOSE;
    case X509_V_ERR_INVALID_CA:
        snprintf(why, cap,
                 "certificate '%s' at depth %d issues certificates but is not a CA "
                 "(basicConstraints)",
                 subject, depth);
        return MICA_E_CERT_PURPOSE;
    case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
        snprintf(why, cap, "certificate '%s' at depth %d may not sign certificates (keyUsage)",
                 subject, depth);
        return MICA_E_CERT_PURPOSE;
    case X509_V_ERR_CA_MD_TOO_WEAK: {
        int nid = X509_get_signature_nid(x);
        snprintf(why, cap,
                 "certificate '%s' at depth %d is signed with %s, a digest mica does not trust "
                 "(MD5 and SHA-1 are broken)",
                 subject, depth, nid != NID_undef ? OBJ_nid2ln(nid) : "an unknown algorithm");
        return MICA_E_CERT_WEAK;
    }
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL:
        key_of(x, more, sizeof(more));
        snprintf(why, cap,
                 "certificate '%s' at depth %d has %s, too weak: mica needs RSA of 2048 bits or "
                 "more, or an elliptic curve of 224 bits or more",
                 subject, depth, more);
        return MICA_E_CERT_WEAK;
    case X509_V_ERR_CERT_REVOKED:
        snprintf(why, cap, "certificate '%s' at depth %d is revoked (its CRL says so)", subject,
                 depth);
        return MICA_E_CERT_REVOKED;
    case X509_V_ERR_UNABLE_TO_GET_CRL:
        issuer_of(x, issuer, sizeof(issuer));
        snprintf(why, cap,
                 "no CRL of '%s' is loaded, so the status of '%s' is unknown (CRL checking is on)",
                 issuer, subject);
        return MICA_E_CERT_STATUS;
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
        snprintf(why, cap, "the CRL for '%s' is %s", subject,
                 e == X509_V_ERR_CRL_HAS_EXPIRED ? "out of date (past its nextUpdate)"
                                                 : "not valid yet");
        return MICA_E_CERT_STATUS;
    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
        snprintf(why, cap, "the chain is longer than %u certificates", MICA_MAX_CHAIN_LEN);
        return MICA_E_BAD_CERTIFICATE;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
        issuer_of(x, issuer, sizeof(issuer));
        snprintf(why, cap, "the signature of '%s' by '%s' does not verify", subject, issuer);
        return MICA_E_BAD_CERTIFICATE;
    default:
        snprintf(why, cap, "certificate '%s' at depth %d: %s", subject, depth,
                 X509_verify_cert_error_string(e));
        return MICA_E_BAD_CERTIFICATE;
    }
}

/* spki_sha256: the SHA-256 of a certificate's SubjectPublicKeyInfo (RFC 7469 pins) */
static bool spki_sha256(X509 *x, uint8_t out[32])
{
    unsigned char *der = NULL;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    unsigned int len = 0;
    bool ok = n > 0 && EVP_Digest(der, (size_t)n, out, &len, EVP_sha256(), NULL) == 1 && len == 32;

    OPENSSL_free(der);
    return ok;
}

static void pin_text(const uint8_t h[32], char *out, size_t cap)
{
    unsigned char b64[48];
    int n = EVP_EncodeBlock(b64, h, 32);

    snprintf(out, cap, "sha256/%.*s", n > 0 ? n : 0, (const char *)b64);
}

/* check_pins: at least one certificate of the verified chain matches a pin */
static mica_err check_pins(STACK_OF(X509) * chain, const struct mica_x509_policy *p, char *why,
                           size_t cap)
{
    size_t len;

    if (p->pins_n == 0) {
        return MICA_OK;
    }
    for (int i = 0; i < sk_X509_num(chain); i++) {
        uint8_t h[32];
        if (!spki_sha256(sk_X509_value(chain, i), h)) {
            continue;
        }
        for (size_t k = 0; k < p->pins_n; k++) {
            if (mica_ct_eq(h, p->pins + 32 * k, 32)) {
                return MICA_OK;
            }
        }
    }
    len = (size_t)snprintf(why, cap,
                           "no certificate of the chain matches a configured pin (the chain's "
                           "keys: ");
    for (int i = 0; i < sk_X509_num(chain) && len < cap; i++) {
        uint8_t h[32];
        char one[64];
        if (spki_sha256(sk_X509_value(chain, i), h)) {
            pin_text(h, one, sizeof(one));
            len += (size_t)snprintf(why + len, cap - len, "%s%s", i > 0 ? ", " : "", one);
        }
    }
    if (len < cap) {
        snprintf(why + len, cap - len, ")");
    }
    return MICA_E_CERT_PIN;
}

static const char *revocation_reason(int r)
{
    switch (r) {
    case OCSP_REVOKED_STATUS_KEYCOMPROMISE: return "keyCompromise";
    case OCSP_REVOKED_STATUS_CACOMPROMISE: return "cACompromise";
    case OCSP_REVOKED_STATUS_AFFILIATIONCHANGED: return "affiliationChanged";
    case OCSP_REVOKED_STATUS_SUPERSEDED: return "superseded";
    case OCSP_REVOKED_STATUS_CESSATIONOFOPERATION: return "cessationOfOperation";
    case OCSP_REVOKED_STATUS_CERTIFICATEHOLD: return "certificateHold";
    case OCSP_REVOKED_STATUS_REMOVEFROMCRL: return "removeFromCRL";
    default: return "unspecified";
    }
}

/* check_ocsp: the stapled OCSP response for the leaf: it must parse, be successful, be
 * signed by the issuer or a responder the issuer delegated to (OCSP_basic_verify over
 * the verified chain and the store), be fresh at now (thisUpdate <= now + skew, nextUpdate
 * >= now - skew), and say good */
static mica_err check_ocsp(X509_STORE *store, STACK_OF(X509) * chain,
                           const struct mica_x509_policy *p, char *why, size_t cap)
{
    const unsigned char *q = p->ocsp;
    OCSP_RESPONSE *resp = NULL;
    OCSP_BASICRESP *basic = NULL;
    OCSP_CERTID *id = NULL;
    ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
    X509 *leaf = sk_X509_value(chain, 0), *issuer = sk_X509_value(chain, 1);
    time_t now = (time_t)(p->now_ms / 1000u), lo = now - OCSP_SKEW_S, hi = now + OCSP_SKEW_S;
    int status = -1, reason = -1;
    char subject[256], date[64];
    long days = 0;
    mica_err err = MICA_E_CERT_STATUS;

    subject_of(leaf, subject, sizeof(subject));
    if (p->ocsp == NULL || p->ocsp_len == 0) {
        if (p->ocsp_mode == MICA_X509_OCSP_REQUIRE) {
            snprintf(why, cap,
                     "the peer stapled no OCSP response for '%s', and the policy requires one",
                     subject);
            return MICA_E_CERT_STATUS;
        }
        return MICA_OK;
    }
    if (p->ocsp_mode == MICA_X509_OCSP_OFF) {
        return MICA_OK;
    }
    if (p->ocsp_len > LONG_MAX || (resp = d2i_OCSP_RESPONSE(NULL, &q, (long)p->ocsp_len)) == NULL ||
        q != p->ocsp + p->ocsp_len) {
        snprintf(why, cap, "the stapled OCSP response for '%s' does not parse", subject);
        goto out;
    }
    if (OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL ||
        (basic = OCSP_response_get1_basic(resp)) == NULL) {
        snprintf(why, cap, "the stapled OCSP response for '%s' is not a successful one (%s)",
                 subject, OCSP_response_status_str(OCSP_response_status(resp)));
        goto out;
    }
    if (issuer == NULL) {
        snprintf(why, cap, "'%s' has no issuer in the chain to check its OCSP response with",
                 subject);
        goto out;
    }
    if (OCSP_basic_verify(basic, chain, store, 0) != 1) {
        snprintf(why, cap,
                 "the stapled OCSP response for '%s' is not signed by its issuer or a responder "
                 "its issuer authorised",
                 subject);
        goto out;
    }
    id = OCSP_cert_to_id(EVP_sha1(), leaf, issuer);
    if (id == NULL ||
        OCSP_resp_find_status(basic, id, &status, &reason, &rev, &thisupd, &nextupd) != 1) {
        snprintf(why, cap, "the stapled OCSP response says nothing about '%s'", subject);
        goto out;
    }
    if (thisupd == NULL || X509_cmp_time(thisupd, &hi) > 0) {
        when(thisupd, now, date, sizeof(date), &days);
        snprintf(why, cap, "the stapled OCSP response for '%s' is from the future (thisUpdate %s)",
                 subject, date);
        goto out;
    }
    if (nextupd != NULL && X509_cmp_time(nextupd, &lo) < 0) {
        when(nextupd, now, date, sizeof(date), &days);
        snprintf(why, cap,
                 "the stapled OCSP response for '%s' is stale: its nextUpdate was %s, %ld day%s "
                 "ago",
                 subject, date, -days, days == -1 ? "" : "s");
        goto out;
    }
    if (status == V_OCSP_CERTSTATUS_REVOKED) {
        when(rev, now, date, sizeof(date), &days);
        snprintf(why, cap,
                 "certificate '%s' was revoked on %s (reason: %s), says its OCSP response", subject,
                 date, revocation_reason(reason));
        err = MICA_E_CERT_REVOKED;
        goto out;
    }
    if (status != V_OCSP_CERTSTATUS_GOOD) {
        snprintf(why, cap, "the OCSP responder does not know '%s' (status unknown)", subject);
        goto out;
    }
    err = MICA_OK;
out:
    OCSP_CERTID_free(id);
    OCSP_BASICRESP_free(basic);
    OCSP_RESPONSE_free(resp);
    ERR_clear_error();
    return err;
}

mica_err mica_x509_verify(const mica_x509_store *s, const uint8_t *const *der, const size_t *len,
                          size_t n, const struct mica_x509_policy *p, char *why, size_t why_cap,
                          mica_pkey **leaf_key)
{
    STACK_OF(X509) *rest = sk_X509_new_null();
    STACK_OF(X509) *chain = NULL;
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509_VERIFY_PARAM *param;
    X509 *leaf = NULL;
    mica_err err = MICA_OK;

    snprintf(why, why_cap, "no certificate");
    if (rest == NULL || ctx == NULL || n == 0) {
        err = n == 0 ? MICA_E_BAD_CERTIFICATE : MICA_E_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        X509 *x = mica_x509_parse_shared(s, der[i], len[i]);
        if (x == NULL) {
            snprintf(why, why_cap, "certificate at depth %zu does not parse as X.509", i);
            err = MICA_E_BAD_CERTIFICATE;
            goto out;
        }
        if (i == 0) {
            leaf = x;
        } else if (sk_X509_push(rest, x) <= 0) {
            X509_free(x);
            err = MICA_E_NOMEM;
            goto out;
        }
    }
    for (int i = 0; i < sk_X509_num(mica_x509_store_extra(s)); i++) {
        X509 *x = sk_X509_value(mica_x509_store_extra(s), i);
        if (X509_up_ref(x) != 1 || sk_X509_push(rest, x) <= 0) {
            err = MICA_E_NOMEM;
            goto out;
        }
    }
    err = mica_x509_store_ready(s); /* the system anchors, on first use */
    if (err != MICA_OK) {
        snprintf(why, why_cap, "cannot read the system's trust anchors");
        goto out;
    }
    if (X509_STORE_CTX_init(ctx, mica_x509_store_raw(s), leaf, rest) != 1) {
        err = MICA_E_NOMEM;
        goto out;
    }
    param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(param, (time_t)(p->now_ms / 1000u));
    X509_VERIFY_PARAM_set_purpose(param,
                                  p->server ? X509_PURPOSE_SSL_SERVER : X509_PURPOSE_SSL_CLIENT);
    X509_VERIFY_PARAM_set_depth(param, (int)MICA_MAX_CHAIN_LEN);
    /* security level 2: 112-bit keys at least, no MD5 or SHA-1 signatures */
    X509_VERIFY_PARAM_set_auth_level(param, 2);
    if (mica_x509_store_has_crls(s)) {
        X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK);
    }
    if (p->name != NULL) {
        int ok = mica_x509_is_ip(p->name) ? X509_VERIFY_PARAM_set1_ip_asc(param, p->name)
                                          : X509_VERIFY_PARAM_set1_host(param, p->name, 0);
        /* RFC 6125: SANs only (never the CN), wildcards only as a whole left-most label */
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
                                                   X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
        if (ok != 1) {
            snprintf(why, why_cap, "'%s' is not a host name or IP address", p->name);
            err = MICA_E_ARGUMENT;
            goto out;
        }
    }
    if (X509_verify_cert(ctx) != 1) {
        err = explain(ctx, p, why, why_cap);
        goto out;
    }
    chain = X509_STORE_CTX_get1_chain(ctx);
    if (chain == NULL) {
        err = MICA_E_NOMEM;
        goto out;
    }
    {
        /* the leaf's key must be one a TLS 1.3 CertificateVerify can be checked with */
        mica_pkey *key = NULL;
        mica_err kerr = mica_x509_key_of(leaf, &key);
        if (kerr != MICA_OK) {
            snprintf(why, why_cap, "the leaf's public key cannot be read");
            err = kerr == MICA_E_NOMEM ? MICA_E_NOMEM : MICA_E_BAD_CERTIFICATE;
        } else if (!mica_x509_key_usable(key)) {
            char subject[256], kd[96];
            subject_of(leaf, subject, sizeof(subject));
            key_of(leaf, kd, sizeof(kd));
            snprintf(why, why_cap,
                     "certificate '%s' has %s, which TLS 1.3 as mica speaks it cannot use "
                     "(ECDSA P-256/P-384/P-521, RSA of 2048 bits or more, Ed25519, Ed448)",
                     subject, kd);
            err = MICA_E_CERT_WEAK;
        }
        if (err == MICA_OK) {
            err = check_pins(chain, p, why, why_cap);
        }
        if (err == MICA_OK) {
            err = check_ocsp(mica_x509_store_raw(s), chain, p, why, why_cap);
        }
        if (err == MICA_OK && leaf_key != NULL) {
            *leaf_key = key;
            key = NULL;
        }
        mica_pkey_free(key);
        if (err != MICA_OK) {
            goto out;
        }
    }
    snprintf(why, why_cap, "ok");
out:
    sk_X509_pop_free(chain, X509_free);
    X509_STORE_CTX_free(ctx);
    X509_free(leaf);
    sk_X509_pop_free(rest, X509_free);
    ERR_clear_error();
    return err;
}

mica_err mica_x509_parse_pin(const char *text, uint8_t out[32])
{
    static const char prefix[] = "sha256/";
    unsigned char buf[48];
    size_t n;
    int k;

    ENSURE(text != NULL && strncmp(text, prefix, sizeof(prefix) - 1) == 0, MICA_E_ARGUMENT);
    text += sizeof(prefix) - 1;
    n = strlen(text);
    ENSURE(n == 44 && text[43] == '=', MICA_E_ARGUMENT); /* base64 of 32 bytes */
    k = EVP_DecodeBlock(buf, (const unsigned char *)text, (int)n);
    ENSURE(k == 33, MICA_E_ARGUMENT); /* 33: DecodeBlock counts the padded byte */
    memcpy(out, buf, 32);
    return MICA_OK;
}
