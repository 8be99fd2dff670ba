/*
 * The bounds-checked writer (STYLE.md 2.4). A mica_wr fills a fixed-capacity slice of a
 * caller's buffer (for example the outgoing record buffer, so messages are built in
 * place). Overflow is sticky: once a write does not fit, every later write is ignored
 * and mica_wr_finish() reports MICA_E_INTERNAL -- a writer failure is always our own bug,
 * so call sites need not check each write.
 *
 * Length prefixes are filled in afterwards:
 *
 *     mica_wr w = mica_wr_init(buf, cap);
 *     size_t mark;
 *     mica_wr_u16(&w, 0x0033);          // extension type
 *     mica_wr_open16(&w, &mark);        // extension_data<0..2^16-1>
 *     mica_wr_bytes(&w, share, share_len);
 *     mica_wr_close(&w, mark);
 *     TRY(mica_wr_finish(&w, &len));
 */
#ifndef MICA_BASE_WR_H
#define MICA_BASE_WR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define MICA_WR_MAX_DEPTH 8u /* nesting of open length prefixes */

typedef struct mica_wr {
    uint8_t *buf;
    size_t cap;
    size_t len;
    bool overflow;
    uint8_t depth;                  /* open blocks */
    size_t open[MICA_WR_MAX_DEPTH]; /* their marks, innermost last */
} mica_wr;

/* mica_wr_init: a writer over buf[0..cap). buf is borrowed for the writer's life. */
mica_wr mica_wr_init(uint8_t *buf, size_t cap);

void mica_wr_u8(mica_wr *w, uint8_t v);
void mica_wr_u16(mica_wr *w, uint16_t v);
void mica_wr_u24(mica_wr *w, uint32_t v);
void mica_wr_u32(mica_wr *w, uint32_t v);
void mica_wr_u64(mica_wr *w, uint64_t v);
void mica_wr_bytes(mica_wr *w, const uint8_t *p, size_t len);
void mica_wr_zeros(mica_wr *w, size_t len);

/*
 * mica_wr_reserve: make room for len bytes and return where they start, for callers
 * that produce bytes in place (a signature, a key share). NULL on overflow; the
 * writer is then in the overflow state.
 */
uint8_t *mica_wr_reserve(mica_wr *w, size_t len);

/*
 * mica_wr_open8/16/24: start a block with a 1-, 2- or 3-byte length prefix. *mark
 * remembers where. mica_wr_close fills in the length of everything written since; a
 * body too long for its prefix, or a close that is not of the innermost open block,
 * sets the overflow state.
 */
void mica_wr_open8(mica_wr *w, size_t *mark);
void mica_wr_open16(mica_wr *w, size_t *mark);
void mica_wr_open24(mica_wr *w, size_t *mark);
void mica_wr_close(mica_wr *w, size_t mark);

/* mica_wr_ok: true while nothing has overflowed. */
bool mica_wr_ok(const mica_wr *w);

/* mica_wr_finish: the written length, or MICA_E_INTERNAL on overflow or an open block. */
MICA_MUST mica_err mica_wr_finish(const mica_wr *w, size_t *len);

#endif /* MICA_BASE_WR_H */
