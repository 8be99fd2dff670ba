#include "crypto/gate.h"

#include <limits.h>

struct mica_hash_ctx {
    const struct mica_hash_desc *h;
    EVP_MD_CTX *ctx;
    EVP_MD_CTX *scratch; /* reused by peek, so a snapshot allocates nothing */
};

mica_err mica_hash(const struct mica_hash_desc *h, const uint8_t *data, size_t len, uint8_t *out)
{
    const EVP_MD *md = mica_cr_md(h);
    unsigned int n = 0;

    ENSURE(md != NULL, MICA_E_UNSUPPORTED);
    if (EVP_Digest(data, len, out, &n, md, NULL) != 1 || n != h->len) {
        return mica_cr_fail(MICA_E_CRYPTO);
    }
    return MICA_OK;
}

void mica_hash_free(mica_hash_ctx *c)
{
    if (c == NULL) {
        return;
    }
    EVP_MD_CTX_free(c->ctx);
    EVP_MD_CTX_free(c->scratch);
    mica_mem_free(c);
}

static mica_err hash_alloc(const struct mica_hash_desc *h, mica_hash_ctx **out)
{
    mica_hash_ctx *c = mica_mem_alloc(sizeof(*c));

    ENSURE(c != NULL, MICA_E_NOMEM);
    c->h = h;
    c->ctx = EVP_MD_CTX_new();
    c->scratch = EVP_MD_CTX_new();
    if (c->ctx == NULL || c->scratch == NULL) {
        mica_hash_free(c);
        return MICA_E_NOMEM;
    }
    *out = c;
    return MICA_OK;
}

mica_err mica_hash_new(const struct mica_hash_desc *h, mica_hash_ctx **out)
{
    const EVP_MD *md = mica_cr_md(h);
    mica_hash_ctx *c = NULL;

    ENSURE(md != NULL, MICA_E_UNSUPPORTED);
    TRY(hash_alloc(h, &c));
    if (EVP_DigestInit_ex2(c->ctx, md, NULL) != 1) {
        mica_hash_free(c);
        return mica_cr_fail(MICA_E_CRYPTO);
    }
    *out = c;
    return MICA_OK;
}

mica_err mica_hash_update(mica_hash_ctx *c, const uint8_t *data, size_t len)
{
    if (len > 0 && EVP_DigestUpdate(c->ctx, data, len) != 1) {
        return mica_cr_fail(MICA_E_CRYPTO);
    }
    return MICA_OK;
}

mica_err mica_hash_peek(const mica_hash_ctx *c, uint8_t *out)
{
    unsigned int n = 0;

    if (EVP_MD_CTX_copy_ex(c->scratch, c->ctx) != 1 ||
        EVP_DigestFinal_ex(c->scratch, out, &n) != 1 || n != c->h->len) {
        return mica_cr_fail(MICA_E_CRYPTO);
    }
    return MICA_OK;
}

mica_err mica_hash_dup(const mica_hash_ctx *c, mica_hash_ctx **out)
{
    mica_hash_ctx *d = NULL;

    TRY(hash_alloc(c->h, &d));
    if (EVP_MD_CTX_copy_ex(d->ctx, c->ctx) != 1) {
        mica_hash_free(d);
        return mica_cr_fail(MICA_E_CRYPTO);
    }
    *out = d;
    return MICA_OK;
}
