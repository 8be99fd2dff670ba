/*
 * The gate's one-time set-up: every EVP object mica uses is fetched here, once per
 * process, and kept for the life of the process (DESIGN.md, "Performance by
 * construction"). They are never freed: libcrypto's own exit handler owns teardown, and
 * freeing from a destructor could run after it.
 */
#include "crypto/gate.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <pthread.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static mica_err init_result = MICA_E_CRYPTO;
static EVP_MD *mds[MICA_HASH__COUNT];
static EVP_CIPHER *ciphers[MICA_AEAD__COUNT];
static EVP_MAC *hmac;
static EVP_MAC_CTX *hmac_tmpl[MICA_HASH__COUNT];
static uint8_t empty_hashes[MICA_HASH__COUNT][MICA_MAX_HASH_LEN];
static bool empty_ok[MICA_HASH__COUNT];

static const struct mica_hash_desc *const all_hashes[] = {&mica_hash_sha256, &mica_hash_sha384,
                                                          &mica_hash_sha512, &mica_hash_sha1};

static void fetch_hash(const struct mica_hash_desc *h)
{
    OSSL_PARAM params[2];
    unsigned int n = 0;

    mds[h->id] = EVP_MD_fetch(NULL, h->name, NULL);
    if (mds[h->id] == NULL) {
        return;
    }
    /* kept: TLS 1.3's key schedule hashes "" twice a handshake (Derive-Secret(.,
     * "derived", "")), and again for binder keys and exporters */
    empty_ok[h->id] =
        EVP_Digest(NULL, 0, empty_hashes[h->id], &n, mds[h->id], NULL) == 1 && n == h->len;
    if (hmac == NULL) {
        return;
    }
    hmac_tmpl[h->id] = EVP_MAC_CTX_new(hmac);
    if (hmac_tmpl[h->id] == NULL) {
        return;
    }
    params[0] =
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)(uintptr_t)h->name, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_CTX_set_params(hmac_tmpl[h->id], params) != 1) {
        EVP_MAC_CTX_free(hmac_tmpl[h->id]);
        hmac_tmpl[h->id] = NULL;
    }
}

static void init_once(void)
{
    hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    for (size_t i = 0; i < MICA_ARRAY_LEN(all_hashes); i++) {
        fetch_hash(all_hashes[i]);
    }
    for (size_t i = 0; i < mica_suites_n; i++) {
        const struct mica_aead_desc *a = mica_suites[i].aead;
        if (ciphers[a->id] == NULL) {
            ciphers[a->id] = EVP_CIPHER_fetch(NULL, a->cipher, NULL);
        }
    }
    ERR_clear_error();
    /* TLS 1.3's mandatory suite (RFC 8446 9.1) and its hash are the minimum. */
    if (hmac_tmpl[MICA_HASH_SHA256] != NULL && ciphers[MICA_AEAD_AES_128_GCM] != NULL) {
        init_result = MICA_OK;
    }
}

mica_err mica_cr_init(void)
{
    if (pthread_once(&once, init_once) != 0) {
        return MICA_E_CRYPTO;
    }
    return init_result;
}

const EVP_MD *mica_cr_md(const struct mica_hash_desc *h)
{
    return mica_cr_init() == MICA_OK ? mds[h->id] : NULL;
}

const uint8_t *mica_hash_empty(const struct mica_hash_desc *h)
{
    return mica_cr_init() == MICA_OK && empty_ok[h->id] ? empty_hashes[h->id] : NULL;
}

const EVP_CIPHER *mica_cr_cipher(const struct mica_aead_desc *a)
{
    return mica_cr_init() == MICA_OK ? ciphers[a->id] : NULL;
}

const EVP_MAC_CTX *mica_cr_hmac_template(const struct mica_hash_desc *h)
{
    return mica_cr_init() == MICA_OK ? hmac_tmpl[h->id] : NULL;
}

bool mica_cr_suite_available(const struct mica_suite *s)
{
    return mica_cr_cipher(s->aead) != NULL && mica_cr_hmac_template(s->hash) != NULL;
}

mica_err mica_cr_fail(mica_err err)
{
    ERR_clear_error();
    return err;
}
