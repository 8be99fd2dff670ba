/*
 * AEAD seal/open in place. One EVP_CIPHER_CTX per traffic key, keyed once; each record
 * only sets its nonce. CCM needs its tag length before the key and the message length
 * before the AAD (RFC 3610 as libcrypto implements it); GCM and ChaCha20-Poly1305 do not.
 */
#include "crypto/gate.h"

#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>

struct mica_aead {
    const struct mica_aead_desc *a;
    EVP_CIPHER_CTX *ctx;
    bool encrypt;
};

static bool is_ccm(const struct mica_aead_desc *a)
{
    return a->id == MICA_AEAD_AES_128_CCM || a->id == MICA_AEAD_AES_128_CCM_8;
}

void mica_aead_free(mica_aead *c)
{
    if (c == NULL) {
        return;
    }
    EVP_CIPHER_CTX_free(c->ctx); /* cleanses its key schedule */
    mica_mem_free_secret(c);
}

const struct mica_aead_desc *mica_aead_desc(const mica_aead *c)
{
    return c->a;
}

mica_err mica_aead_new(const struct mica_aead_desc *a, const uint8_t *key, size_t key_len,
                       bool encrypt, mica_aead **out)
{
    const EVP_CIPHER *cipher = mica_cr_cipher(a);
    mica_aead *c;
    int enc = encrypt ? 1 : 0;
    int ok;

    ENSURE(cipher != NULL, MICA_E_UNSUPPORTED);
    ENSURE(key_len == a->key_len, MICA_E_ARGUMENT);
    c = mica_mem_alloc(sizeof(*c));
    ENSURE(c != NULL, MICA_E_NOMEM);
    c->a = a;
    c->encrypt = encrypt;
    c->ctx = EVP_CIPHER_CTX_new();
    if (c->ctx == NULL) {
        mica_aead_free(c);
        return MICA_E_NOMEM;
    }
    ok = EVP_CipherInit_ex2(c->ctx, cipher, NULL, NULL, enc, NULL) == 1 &&
         EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_AEAD_SET_IVLEN, MICA_AEAD_NONCE_LEN, NULL) == 1;
    if (ok && is_ccm(a)) {
        ok = EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_AEAD_SET_TAG, a->tag_len, NULL) == 1;
    }
    ok = ok && EVP_CipherInit_ex2(c->ctx, NULL, key, NULL, enc, NULL) == 1;
    if (!ok) {
        mica_aead_free(c);
        return mica_cr_fail(MICA_E_CRYPTO);
    }
    *out = c;
    return MICA_OK;
}

/* The per-record tag goes through the parameter API directly: EVP_CIPHER_CTX_ctrl
 * translates to it on every call, which bench/ measured at 160-250 ns per record. */
static bool set_tag(EVP_CIPHER_CTX *ctx, const uint8_t *tag, size_t len)
{
    OSSL_PARAM params[2];

    params[0] =
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, (void *)(uintptr_t)tag, len);
    params[1] = OSSL_PARAM_construct_end();
    return EVP_CIPHER_CTX_set_params(ctx, params) == 1;
}

static bool get_tag(EVP_CIPHER_CTX *ctx, uint8_t *tag, size_t len)
{
    OSSL_PARAM params[2];

    params[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, len);
    params[1] = OSSL_PARAM_construct_end();
    return EVP_CIPHER_CTX_get_params(ctx, params) == 1;
}

/* start: the per-message set-up common to seal and open. */
static bool start(mica_aead *c, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                  size_t len, const uint8_t *tag)
{
    int n;

    if (EVP_CipherInit_ex2(c->ctx, NULL, NULL, nonce, -1, NULL) != 1) {
        return false;
    }
    /* open: the expected tag; CCM checks it during the update, others in final */
    if (tag != NULL && !set_tag(c->ctx, tag, c->a->tag_len)) {
        return false;
    }
    if (is_ccm(c->a) && EVP_CipherUpdate(c->ctx, NULL, &n, NULL, (int)len) != 1) {
        return false;
    }
    return aad_len == 0 || EVP_CipherUpdate(c->ctx, NULL, &n, aad, (int)aad_len) == 1;
}

static mica_err check_args(const mica_aead *c, size_t nonce_len, size_t aad_len, size_t len)
{
    ENSURE(nonce_len == MICA_AEAD_NONCE_LEN, MICA_E_ARGUMENT);
    ENSURE(aad_len <= INT_MAX && len <= INT_MAX - 64, MICA_E_ARGUMENT);
    (void)c;
    return MICA_OK;
}

mica_err mica_aead_seal_from(mica_aead *c, const uint8_t *nonce, size_t nonce_len,
                             const uint8_t *aad, size_t aad_len, const uint8_t *src, size_t src_len,
                             uint8_t *buf, size_t len, uint8_t *tag)
{
    int n = 0, m = 0, fin = 0;
    size_t first;

    TRY(check_args(c, nonce_len, aad_len, len));
    ENSURE(c->encrypt && src_len <= len && (src != NULL || src_len == 0), MICA_E_ARGUMENT);
#ifdef MICA_FUZZING
    if (c->a != NULL) {
        return mica_null_aead_seal_from(c->a, src, src_len, buf, len, tag);
    }
#endif
    /* CCM takes the whole message in one update: gather it first */
    if (is_ccm(c->a) && src != buf && src_len > 0) {
        memcpy(buf, src, src_len);
        src = buf;
    }
    first = src != buf ? src_len : 0; /* bytes read from src rather than buf */
    if (!start(c, nonce, aad, aad_len, len, NULL) ||
        (first > 0 && EVP_CipherUpdate(c->ctx, buf, &n, src, (int)first) != 1) ||
        (len > first &&
         EVP_CipherUpdate(c->ctx, buf + n, &m, buf + first, (int)(len - first)) != 1) ||
        (is_ccm(c->a) && len == 0 && EVP_CipherUpdate(c->ctx, buf, &n, buf, 0) != 1) ||
        EVP_CipherFinal_ex(c->ctx, buf + n + m, &fin) != 1 || (size_t)(n + m + fin) != len ||
        !get_tag(c->ctx, tag, c->a->tag_len)) {
        mica_mem_wipe(buf, len);
        return mica_cr_fail(MICA_E_CRYPTO);
    }
    return MICA_OK;
}

mica_err mica_aead_seal(mica_aead *c, const uint8_t *nonce, size_t nonce_len, const uint8_t *aad,
                        size_t aad_len, uint8_t *buf, size_t len, uint8_t *tag)
{
    return mica_aead_seal_from(c, nonce, nonce_len, aad, aad_len, buf, 0, buf, len, tag);
}

mica_err mica_aead_open_to(mica_aead *c, const uint8_t *nonce, size_t nonce_len, const uint8_t *aad,
                           size_t aad_len, const uint8_t *src, uint8_t *dst, size_t len,
                           const uint8_t *tag)
{
    int n = 0, fin = 0;

    TRY(check_args(c, nonce_len, aad_len, len));
    ENSURE(!c->encrypt && (src == dst || src + len <= dst || dst + len <= src), MICA_E_ARGUMENT);
#ifdef MICA_FUZZING
    if (c->a != NULL) {
        if (src != dst && len > 0) {
            memcpy(dst, src, len);
        }
        return mica_null_aead_open(c->a, dst, len, tag);
    }
#endif
    if (!start(c, nonce, aad, aad_len, len, tag)) {
        return mica_cr_fail(MICA_E_CRYPTO);
    }
    /* CCM authenticates inside the update; everything else in the final call. Either
     * way a failure wipes the whole output: no partial plaintext leaves this function. */
    if ((len > 0 && EVP_CipherUpdate(c->ctx, dst, &n, src, (int)len) != 1) ||
        (is_ccm(c->a) && len == 0 && EVP_CipherUpdate(c->ctx, dst, &n, dst, 0) != 1) ||
        (!is_ccm(c->a) && EVP_CipherFinal_ex(c->ctx, dst + n, &fin) != 1) ||
        (size_t)(n + fin) != len) {
        mica_mem_wipe(dst, len);
        return mica_cr_fail(MICA_E_BAD_RECORD_MAC);
    }
    return MICA_OK;
}

mica_err mica_aead_open(mica_aead *c, const uint8_t *nonce, size_t nonce_len, const uint8_t *aad,
                        size_t aad_len, uint8_t *buf, size_t len, const uint8_t *tag)
{
    return mica_aead_open_to(c, nonce, nonce_len, aad, aad_len, buf, buf, len, tag);
}
