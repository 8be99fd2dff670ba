/*
 * Certificates, described: what `mica client --showcerts` and the JSON report print
 * about each certificate of a chain.
 */
#ifndef MICA_CERT_H
#define MICA_CERT_H

#include <stdint.h>

#include <mica/mica.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mica_cert_info {
    char subject[256]; /* RFC 2253 form: "CN=www.example.com,O=Example" */
    char issuer[256];
    char sans[512];      /* "DNS:localhost, DNS:*.test.mica, IP:127.0.0.1" */
    char not_before[32]; /* RFC 3339, UTC: "2026-11-22T22:26:28Z" */
    char not_after[32];
    int64_t not_before_s; /* the same as Unix seconds */
    int64_t not_after_s;
    char key[64];                 /* "ECDSA P-256", "RSA 2048", "Ed25519", "Ed448" */
    char signature_algorithm[64]; /* "ecdsa-with-SHA256", "sha256WithRSAEncryption" */
    char sha256[65];              /* SHA-256 of the DER certificate, lowercase hex */
    char spki_pin[64];            /* "sha256/" + base64 SHA-256 of the SubjectPublicKeyInfo */
};

/*
 * mica_cert_describe: the facts of one DER certificate (for example from
 * mica_conn_peer_cert). MICA_E_DECODE when der[0..len) is not one X.509 certificate.
 * Texts are always NUL-terminated; a part that does not fit is cut.
 *
 *     struct mica_cert_info ci;
 *     size_t len;
 *     const uint8_t *der = mica_conn_peer_cert(conn, 0, &len);
 *     if (der != NULL && mica_cert_describe(der, len, &ci) == MICA_OK)
 *         printf("%s, valid until %s\n", ci.subject, ci.not_after);
 */
MICA_API mica_err mica_cert_describe(const uint8_t *der, size_t len, struct mica_cert_info *out);

/*
 * Verifying a chain without a connection (mica verify): the same validation a client
 * applies to a server, with the same explanations.
 */
struct mica_verify_opts {
    const char *ca_file;        /* trust anchors (PEM); NULL with ca_dir NULL: the system store */
    const char *ca_dir;         /* a hashed CA directory */
    const char *untrusted_file; /* intermediates to use in building the chain (PEM), or NULL */
    const char *name;           /* DNS name or IP address the leaf must cover, or NULL */
    int client;                 /* 0: the leaf must be for a server (serverAuth), 1: a client */
    int64_t at;                 /* the time to check validity at (Unix seconds); 0: now */
};

/*
 * mica_verify_chain_pem: verify the chain in pem[0..len) (leaf first). MICA_OK when it
 * leads to a trusted root, every certificate is valid at the time, and the leaf covers
 * the name; otherwise MICA_E_CERT_UNTRUSTED / MICA_E_CERT_EXPIRED / MICA_E_CERT_HOSTNAME /
 * MICA_E_BAD_CERTIFICATE with the sentence in why[0..why_cap), or MICA_E_DECODE (no
 * certificate in the PEM) / MICA_E_ARGUMENT (unreadable trust or untrusted file).
 */
MICA_API mica_err mica_verify_chain_pem(const struct mica_verify_opts *o, const char *pem,
                                        size_t len, char *why, size_t why_cap);

#ifdef __cplusplus
}
#endif

#endif /* MICA_CERT_H */
