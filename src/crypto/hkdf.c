/*
 * HMAC (RFC 2104) and HKDF (RFC 5869) over libcrypto's HMAC. The HMAC context for each
 * hash is configured once (gate.c) and duplicated per use, so no name lookup or
 * parameter parsing happens per call.
 */
#include "crypto/gate.h"

#include <string.h>

static const uint8_t zeros[MICA_MAX_HASH_LEN];

mica_err mica_hmac(const struct mica_hash_desc *h, const uint8_t *key, size_t key_len,
                   const uint8_t *data, size_t data_len, uint8_t *out)
{
    const EVP_MAC_CTX *tmpl = mica_cr_hmac_template(h);
    EVP_MAC_CTX *c;
    size_t n = 0;
    int ok;

    ENSURE(tmpl != NULL, MICA_E_UNSUPPORTED);
    /* HMAC pads a short key with zeros: an empty key is the same as HashLen zeros, and
     * libcrypto wants a non-empty one. */
    if (key_len == 0) {
        key = zeros;
        key_len = h->len;
    }
    c = EVP_MAC_CTX_dup(tmpl);
    ENSURE(c != NULL, MICA_E_NOMEM);
    ok = EVP_MAC_init(c, key, key_len, NULL) == 1 &&
         (data_len == 0 || EVP_MAC_update(c, data, data_len) == 1) &&
         EVP_MAC_final(c, out, &n, h->len) == 1 && n == h->len;
    EVP_MAC_CTX_free(c);
    return ok ? MICA_OK : mica_cr_fail(MICA_E_CRYPTO);
}

mica_err mica_hkdf_extract(const struct mica_hash_desc *h, const uint8_t *salt, size_t salt_len,
                           const uint8_t *ikm, size_t ikm_len, mica_secret *prk)
{
    /* RFC 5869 2.2: "if not provided, [salt] is set to a string of HashLen zeros" */
    if (salt == NULL || salt_len == 0) {
        salt = zeros;
        salt_len = h->len;
    }
    TRY(mica_hmac(h, salt, salt_len, ikm, ikm_len, prk->b));
    prk->len = h->len;
    return MICA_OK;
}

mica_err mica_hkdf_expand(const struct mica_hash_desc *h, const uint8_t *prk, size_t prk_len,
                          const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
    const EVP_MAC_CTX *tmpl = mica_cr_hmac_template(h);
    uint8_t t[MICA_MAX_HASH_LEN];
    size_t t_len = 0, done = 0;
    uint8_t counter = 1;
    mica_err err = MICA_OK;

    ENSURE(tmpl != NULL, MICA_E_UNSUPPORTED);
    /* RFC 5869 2.3: "PRK: a pseudorandom key of at least HashLen octets"; L <= 255*HashLen */
    ENSURE(prk_len >= h->len, MICA_E_ARGUMENT);
    ENSURE(out_len <= MICA_MAX_HKDF_BLOCKS * (size_t)h->len, MICA_E_ARGUMENT);

    while (done < out_len && err == MICA_OK) {
        EVP_MAC_CTX *c = EVP_MAC_CTX_dup(tmpl);
        size_t n = 0, take;
        if (c == NULL) {
            err = MICA_E_NOMEM;
            break;
        }
        /* T(i) = HMAC-Hash(PRK, T(i-1) | info | i) */
        if (EVP_MAC_init(c, prk, prk_len, NULL) != 1 ||
            (t_len > 0 && EVP_MAC_update(c, t, t_len) != 1) ||
            (info_len > 0 && EVP_MAC_update(c, info, info_len) != 1) ||
            EVP_MAC_update(c, &counter, 1) != 1 || EVP_MAC_final(c, t, &n, sizeof(t)) != 1 ||
            n != h->len) {
            err = mica_cr_fail(MICA_E_CRYPTO);
        }
        EVP_MAC_CTX_free(c);
        t_len = h->len;
        take = out_len - done < t_len ? out_len - done : t_len;
        if (err == MICA_OK) {
            memcpy(out + done, t, take);
        }
        done += take;
        counter++;
    }
    mica_mem_wipe(t, sizeof(t));
    if (err != MICA_OK) {
        mica_mem_wipe(out, out_len);
    }
    return err;
}
