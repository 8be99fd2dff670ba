/*
 * Shared checks for the message decoder fuzz targets (tests/fuzz/fuzz_<message>.c).
 *
 * Each target calls one decoder of src/tls/msg.h. Whatever the input, the decoder must
 * return one of the codes msg.h documents; when it succeeds, every list in the result is
 * walked with the msg.h iterators to its last byte (so ASan sees every borrowed byte),
 * every borrowed view must lie inside the input, and decoding again must give the same
 * struct (decoders are pure).
 */
#ifndef MICA_FUZZ_MSG_H
#define MICA_FUZZ_MSG_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tls/msg.h"
#include "fuzz_assert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_sink: every byte walked is folded in here, so the reads cannot be optimized away */
static volatile uint8_t fuzz_sink;

/* fuzz_touch: read every byte of r through the reader */
static inline void fuzz_touch(mica_rd r)
{
    uint8_t b;

    while (r.n > 0) {
        FUZZ_ASSERT(mica_rd_u8(&r, &b) == MICA_OK);
        fuzz_sink = (uint8_t)(fuzz_sink ^ b);
    }
}

/* fuzz_inside: r is empty or lies within data[0..size) */
static inline void fuzz_inside(mica_rd r, const uint8_t *data, size_t size)
{
    uintptr_t lo = (uintptr_t)data;
    uintptr_t p = (uintptr_t)r.p;

    if (r.n == 0) {
        return;
    }
    FUZZ_ASSERT(p >= lo && p - lo <= size && r.n <= size - (p - lo));
    fuzz_touch(r);
}

/* fuzz_u16_list: a u16 list walks to its end in whole values */
static inline size_t fuzz_u16_list(mica_rd r, const uint8_t *data, size_t size)
{
    size_t n = 0;
    uint16_t v;

    fuzz_inside(r, data, size);
    while (r.n > 0) {
        FUZZ_ASSERT(mica_rd_u16(&r, &v) == MICA_OK);
        n++;
    }
    return n;
}

/* fuzz_expected: the codes every decoder may return for hostile bytes */
static inline int fuzz_expected(mica_err err)
{
    return err == MICA_OK || err == MICA_E_DECODE || err == MICA_E_ILLEGAL_PARAMETER;
}

#endif /* MICA_FUZZ_MSG_H */
