/*
 * HMAC (RFC 2104) and HKDF (RFC 5869) over libcrypto's HMAC. The HMAC context for each
 * hash is configured once (gate.c), so no name lookup or parameter parsing happens per
 * call.
 *
 * Inside a scope (mica_mac_scope_begin/end) the HMACs of a thread re-key one context
 * per hash instead of duplicating the template and freeing the copy each time. The
 * engine opens a scope around each handshake message it handles, which makes about 30
 * HMACs per end of a full handshake: bench/ measured 0.8-1.1 us per HMAC with a copy
 * each and 0.5 us re-keying one context. Those contexts hold state derived from keys,
 * so the end of the scope frees them (libcrypto cleanses them as it does): no key
 * outlives the message that used it. Outside a scope each HMAC has a context of its own.
 */
#include "crypto/gate.h"

#include <string.h>

static const uint8_t zeros[MICA_MAX_HASH_LEN];

static _Thread_local struct {
    unsigned depth;
    EVP_MAC_CTX *ctx[MICA_HASH__COUNT];
} scope;

void mica_mac_scope_begin(void)
{
    scope.depth++;
}

void mica_mac_scope_end(void)
{
    if (scope.depth == 0 || --scope.depth > 0) {
        return;
    }
    for (size_t i = 0; i < MICA_HASH__COUNT; i++) {
        EVP_MAC_CTX_free(scope.ctx[i]);
        scope.ctx[i] = NULL;
    }
}

/* mac_take: an HMAC context for h, the scope's when one is open; NULL with *err set */
static EVP_MAC_CTX *mac_take(const struct mica_hash_desc *h, mica_err *err)
{
    const EVP_MAC_CTX *tmpl = mica_cr_hmac_template(h);
    EVP_MAC_CTX *c;

    if (tmpl == NULL) {
        *err = MICA_E_UNSUPPORTED;
        return NULL;
    }
    c = scope.depth > 0 ? scope.ctx[h->id] : NULL;
    if (c == NULL) {
        c = EVP_MAC_CTX_dup(tmpl);
        if (scope.depth > 0) {
            scope.ctx[h->id] = c;
        }
    }
    *err = c != NULL ? MICA_OK : MICA_E_NOMEM;
    return c;
}

/* mac_give_back: the end of a use of mac_take's context */
static void mac_give_back(EVP_MAC_CTX *c)
{
    if (scope.depth == 0) {
        EVP_MAC_CTX_free(c);
    }
}

mica_err mica_hmac(const struct mica_hash_desc *h, const uint8_t *key, size_t key_len,
                   const uint8_t *data, size_t data_len, uint8_t *out)
{
    EVP_MAC_CTX *c;
    mica_err err;
    size_t n = 0;
    int ok;

    /* HMAC pads a short key with zeros: an empty key is the same as HashLen zeros, and
     * libcrypto wants a non-empty one. */
    if (key_len == 0) {
        key = zeros;
        key_len = h->len;
    }
    c = mac_take(h, &err);
    TRY(err);
    ok = EVP_MAC_init(c, key, key_len, NULL) == 1 &&
         (data_len == 0 || EVP_MAC_update(c, data, data_len) == 1) &&
         EVP_MAC_final(c, out, &n, h->len) == 1 && n == h->len;
    mac_give_back(c);
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
    uint8_t t[MICA_MAX_HASH_LEN];
    size_t t_len = 0, done = 0;
    uint8_t counter = 1;
    EVP_MAC_CTX *c;
    mica_err err;

    /* RFC 5869 2.3: "PRK: a pseudorandom key of at least HashLen octets"; L <= 255*HashLen */
    ENSURE(prk_len >= h->len, MICA_E_ARGUMENT);
    ENSURE(out_len <= MICA_MAX_HKDF_BLOCKS * (size_t)h->len, MICA_E_ARGUMENT);
    c = mac_take(h, &err);
    TRY(err);
    while (done < out_len) {
        size_t n = 0, take;
        /* T(i) = HMAC-Hash(PRK, T(i-1) | info | i). Each block keys the context anew:
         * re-initialising it without a key does not reset it in OpenSSL 3.0.0-3.0.2
         * (openssl#17811), and almost every expansion here is one block. */
        if (EVP_MAC_init(c, prk, prk_len, NULL) != 1 ||
            (t_len > 0 && EVP_MAC_update(c, t, t_len) != 1) ||
            (info_len > 0 && EVP_MAC_update(c, info, info_len) != 1) ||
            EVP_MAC_update(c, &counter, 1) != 1 || EVP_MAC_final(c, t, &n, sizeof(t)) != 1 ||
            n != h->len) {
            err = mica_cr_fail(MICA_E_CRYPTO);
            break;
        }
        t_len = h->len;
        take = out_len - done < t_len ? out_len - done : t_len;
        memcpy(out + done, t, take);
        done += take;
        counter++;
    }
    mac_give_back(c);
    mica_mem_wipe(t, sizeof(t));
    if (err != MICA_OK) {
        mica_mem_wipe(out, out_len);
    }
    return err;
}
