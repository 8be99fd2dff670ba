/*
 * The crypto gate: the only door to libcrypto (with src/x509/). Layers above see const
 * descriptor tables and opaque handles; no OpenSSL type crosses this header.
 *
 * Descriptors (after picotls): one const row per algorithm with its IANA id, RFC name,
 * sizes and what it needs. libcrypto objects behind them (EVP_MD, EVP_CIPHER, the HMAC
 * template) are fetched once per process, on first use, never per record or handshake.
 */
#ifndef MICA_CRYPTO_CRYPTO_H
#define MICA_CRYPTO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/mem.h"

/* ---- hashes ---------------------------------------------------------------------- */

enum mica_hash_id {
    MICA_HASH_SHA256,
    MICA_HASH_SHA384,
    MICA_HASH_SHA512,
    MICA_HASH_SHA1,
    MICA_HASH__COUNT
};

struct mica_hash_desc {
    enum mica_hash_id id;
    const char *name; /* "SHA256": also the libcrypto fetch name */
    uint8_t len;      /* output bytes */
};

extern const struct mica_hash_desc mica_hash_sha256;
extern const struct mica_hash_desc mica_hash_sha384;
extern const struct mica_hash_desc mica_hash_sha512;
extern const struct mica_hash_desc mica_hash_sha1; /* certificate signatures only */

/* mica_hash: one-shot digest of data[0..len) into out[0..h->len). */
MICA_MUST mica_err mica_hash(const struct mica_hash_desc *h, const uint8_t *data, size_t len,
                             uint8_t *out);
/* mica_hash_empty: Hash("") (h->len bytes), computed once per process; NULL when the hash
 * is unavailable */
const uint8_t *mica_hash_empty(const struct mica_hash_desc *h);

/* A running hash. mica_hash_peek gives the digest of everything fed so far without
 * ending the hash (a cheap snapshot: one context copy), as the transcript needs. */
typedef struct mica_hash_ctx mica_hash_ctx;
MICA_MUST mica_err mica_hash_new(const struct mica_hash_desc *h, mica_hash_ctx **out);
MICA_MUST mica_err mica_hash_update(mica_hash_ctx *c, const uint8_t *data, size_t len);
MICA_MUST mica_err mica_hash_peek(const mica_hash_ctx *c, uint8_t *out);
MICA_MUST mica_err mica_hash_dup(const mica_hash_ctx *c, mica_hash_ctx **out);
void mica_hash_free(mica_hash_ctx *c);

/* ---- HMAC and HKDF (RFC 2104, RFC 5869) ------------------------------------------ */

/* mica_hmac: HMAC-Hash(key, data) into out[0..h->len). */
MICA_MUST mica_err mica_hmac(const struct mica_hash_desc *h, const uint8_t *key, size_t key_len,
                             const uint8_t *data, size_t data_len, uint8_t *out);

/* mica_mac_scope_begin/end: within the scope, this thread's HMACs reuse one context per
 * hash, freed (and so cleansed) at the scope's end. Scopes nest; each begin needs its
 * end on every path. */
void mica_mac_scope_begin(void);
void mica_mac_scope_end(void);

/* mica_hkdf_extract: PRK = HMAC-Hash(salt, ikm). A NULL/empty salt means HashLen zeros. */
MICA_MUST mica_err mica_hkdf_extract(const struct mica_hash_desc *h, const uint8_t *salt,
                                     size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                                     mica_secret *prk);

/* mica_hkdf_expand: OKM = HKDF-Expand(prk, info, out_len). MICA_E_ARGUMENT when out_len
 * exceeds 255 * HashLen or prk is shorter than HashLen. */
MICA_MUST mica_err mica_hkdf_expand(const struct mica_hash_desc *h, const uint8_t *prk,
                                    size_t prk_len, const uint8_t *info, size_t info_len,
                                    uint8_t *out, size_t out_len);

/* ---- AEAD ------------------------------------------------------------------------ */

enum mica_aead_id {
    MICA_AEAD_AES_128_GCM,
    MICA_AEAD_AES_256_GCM,
    MICA_AEAD_CHACHA20_POLY1305,
    MICA_AEAD_AES_128_CCM,
    MICA_AEAD_AES_128_CCM_8,
    MICA_AEAD__COUNT
};

struct mica_aead_desc {
    enum mica_aead_id id;
    const char *name;   /* "AES-128-GCM" */
    const char *cipher; /* libcrypto fetch name */
    uint8_t key_len;
    uint8_t tag_len;
    uint64_t max_records; /* RFC 8446 5.5 usage limit per key */
};

/*
 * A keyed AEAD context: set up once per traffic key, then used for every record with
 * that key. Nonces are 12 bytes (RFC 8446 5.3); other sizes are MICA_E_ARGUMENT.
 *
 * mica_aead_seal encrypts buf[0..len) in place and writes the tag to tag[0..tag_len).
 * mica_aead_open decrypts buf[0..len) in place if tag authenticates it; otherwise it
 * wipes buf[0..len) and returns MICA_E_BAD_RECORD_MAC, so that no unauthenticated
 * plaintext is ever visible.
 */
typedef struct mica_aead mica_aead;
MICA_MUST mica_err mica_aead_new(const struct mica_aead_desc *a, const uint8_t *key, size_t key_len,
                                 bool encrypt, mica_aead **out);
void mica_aead_free(mica_aead *c);
MICA_MUST mica_err mica_aead_seal(mica_aead *c, const uint8_t *nonce, size_t nonce_len,
                                  const uint8_t *aad, size_t aad_len, uint8_t *buf, size_t len,
                                  uint8_t *tag);
/* mica_aead_seal_from: the same, but the message's first src_len bytes are read from src
 * (which must not overlap buf) and written, encrypted, to buf[0..src_len); the rest,
 * buf[src_len..len), is encrypted in place. Saves the copy of a record's content into
 * the send buffer. */
MICA_MUST mica_err mica_aead_seal_from(mica_aead *c, const uint8_t *nonce, size_t nonce_len,
                                       const uint8_t *aad, size_t aad_len, const uint8_t *src,
                                       size_t src_len, uint8_t *buf, size_t len, uint8_t *tag);
MICA_MUST mica_err mica_aead_open(mica_aead *c, const uint8_t *nonce, size_t nonce_len,
                                  const uint8_t *aad, size_t aad_len, uint8_t *buf, size_t len,
                                  const uint8_t *tag);
/* mica_aead_open_to: the same, but the ciphertext src[0..len) (left as it is) is
 * decrypted into dst[0..len), which must not overlap it unless it is src; a failure wipes
 * dst. Saves copying a received record before decrypting it. */
MICA_MUST mica_err mica_aead_open_to(mica_aead *c, const uint8_t *nonce, size_t nonce_len,
                                     const uint8_t *aad, size_t aad_len, const uint8_t *src,
                                     uint8_t *dst, size_t len, const uint8_t *tag);
const struct mica_aead_desc *mica_aead_desc(const mica_aead *c);

/*
 * The fuzzing build (-DMICA_FUZZING, `make fuzz` only): records go through a null AEAD
 * (src/crypto/null.c: the plaintext and a zero tag) and the checks that would stop a
 * fuzzer at its first guess pass -- Finished, PSK binders, HRR cookies and signatures:
 * MICA_VERIFIED(ok) is true there and ok everywhere else. Nothing of it can reach a
 * release: null.c is built only then, and tests/lint/symbols.sh checks the libraries.
 */
#ifdef MICA_FUZZING
#define MICA_VERIFIED(ok) mica_null_verified(ok)
bool mica_null_verified(bool ok); /* true */
mica_err mica_null_aead_seal_from(const struct mica_aead_desc *a, const uint8_t *src,
                                  size_t src_len, uint8_t *buf, size_t len, uint8_t *tag);
mica_err mica_null_aead_open(const struct mica_aead_desc *a, uint8_t *buf, size_t len,
                             const uint8_t *tag);
#else
#define MICA_VERIFIED(ok) (ok)
#endif

/* ---- cipher suites (RFC 8446 B.4) ------------------------------------------------- */

struct mica_suite {
    uint16_t id;
    const char *name;
    const struct mica_hash_desc *hash;
    const struct mica_aead_desc *aead;
};

/* The five TLS 1.3 suites in mica's default preference order. */
extern const struct mica_suite mica_suites[];
extern const size_t mica_suites_n;
const struct mica_suite *mica_suite_by_id(uint16_t id);
const struct mica_suite *mica_suite_by_name(const char *name); /* names: any case */

/* ---- key exchange: groups (RFC 8446 4.2.7), KEM-shaped ----------------------------- */

/*
 * Every group is used as a KEM, so that Diffie-Hellman and ML-KEM hybrids share one
 * shape:
 *   client: mica_kx_keygen -> send the public share; later mica_kx_decap(server share)
 *   server: mica_kx_encap(client share) -> send its share; both now hold the secret.
 * For a DH group, encap generates an ephemeral key and returns its public value; decap
 * is the DH with the server's public value.
 */
enum mica_kx_kind { MICA_KX_ECDH, MICA_KX_XDH, MICA_KX_KEM };

struct mica_group {
    uint16_t id;
    const char *name; /* "x25519", "secp256r1" */
    enum mica_kx_kind kind;
    const char *ossl_name;     /* libcrypto key type or curve name */
    uint16_t client_share_len; /* key_share length a client sends */
    uint16_t server_share_len; /* key_share length a server sends */
    uint16_t secret_len;
    /* KEM groups (draft-ietf-tls-ecdhe-mlkem): the classical group of a hybrid (NULL for
     * ML-KEM alone), and whether the ML-KEM part comes first in shares and secret
     * (X25519MLKEM768) or second (SecP256r1MLKEM768) */
    const struct mica_group *classic;
    bool kem_first;
};

extern const struct mica_group mica_groups[];
extern const size_t mica_groups_n;
const struct mica_group *mica_group_by_id(uint16_t id);
const struct mica_group *mica_group_by_name(const char *name);

/* The shared secret of a key exchange; wiped by mica_kx_shared_wipe. */
typedef struct mica_kx_shared {
    uint8_t b[MICA_MAX_KX_SECRET_LEN];
    size_t len;
} mica_kx_shared;
void mica_kx_shared_wipe(mica_kx_shared *s);
#define MICA_KX_SHARED(name)                                                                       \
    mica_kx_shared name __attribute__((cleanup(mica_kx_shared_wipe))) = {{0}, 0}

typedef struct mica_kx_key mica_kx_key; /* a private key; freed (and wiped) by kx_free */

/* mica_kx_keygen: a fresh key pair; its public share into pub[0..*pub_len). X25519,
 * X448 and ML-KEM private keys come from mica_rand (so the test RNG hook makes them
 * reproducible; a hybrid draws the ML-KEM seed first); EC keys from libcrypto. */
MICA_MUST mica_err mica_kx_keygen(const struct mica_group *g, mica_kx_key **key, uint8_t *pub,
                                  size_t pub_cap, size_t *pub_len);

/* mica_kx_key_from_private: a key pair from a known private value (tests and vectors).
 * pub may be NULL when the public share is not wanted. For ML-KEM groups the private
 * value is the 64-byte seed d||z, followed for a hybrid by the classical private key. */
MICA_MUST mica_err mica_kx_key_from_private(const struct mica_group *g, const uint8_t *priv,
                                            size_t priv_len, mica_kx_key **key, uint8_t *pub,
                                            size_t pub_cap, size_t *pub_len);

/* mica_kx_decap: the client's side: our key with the peer's share. The peer share is
 * validated first: wrong length, a point not on the curve, the point at infinity or a
 * compressed encoding give MICA_E_BAD_PEER_KEY; an all-zero X25519/X448 result gives
 * MICA_E_ZERO_SHARED (RFC 8446 7.4.2). An X25519/X448 key derives through a context it
 * keeps, so one key is not used by two threads at once (each connection has its own). */
MICA_MUST mica_err mica_kx_decap(const mica_kx_key *key, const uint8_t *peer, size_t peer_len,
                                 mica_kx_shared *out);

/* mica_kx_encap: the server's side: validate the client's share, make our share into
 * share[0..*share_len) and the shared secret into *out. */
MICA_MUST mica_err mica_kx_encap(const struct mica_group *g, const uint8_t *peer, size_t peer_len,
                                 uint8_t *share, size_t share_cap, size_t *share_len,
                                 mica_kx_shared *out);
void mica_kx_free(mica_kx_key *key);
/* mica_kx_public: the public share of our key into pub[0..*pub_len). */
MICA_MUST mica_err mica_kx_public(const mica_kx_key *key, uint8_t *pub, size_t pub_cap,
                                  size_t *pub_len);
const struct mica_group *mica_kx_group(const mica_kx_key *key);

/* ---- signatures (RFC 8446 4.2.3) -------------------------------------------------- */

enum mica_key_type {
    MICA_KEY_RSA,
    MICA_KEY_RSA_PSS,
    MICA_KEY_EC,
    MICA_KEY_ED25519,
    MICA_KEY_ED448,
    MICA_KEY_OTHER
};

struct mica_sig_scheme {
    uint16_t id;
    const char *name; /* "ecdsa_secp256r1_sha256" */
    enum mica_key_type key_type;
    const struct mica_hash_desc *hash; /* NULL for EdDSA (pure) */
    const char *curve;                 /* ECDSA: the curve the key must be on (TLS 1.3 binds it) */
    bool pss;                          /* RSASSA-PSS with salt = hash length, MGF1 same hash */
    bool handshake_ok;                 /* usable in CertificateVerify; else certificates only */
};

extern const struct mica_sig_scheme mica_sig_schemes[];
extern const size_t mica_sig_schemes_n;
const struct mica_sig_scheme *mica_sig_scheme_by_id(uint16_t id);
const struct mica_sig_scheme *mica_sig_scheme_by_name(const char *name);

typedef struct mica_pkey mica_pkey; /* a public or private key */

/* Loading keys. PEM: a private key (PKCS#8 or traditional). DER: SubjectPublicKeyInfo. */
MICA_MUST mica_err mica_pkey_from_pem(const uint8_t *pem, size_t len, mica_pkey **out);
MICA_MUST mica_err mica_pkey_from_spki(const uint8_t *der, size_t len, mica_pkey **out);
void mica_pkey_free(mica_pkey *k);
enum mica_key_type mica_pkey_type(const mica_pkey *k);
size_t mica_pkey_bits(const mica_pkey *k);

/* mica_sig_fits: true when the scheme can be used with this key (type, curve, size). */
bool mica_sig_fits(const struct mica_sig_scheme *s, const mica_pkey *k);

/* mica_sig_sign: sign msg with s into sig[0..*sig_len). */
MICA_MUST mica_err mica_sig_sign(const struct mica_sig_scheme *s, const mica_pkey *k,
                                 const uint8_t *msg, size_t msg_len, uint8_t *sig, size_t sig_cap,
                                 size_t *sig_len);

/* mica_sig_verify: MICA_OK if sig is a valid signature of msg under k with scheme s;
 * MICA_E_BAD_SIGNATURE if not; MICA_E_KEY_MISMATCH if the key does not fit s. */
MICA_MUST mica_err mica_sig_verify(const struct mica_sig_scheme *s, const mica_pkey *k,
                                   const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                                   size_t sig_len);

/* ---- randomness --------------------------------------------------------------- */

/* mica_rand: fill buf[0..len) from libcrypto's CSPRNG (or the test hook). */
MICA_MUST mica_err mica_rand(uint8_t *buf, size_t len);

/* Test hook: replaces the CSPRNG for the whole process (NULL restores it). For
 * deterministic tests only; compiled into every build, but nothing in the library or
 * the command sets it. */
typedef void (*mica_rand_hook)(uint8_t *buf, size_t len, void *ctx);
void mica_rand_set_hook(mica_rand_hook hook, void *ctx);

/* ---- the gate itself --------------------------------------------------------- */

/* mica_cr_init: fetch every libcrypto object mica uses, once per process (thread-safe;
 * every function above calls it). MICA_E_CRYPTO if libcrypto lacks one. */
MICA_MUST mica_err mica_cr_init(void);

/* mica_cr_available: whether the running libcrypto offers this algorithm. */
bool mica_cr_suite_available(const struct mica_suite *s);
bool mica_cr_group_available(const struct mica_group *g);

#endif /* MICA_CRYPTO_CRYPTO_H */
