/*
 * Certificates through libcrypto's X509 (the only other gate to OpenSSL besides
 * src/crypto): loading chains and keys, choosing a chain by name, and verifying a peer's
 * chain with X509_verify_cert plus the hostname, with a sentence that says why not.
 *
 * verify.c holds the policy around X509_verify_cert: strength, RFC 6125 names, pins,
 * stapled OCSP, CRLs, and a sentence for each failure.
 */
#ifndef MICA_X509_X509_H
#define MICA_X509_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/rd.h"
#include "crypto/crypto.h"

/* mica_x509_pubkey: the subject public key of one DER certificate (whole input must be
 * the certificate). MICA_E_DECODE if it does not parse. */
MICA_MUST mica_err mica_x509_pubkey(const uint8_t *der, size_t len, mica_pkey **out);

/* A certificate chain (leaf first) as DER, with the leaf's private key. */
struct x509_st; /* libcrypto's X509, opaque to the tls layer */

struct mica_chain {
    uint8_t **der;
    size_t *len;
    size_t n;
    mica_pkey *key;       /* the private key */
    struct x509_st *leaf; /* der[0] parsed once, for name checks on every handshake */
};

/* mica_x509_chain_from_pem: parse a PEM chain and a PEM private key; MICA_E_DECODE if
 * either does not parse or the chain is empty, MICA_E_KEY_MISMATCH if the key is not
 * the leaf's, MICA_E_UNSUPPORTED for a key mica cannot sign TLS 1.3 with (including RSA
 * under 2048 bits). */
MICA_MUST mica_err mica_x509_chain_from_pem(const char *chain_pem, size_t chain_len,
                                            const char *key_pem, size_t key_len,
                                            struct mica_chain **out);
void mica_x509_chain_free(struct mica_chain *c);

/* mica_x509_chain_issued_by: whether a certificate of the chain was issued by one of
 * names, a DistinguishedName list as in certificate_authorities (u16-prefixed DERs). */
bool mica_x509_chain_issued_by(const struct mica_chain *c, mica_rd names);

/* mica_x509_chain_covers: whether the chain's leaf covers name (DNS or IP SAN). */
bool mica_x509_chain_covers(const struct mica_chain *c, const char *name);

/* Trust anchors. */
typedef struct mica_x509_store mica_x509_store;
MICA_MUST mica_err mica_x509_store_new(mica_x509_store **out); /* empty */
/* mica_x509_store_add_default: the system's anchors, read on first use (a verification,
 * mica_x509_store_names, or mica_x509_store_ready, which is safe from many threads) */
MICA_MUST mica_err mica_x509_store_add_default(mica_x509_store *s);
MICA_MUST mica_err mica_x509_store_ready(const mica_x509_store *s);
MICA_MUST mica_err mica_x509_store_add_file(mica_x509_store *s, const char *file);
MICA_MUST mica_err mica_x509_store_add_dir(mica_x509_store *s, const char *dir);
MICA_MUST mica_err mica_x509_store_add_pem(mica_x509_store *s, const char *pem, size_t len);
void mica_x509_store_free(mica_x509_store *s);
/* mica_x509_store_names: the subjects of the store's certificates as that list (without
 * its own length) into out; MICA_E_LIMIT when they do not fit in cap. */
MICA_MUST mica_err mica_x509_store_names(const mica_x509_store *s, uint8_t *out, size_t cap,
                                         size_t *len);

/* mica_x509_store_add_untrusted_file: intermediates (PEM) offered to chain building
 * beside the peer's own certificates, never trusted as anchors. */
MICA_MUST mica_err mica_x509_store_add_untrusted_file(mica_x509_store *s, const char *file);

/* mica_x509_store_add_crl_file: CRLs (PEM or DER) to check the leaf against; once any
 * is loaded, a leaf whose issuer has no CRL fails (MICA_E_CERT_STATUS). */
MICA_MUST mica_err mica_x509_store_add_crl_file(mica_x509_store *s, const char *file);

/* What a verification checks besides the chain (see verify.c). */
enum { MICA_X509_OCSP_OFF = 0, MICA_X509_OCSP_AUTO = 1, MICA_X509_OCSP_REQUIRE = 2 };
struct mica_x509_policy {
    bool server;         /* the peer is a server (serverAuth) or a client (clientAuth) */
    const char *name;    /* DNS name or IP address the leaf must cover, or NULL */
    uint64_t now_ms;     /* the time to verify at */
    const uint8_t *pins; /* pins_n SHA-256 hashes of SubjectPublicKeyInfo, 32 bytes each */
    size_t pins_n;       /* 0: no pinning */
    const uint8_t *ocsp; /* the stapled OCSP response (DER), or NULL */
    size_t ocsp_len;
    int ocsp_mode; /* MICA_X509_OCSP_*: off ignores a staple, auto checks one if present,
                      require fails without one */
};

/*
 * mica_x509_verify: verify a peer chain (DER, leaf first, any order after) under policy
 * p. On failure returns MICA_E_CERT_UNTRUSTED / _EXPIRED / _HOSTNAME / _PURPOSE / _WEAK /
 * _PIN / _REVOKED / _STATUS or MICA_E_BAD_CERTIFICATE and writes a sentence naming the
 * certificate, the check and the values into why[0..why_cap) ("ok" on success). On
 * success *leaf_key (when leaf_key is not NULL) gets the leaf's public key, from the same
 * parse (the caller frees it): the CertificateVerify is checked with it.
 */
MICA_MUST mica_err mica_x509_verify(const mica_x509_store *s, const uint8_t *const *der,
                                    const size_t *len, size_t n, const struct mica_x509_policy *p,
                                    char *why, size_t why_cap, mica_pkey **leaf_key);

/* mica_x509_parse_pin: "sha256/BASE64" (44 characters of base64) into 32 bytes. */
MICA_MUST mica_err mica_x509_parse_pin(const char *text, uint8_t out[32]);

#endif
