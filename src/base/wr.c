#include "base/wr.h"

#include <string.h>

/* A mark stores the block's offset shifted left by two and its prefix width (1..3) in
 * the low two bits; 0 is never a valid mark. */
#define MARK_SHIFT 2u
#define MARK_WIDTH_MASK 3u

mica_wr mica_wr_init(uint8_t *buf, size_t cap)
{
    mica_wr w;

    w.buf = buf;
    w.cap = buf != NULL ? cap : 0;
    w.len = 0;
    w.overflow = false;
    w.depth = 0;
    memset(w.open, 0, sizeof(w.open));
    return w;
}

uint8_t *mica_wr_reserve(mica_wr *w, size_t len)
{
    uint8_t *p;

    if (w->overflow || len > w->cap - w->len) {
        w->overflow = true;
        return NULL;
    }
    if (w->buf == NULL) {
        return NULL; /* only len == 0 gets here: nothing to point at, nothing overflowed */
    }
    p = w->buf + w->len;
    w->len += len;
    return p;
}

static void put_be(uint8_t *p, size_t width, uint64_t v)
{
    for (size_t i = width; i > 0; i--) {
        p[i - 1] = (uint8_t)(v & 0xffu);
        v >>= 8;
    }
}

static void write_be(mica_wr *w, size_t width, uint64_t v)
{
    uint8_t *p = mica_wr_reserve(w, width);

    if (p != NULL) {
        put_be(p, width, v);
    }
}

void mica_wr_u8(mica_wr *w, uint8_t v)
{
    write_be(w, 1, v);
}

void mica_wr_u16(mica_wr *w, uint16_t v)
{
    write_be(w, 2, v);
}

void mica_wr_u24(mica_wr *w, uint32_t v)
{
    if (v > 0xffffffu) {
        w->overflow = true;
        return;
    }
    write_be(w, 3, v);
}

void mica_wr_u32(mica_wr *w, uint32_t v)
{
    write_be(w, 4, v);
}

void mica_wr_u64(mica_wr *w, uint64_t v)
{
    write_be(w, 8, v);
}

void mica_wr_bytes(mica_wr *w, const uint8_t *p, size_t len)
{
    uint8_t *dst = mica_wr_reserve(w, len);

    if (dst != NULL && len > 0) {
        memmove(dst, p, len);
    }
}

void mica_wr_zeros(mica_wr *w, size_t len)
{
    uint8_t *dst = mica_wr_reserve(w, len);

    if (dst != NULL && len > 0) {
        memset(dst, 0, len);
    }
}

static void open_block(mica_wr *w, size_t width, size_t *mark)
{
    size_t at = w->len;

    *mark = 0;
    if (w->depth >= MICA_WR_MAX_DEPTH) {
        w->overflow = true;
        return;
    }
    if (mica_wr_reserve(w, width) == NULL) {
        return;
    }
    *mark = (at << MARK_SHIFT) | width;
    w->open[w->depth++] = *mark;
}

void mica_wr_open8(mica_wr *w, size_t *mark)
{
    open_block(w, 1, mark);
}

void mica_wr_open16(mica_wr *w, size_t *mark)
{
    open_block(w, 2, mark);
}

void mica_wr_open24(mica_wr *w, size_t *mark)
{
    open_block(w, 3, mark);
}

void mica_wr_close(mica_wr *w, size_t mark)
{
    size_t width = mark & MARK_WIDTH_MASK;
    size_t at = mark >> MARK_SHIFT;
    size_t body;

    if (w->overflow) {
        return;
    }
    if (width < 1 || width > 3 || w->depth == 0 || w->open[w->depth - 1] != mark ||
        at + width > w->len) {
        w->overflow = true; /* a close without its open, or out of order */
        return;
    }
    body = w->len - at - width;
    if (body >= ((size_t)1 << (8 * width))) {
        w->overflow = true;
        return;
    }
    put_be(w->buf + at, width, body);
    w->depth--;
}

bool mica_wr_ok(const mica_wr *w)
{
    return !w->overflow;
}

mica_err mica_wr_finish(const mica_wr *w, size_t *len)
{
    ENSURE(!w->overflow && w->depth == 0, MICA_E_INTERNAL);
    *len = w->len;
    return MICA_OK;
}
