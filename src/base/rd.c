#include "base/rd.h"

mica_rd mica_rd_init(const uint8_t *buf, size_t len)
{
    mica_rd r;

    r.p = buf;
    r.n = buf != NULL ? len : 0;
    return r;
}

/* take: the one place that advances a reader. */
static mica_err take(mica_rd *r, size_t len, const uint8_t **out)
{
    ENSURE(len <= r->n, MICA_E_DECODE);
    *out = r->p;
    if (len > 0) { /* p may be NULL for an empty reader; NULL + 0 is undefined in C */
        r->p += len;
        r->n -= len;
    }
    return MICA_OK;
}

static mica_err read_be(mica_rd *r, size_t width, uint64_t *v)
{
    const uint8_t *p;
    uint64_t x = 0;

    TRY(take(r, width, &p));
    for (size_t i = 0; i < width; i++) {
        x = (x << 8) | p[i];
    }
    *v = x;
    return MICA_OK;
}

mica_err mica_rd_u8(mica_rd *r, uint8_t *v)
{
    uint64_t x;

    TRY(read_be(r, 1, &x));
    *v = (uint8_t)x;
    return MICA_OK;
}

mica_err mica_rd_u16(mica_rd *r, uint16_t *v)
{
    uint64_t x;

    TRY(read_be(r, 2, &x));
    *v = (uint16_t)x;
    return MICA_OK;
}

mica_err mica_rd_u24(mica_rd *r, uint32_t *v)
{
    uint64_t x;

    TRY(read_be(r, 3, &x));
    *v = (uint32_t)x;
    return MICA_OK;
}

mica_err mica_rd_u32(mica_rd *r, uint32_t *v)
{
    uint64_t x;

    TRY(read_be(r, 4, &x));
    *v = (uint32_t)x;
    return MICA_OK;
}

mica_err mica_rd_u64(mica_rd *r, uint64_t *v)
{
    return read_be(r, 8, v);
}

mica_err mica_rd_bytes(mica_rd *r, size_t len, const uint8_t **out)
{
    return take(r, len, out);
}

mica_err mica_rd_copy(mica_rd *r, uint8_t *out, size_t len)
{
    const uint8_t *p;

    TRY(take(r, len, &p));
    for (size_t i = 0; i < len; i++) {
        out[i] = p[i];
    }
    return MICA_OK;
}

mica_err mica_rd_skip(mica_rd *r, size_t len)
{
    const uint8_t *p;

    return take(r, len, &p);
}

static mica_err read_vec(mica_rd *r, size_t width, mica_rd *sub, size_t min, size_t max)
{
    mica_rd save = *r;
    uint64_t len;
    const uint8_t *body;

    TRY(read_be(r, width, &len));
    if (len < min || len > max || len > r->n) {
        *r = save; /* a failed read leaves the reader untouched */
        return MICA_E_DECODE;
    }
    TRY(take(r, (size_t)len, &body));
    sub->p = body;
    sub->n = (size_t)len;
    return MICA_OK;
}

mica_err mica_rd_vec8(mica_rd *r, mica_rd *sub, size_t min, size_t max)
{
    return read_vec(r, 1, sub, min, max);
}

mica_err mica_rd_vec16(mica_rd *r, mica_rd *sub, size_t min, size_t max)
{
    return read_vec(r, 2, sub, min, max);
}

mica_err mica_rd_vec24(mica_rd *r, mica_rd *sub, size_t min, size_t max)
{
    return read_vec(r, 3, sub, min, max);
}

mica_err mica_rd_end(const mica_rd *r)
{
    ENSURE(r->n == 0, MICA_E_DECODE);
    return MICA_OK;
}
