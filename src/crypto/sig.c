/*
 * Signatures (RFC 8446 4.2.3, 4.4.3): ECDSA with the curve bound to the scheme,
 * RSASSA-PSS with salt length = hash length and MGF1 with the same hash, EdDSA, and
 * PKCS#1 v1.5 for certificate signatures only.
 */
#include "crypto/gate.h"

#include <limits.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <string.h>

/*
 * A private key signs through a context initialized once per scheme and copied for each
 * signature: EVP_DigestSignInit fetches the digest and the signature algorithm by name
 * every time, 2-7 us of a 25 us ECDSA P-256 signature here (bench/). The templates are
 * made on first use under the key's lock and never change afterwards, so copies are
 * taken from them without it (a copy only reads its source).
 */
#define SIGN_TEMPLATES 4 /* schemes one key can sign with: rsa_pss_rsae_sha256/384/512 */

struct sign_template {
    const struct mica_sig_scheme *s;
    EVP_MD_CTX *md;
};

struct mica_pkey {
    EVP_PKEY *pk;
    enum mica_key_type type;
    bool locked; /* lock was initialized */
    pthread_mutex_t lock;
    struct sign_template tmpl[SIGN_TEMPLATES];
};

static enum mica_key_type key_type(const EVP_PKEY *pk)
{
    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_RSA: return MICA_KEY_RSA;
    case EVP_PKEY_RSA_PSS: return MICA_KEY_RSA_PSS;
    case EVP_PKEY_EC: return MICA_KEY_EC;
    case EVP_PKEY_ED25519: return MICA_KEY_ED25519;
    case EVP_PKEY_ED448: return MICA_KEY_ED448;
    default: return MICA_KEY_OTHER;
    }
}

mica_err mica_pkey_wrap(EVP_PKEY *pk, mica_pkey **out)
{
    mica_pkey *k = mica_mem_alloc(sizeof(*k));

    if (k == NULL) {
        EVP_PKEY_free(pk);
        return MICA_E_NOMEM;
    }
    k->pk = pk;
    k->type = key_type(pk);
    k->locked = pthread_mutex_init(&k->lock, NULL) == 0; /* else: no templates */
    *out = k;
    return MICA_OK;
}

EVP_PKEY *mica_pkey_evp(const mica_pkey *k)
{
    return k->pk;
}

void mica_pkey_free(mica_pkey *k)
{
    if (k == NULL) {
        return;
    }
    for (size_t i = 0; i < SIGN_TEMPLATES; i++) {
        EVP_MD_CTX_free(k->tmpl[i].md);
    }
    if (k->locked) {
        pthread_mutex_destroy(&k->lock);
    }
    EVP_PKEY_free(k->pk);
    mica_mem_free_secret(k);
}

enum mica_key_type mica_pkey_type(const mica_pkey *k)
{
    return k->type;
}

size_t mica_pkey_bits(const mica_pkey *k)
{
    int bits = EVP_PKEY_get_bits(k->pk);

    return bits > 0 ? (size_t)bits : 0;
}

/* Never prompt for a passphrase: an encrypted key without one is an error. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return 0;
}

mica_err mica_pkey_from_pem(const uint8_t *pem, size_t len, mica_pkey **out)
{
    BIO *bio;
    EVP_PKEY *pk = NULL;

    ENSURE(mica_cr_init() == MICA_OK, MICA_E_CRYPTO);
    ENSURE(len <= INT_MAX, MICA_E_ARGUMENT);
    bio = BIO_new_mem_buf(pem, (int)len);
    ENSURE(bio != NULL, MICA_E_NOMEM);
    pk = PEM_read_bio_PrivateKey_ex(bio, NULL, no_passphrase, NULL, NULL, NULL);
    BIO_free(bio);
    ENSURE(pk != NULL, mica_cr_fail(MICA_E_DECODE));
    return mica_pkey_wrap(pk, out);
}

mica_err mica_pkey_from_spki(const uint8_t *der, size_t len, mica_pkey **out)
{
    const unsigned char *p = der;
    EVP_PKEY *pk = NULL;

    ENSURE(mica_cr_init() == MICA_OK, MICA_E_CRYPTO);
    ENSURE(len <= LONG_MAX, MICA_E_ARGUMENT);
    pk = d2i_PUBKEY_ex(NULL, &p, (long)len, NULL, NULL);
    ENSURE(pk != NULL, mica_cr_fail(MICA_E_DECODE));
    if (p != der + len) { /* trailing bytes after the SubjectPublicKeyInfo */
        EVP_PKEY_free(pk);
        return MICA_E_DECODE;
    }
    return mica_pkey_wrap(pk, out);
}

static bool curve_is(const EVP_PKEY *pk, const char *curve)
{
    char name[64];
    size_t n = 0;

    if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), &n) !=
        1) {
        return false;
    }
    /* libcrypto reports NIST names as "prime256v1"/"secp384r1"/"secp521r1" */
    if (strcmp(curve, "P-256") == 0) {
        return strcmp(name, "prime256v1") == 0 || strcmp(name, "P-256") == 0;
    }
    if (strcmp(curve, "P-384") == 0) {
        return strcmp(name, "secp384r1") == 0 || strcmp(name, "P-384") == 0;
    }
    if (strcmp(curve, "P-521") == 0) {
        return strcmp(name, "secp521r1") == 0 || strcmp(name, "P-521") == 0;
    }
    return false;
}

/* An RSASSA-PSS key may be restricted to one hash (RFC 4055 3.1); it then fits only
 * the scheme with that hash. */
static bool pss_restriction_allows(const EVP_PKEY *pk, const struct mica_hash_desc *h)
{
    char name[64];
    size_t n = 0;
    EVP_MD *md;
    bool same;

    if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_RSA_DIGEST, name, sizeof(name), &n) !=
        1) {
        ERR_clear_error();
        return true; /* unrestricted */
    }
    md = EVP_MD_fetch(NULL, name, NULL);
    same = md != NULL && EVP_MD_is_a(md, h->name);
    EVP_MD_free(md);
    ERR_clear_error();
    return same;
}

bool mica_sig_fits(const struct mica_sig_scheme *s, const mica_pkey *k)
{
    if (s->key_type != k->type) {
        return false;
    }
    if (s->key_type == MICA_KEY_EC && s->curve != NULL) {
        return curve_is(k->pk, s->curve);
    }
    if (s->pss) {
        /* RFC 8017 9.1.1: emLen >= hLen + sLen + 2 with sLen = hLen */
        size_t em_len = (mica_pkey_bits(k) - 1 + 7) / 8;
        if (em_len < 2u * s->hash->len + 2u) {
            return false;
        }
        if (s->key_type == MICA_KEY_RSA_PSS && !pss_restriction_allows(k->pk, s->hash)) {
            return false;
        }
    }
    return true;
}

/* start: a DigestSign/DigestVerify context set up for scheme s. */
static mica_err start(const struct mica_sig_scheme *s, const mica_pkey *k, bool sign,
                      EVP_MD_CTX **out)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    const char *hash = s->hash != NULL ? s->hash->name : NULL;
    int ok;

    ENSURE(md != NULL, MICA_E_NOMEM);
    if (sign) {
        ok = EVP_DigestSignInit_ex(md, &pctx, hash, NULL, NULL, k->pk, NULL) == 1;
    } else {
        ok = EVP_DigestVerifyInit_ex(md, &pctx, hash, NULL, NULL, k->pk, NULL) == 1;
    }
    if (ok && s->pss) {
        /* RFC 8446 4.2.3: "The length of the Salt MUST be equal to the length of the
         * output of the digest algorithm"; MGF1 uses the same hash (libcrypto's default) */
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
    } else if (ok && s->key_type == MICA_KEY_RSA) {
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
    }
    if (!ok) {
        EVP_MD_CTX_free(md);
        return mica_cr_fail(MICA_E_CRYPTO);
    }
    *out = md;
    return MICA_OK;
}

/* sign_template: k's signing context for s, made on first use; NULL when none can be
 * kept (every slot taken, or a failure: the caller then starts a context of its own) */
static const EVP_MD_CTX *sign_template(const struct mica_sig_scheme *s, const mica_pkey *k)
{
    mica_pkey *mk = (mica_pkey *)(uintptr_t)k; /* the templates are a cache, not the key */
    const EVP_MD_CTX *t = NULL;

    if (!mk->locked || pthread_mutex_lock(&mk->lock) != 0) {
        return NULL;
    }
    for (size_t i = 0; i < SIGN_TEMPLATES && t == NULL; i++) {
        if (mk->tmpl[i].s == s) {
            t = mk->tmpl[i].md;
        } else if (mk->tmpl[i].s == NULL) {
            EVP_MD_CTX *md = NULL;
            if (start(s, k, true, &md) == MICA_OK) {
                mk->tmpl[i].s = s;
                mk->tmpl[i].md = md;
                t = md;
            }
            break;
        }
    }
    pthread_mutex_unlock(&mk->lock);
    return t;
}

/* sign_start: a signing context for s and k, copied from the key's template */
static mica_err sign_start(const struct mica_sig_scheme *s, const mica_pkey *k, EVP_MD_CTX **out)
{
    const EVP_MD_CTX *t = sign_template(s, k);
    EVP_MD_CTX *md;

    if (t == NULL) {
        return start(s, k, true, out);
    }
    md = EVP_MD_CTX_new();
    ENSURE(md != NULL, MICA_E_NOMEM);
    if (EVP_MD_CTX_copy_ex(md, t) != 1) {
        EVP_MD_CTX_free(md);
        return start(s, k, true, out);
    }
    *out = md;
    return MICA_OK;
}

mica_err mica_sig_sign(const struct mica_sig_scheme *s, const mica_pkey *k, const uint8_t *msg,
                       size_t msg_len, uint8_t *sig, size_t sig_cap, size_t *sig_len)
{
    EVP_MD_CTX *md = NULL;
    size_t n = 0;
    int ok;

    ENSURE(mica_sig_fits(s, k), MICA_E_KEY_MISMATCH);
    TRY(sign_start(s, k, &md));
    ok = EVP_DigestSign(md, NULL, &n, msg, msg_len) == 1;
    if (ok && n > sig_cap) {
        EVP_MD_CTX_free(md);
        return MICA_E_ARGUMENT;
    }
    if (ok) {
        n = sig_cap;
        ok = EVP_DigestSign(md, sig, &n, msg, msg_len) == 1;
    }
    EVP_MD_CTX_free(md);
    ENSURE(ok, mica_cr_fail(MICA_E_CRYPTO));
    *sig_len = n;
    return MICA_OK;
}

mica_err mica_sig_verify(const struct mica_sig_scheme *s, const mica_pkey *k, const uint8_t *msg,
                         size_t msg_len, const uint8_t *sig, size_t sig_len)
{
    EVP_MD_CTX *md = NULL;
    int rc;

    ENSURE(mica_sig_fits(s, k), MICA_E_KEY_MISMATCH);
    TRY(start(s, k, false, &md));
    rc = EVP_DigestVerify(md, sig, sig_len, msg, msg_len);
    EVP_MD_CTX_free(md);
    /* 0 is "does not verify", negative is "malformed": both are a bad signature */
    ENSURE(MICA_VERIFIED(rc == 1), mica_cr_fail(MICA_E_BAD_SIGNATURE));
    return MICA_OK;
}
