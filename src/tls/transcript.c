#include "tls/transcript.h"

#include <string.h>

#include "base/limits.h"
#include "base/mem.h"

void mica_transcript_init(struct mica_transcript *t)
{
    memset(t, 0, sizeof(*t));
}

void mica_transcript_clear(struct mica_transcript *t)
{
    mica_hash_free(t->ctx);
    mica_mem_free(t->pending);
    mica_transcript_init(t);
}

mica_err mica_transcript_add(struct mica_transcript *t, const uint8_t *msg, size_t len)
{
    uint8_t *grown;

    if (t->ctx != NULL) {
        return mica_hash_update(t->ctx, msg, len);
    }
    ENSURE(len <= SIZE_MAX - t->pending_len, MICA_E_LIMIT);
    grown = mica_mem_alloc(t->pending_len + len);
    ENSURE(grown != NULL, MICA_E_NOMEM);
    if (t->pending_len > 0) {
        memcpy(grown, t->pending, t->pending_len);
    }
    memcpy(grown + t->pending_len, msg, len);
    mica_mem_free(t->pending);
    t->pending = grown;
    t->pending_len += len;
    return MICA_OK;
}

mica_err mica_transcript_set_hash(struct mica_transcript *t, const struct mica_hash_desc *h)
{
    ENSURE(t->ctx == NULL, MICA_E_INTERNAL);
    TRY(mica_hash_new(h, &t->ctx));
    t->hash = h;
    TRY(mica_hash_update(t->ctx, t->pending, t->pending_len));
    mica_mem_free(t->pending);
    t->pending = NULL;
    t->pending_len = 0;
    return MICA_OK;
}

mica_err mica_transcript_hrr(struct mica_transcript *t)
{
    uint8_t msg[MICA_HANDSHAKE_HEADER_LEN + MICA_MAX_HASH_LEN];
    const struct mica_hash_desc *h = t->hash;
    mica_hash_ctx *fresh = NULL;

    ENSURE(h != NULL, MICA_E_INTERNAL);
    /* message_hash: type 254, 24-bit length Hash.length, then Hash(ClientHello1) */
    msg[0] = MICA_HS_MESSAGE_HASH;
    msg[1] = 0;
    msg[2] = 0;
    msg[3] = h->len;
    TRY(mica_hash_peek(t->ctx, msg + MICA_HANDSHAKE_HEADER_LEN));
    TRY(mica_hash_new(h, &fresh));
    mica_hash_free(t->ctx);
    t->ctx = fresh;
    return mica_hash_update(t->ctx, msg, MICA_HANDSHAKE_HEADER_LEN + h->len);
}

mica_err mica_transcript_hash(const struct mica_transcript *t, uint8_t *out)
{
    ENSURE(t->ctx != NULL, MICA_E_INTERNAL);
    return mica_hash_peek(t->ctx, out);
}

mica_err mica_transcript_hash_with(const struct mica_transcript *t, const struct mica_hash_desc *h,
                                   const uint8_t *extra, size_t extra_len, uint8_t *out)
{
    mica_hash_ctx *tmp = NULL;
    mica_err err;

    if (t->ctx != NULL) {
        ENSURE(t->hash == h, MICA_E_INTERNAL);
        TRY(mica_hash_dup(t->ctx, &tmp));
    } else {
        TRY(mica_hash_new(h, &tmp));
        err = mica_hash_update(tmp, t->pending, t->pending_len);
        if (err != MICA_OK) {
            mica_hash_free(tmp);
            return err;
        }
    }
    err = mica_hash_update(tmp, extra, extra_len);
    if (err == MICA_OK) {
        err = mica_hash_peek(tmp, out);
    }
    mica_hash_free(tmp);
    return err;
}

mica_err mica_transcript_copy(struct mica_transcript *dst, const struct mica_transcript *src)
{
    ENSURE(src->ctx != NULL, MICA_E_INTERNAL);
    mica_transcript_clear(dst);
    TRY(mica_hash_dup(src->ctx, &dst->ctx));
    dst->hash = src->hash;
    return MICA_OK;
}
