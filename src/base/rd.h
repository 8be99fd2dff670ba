/*
 * The bounds-checked reader (STYLE.md 2.4). A mica_rd is the unread part of a buffer.
 * Every read checks the remaining length first; a failed read returns MICA_E_DECODE and
 * leaves both the reader and the output untouched. Vector bounds from the RFC become
 * arguments, so a decoder reads like the RFC struct:
 *
 *     opaque legacy_session_id<0..32>;   ->   TRY(mica_rd_vec8(&r, &sid, 0, 32));
 *
 * A sub-reader returned by mica_rd_vec* must be consumed completely: finish it with
 * mica_rd_end(). This is the only code, with wr.c, that does pointer arithmetic on wire
 * data.
 */
#ifndef MICA_BASE_RD_H
#define MICA_BASE_RD_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

typedef struct mica_rd {
    const uint8_t *p; /* the unread bytes */
    size_t n;         /* how many remain */
} mica_rd;

/* mica_rd_init: a reader over buf[0..len). buf is borrowed for the reader's life. */
mica_rd mica_rd_init(const uint8_t *buf, size_t len);

/* Fixed-width big-endian integers. MICA_E_DECODE if too few bytes remain. */
MICA_MUST mica_err mica_rd_u8(mica_rd *r, uint8_t *v);
MICA_MUST mica_err mica_rd_u16(mica_rd *r, uint16_t *v);
MICA_MUST mica_err mica_rd_u24(mica_rd *r, uint32_t *v);
MICA_MUST mica_err mica_rd_u32(mica_rd *r, uint32_t *v);
MICA_MUST mica_err mica_rd_u64(mica_rd *r, uint64_t *v);

/* mica_rd_bytes: borrow the next len bytes (*out points into the buffer; no copy). */
MICA_MUST mica_err mica_rd_bytes(mica_rd *r, size_t len, const uint8_t **out);

/* mica_rd_copy: copy the next len bytes into out[0..len). */
MICA_MUST mica_err mica_rd_copy(mica_rd *r, uint8_t *out, size_t len);

/* mica_rd_skip: discard the next len bytes. */
MICA_MUST mica_err mica_rd_skip(mica_rd *r, size_t len);

/*
 * mica_rd_vec8/16/24: read a length prefix of 1, 2 or 3 bytes and the body it announces,
 * as the sub-reader *sub. MICA_E_DECODE when the length is outside [min, max] or more
 * than what remains. Example (RFC 8446 4.1.2):
 *
 *     mica_rd suites;
 *     TRY(mica_rd_vec16(&r, &suites, 2, 65534));
 */
MICA_MUST mica_err mica_rd_vec8(mica_rd *r, mica_rd *sub, size_t min, size_t max);
MICA_MUST mica_err mica_rd_vec16(mica_rd *r, mica_rd *sub, size_t min, size_t max);
MICA_MUST mica_err mica_rd_vec24(mica_rd *r, mica_rd *sub, size_t min, size_t max);

/* mica_rd_end: MICA_OK when every byte was consumed, else MICA_E_DECODE. */
MICA_MUST mica_err mica_rd_end(const mica_rd *r);

#endif /* MICA_BASE_RD_H */
