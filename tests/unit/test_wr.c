/*
 * The bounds-checked writer, exhaustively (STYLE.md 2.4): every write at every capacity
 * 0..need+1, the sticky overflow, length-prefixed blocks with their nesting limit and
 * prefix widths, reserve, and a writer -> reader round trip of a nested structure.
 * A canary after the capacity proves that no write goes past it.
 */
#include <stdlib.h>
#include <string.h>

#include "base/rd.h"
#include "base/wr.h"
#include "check.h"

#define CANARY 0xC3u
#define SLACK 16u /* canary bytes after every capacity */

static uint8_t src[64];

/* canary_ok: buf[from..to) all still hold the canary */
static bool canary_ok(const uint8_t *buf, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        if (buf[i] != CANARY) {
            return false;
        }
    }
    return true;
}

enum op { OP_U8, OP_U16, OP_U24, OP_U32, OP_U64, OP_BYTES, OP_ZEROS, OP_RESERVE, OP__COUNT };

static const char *const op_names[OP__COUNT] = {"u8",  "u16",   "u24",   "u32",
                                                "u64", "bytes", "zeros", "reserve"};

/* do_op: one write of kind op; k is the length for bytes/zeros/reserve. Returns the
 * number of bytes it needs and fills want[] with what it should write. */
static size_t do_op(mica_wr *w, enum op op, size_t k, uint8_t *want, uint8_t **reserved)
{
    static const uint8_t be[8] = {0x81, 0x72, 0x63, 0x54, 0x45, 0x36, 0x27, 0x18};

    *reserved = NULL;
    switch (op) {
    case OP_U8:
        mica_wr_u8(w, 0x81);
        memcpy(want, be, 1);
        return 1;
    case OP_U16:
        mica_wr_u16(w, 0x8172);
        memcpy(want, be, 2);
        return 2;
    case OP_U24:
        mica_wr_u24(w, 0x817263);
        memcpy(want, be, 3);
        return 3;
    case OP_U32:
        mica_wr_u32(w, 0x81726354u);
        memcpy(want, be, 4);
        return 4;
    case OP_U64:
        mica_wr_u64(w, 0x8172635445362718u);
        memcpy(want, be, 8);
        return 8;
    case OP_BYTES:
        mica_wr_bytes(w, src, k);
        memcpy(want, src, k);
        return k;
    case OP_ZEROS:
        mica_wr_zeros(w, k);
        memset(want, 0, k);
        return k;
    case OP_RESERVE:
        *reserved = mica_wr_reserve(w, k);
        memset(want, CANARY, k); /* reserve hands out room; it writes nothing */
        return k;
    default: return 0;
    }
}

/*
 * Every op, every length k (for the sized ops), after a prefix of pre bytes already
 * written, at every capacity 0..pre+need+1: it fits exactly when pre + need <= cap.
 */
static void test_every_capacity(void)
{
    uint8_t buf[64 + SLACK];
    uint8_t want[64];

    for (int op = 0; op < OP__COUNT; op++) {
        size_t kmax = op >= OP_BYTES ? 20 : 0;
        for (size_t k = 0; k <= kmax; k++) {
            for (size_t pre = 0; pre <= 3; pre++) {
                size_t need = (op >= OP_BYTES) ? k : 0;
                for (size_t cap = 0; cap <= pre + 8 + k + 1 && cap <= 64; cap++) {
                    mica_wr w;
                    uint8_t *res;
                    size_t len = 999;
                    bool fits;

                    memset(buf, CANARY, sizeof(buf));
                    w = mica_wr_init(buf, cap);
                    if (pre > 0) {
                        mica_wr_zeros(&w, pre);
                    }
                    need = do_op(&w, (enum op)op, k, want, &res);
                    fits = pre + need <= cap;
                    CHECK_MSG(mica_wr_ok(&w) == fits, "%s(%zu) after %zu at cap %zu: ok=%d",
                              op_names[op], k, pre, cap, mica_wr_ok(&w));
                    CHECK(canary_ok(buf, cap, sizeof(buf)));
                    if (fits) {
                        CHECK(w.len == pre + need);
                        CHECK_OK(mica_wr_finish(&w, &len));
                        CHECK(len == pre + need);
                        CHECK_MEM(op_names[op], buf + pre, want, need);
                        CHECK(canary_ok(buf, pre + need, sizeof(buf)));
                        if (op == OP_RESERVE) {
                            CHECK(res == buf + pre);
                        }
                    } else {
                        /* nothing of a write that does not fit is written */
                        if (pre <= cap) {
                            CHECK_MSG(canary_ok(buf, pre, sizeof(buf)),
                                      "%s(%zu) at cap %zu: partial write", op_names[op], k, cap);
                        }
                        CHECK_ERR(mica_wr_finish(&w, &len), MICA_E_INTERNAL);
                        CHECK(len == 999);
                        CHECK(res == NULL);
                    }
                }
            }
        }
    }
}

/* Overflow is sticky: after one write does not fit, even writes that would fit are
 * ignored, reserve gives NULL, blocks do not open, and finish fails. */
static void test_sticky_overflow(void)
{
    uint8_t buf[8 + SLACK];
    mica_wr w;
    size_t len = 7, mark = 1;

    memset(buf, CANARY, sizeof(buf));
    w = mica_wr_init(buf, 8);
    mica_wr_u32(&w, 0x01020304u);
    CHECK(mica_wr_ok(&w));
    mica_wr_u64(&w, 1); /* 4 + 8 > 8 */
    CHECK(!mica_wr_ok(&w));
    CHECK(w.len == 4);
    mica_wr_u8(&w, 0xee); /* would fit, but the writer has failed */
    mica_wr_u16(&w, 0xeeee);
    mica_wr_u24(&w, 0xeeeeee);
    mica_wr_u32(&w, 0xeeeeeeeeu);
    mica_wr_bytes(&w, src, 1);
    mica_wr_zeros(&w, 1);
    CHECK(mica_wr_reserve(&w, 0) == NULL);
    CHECK(mica_wr_reserve(&w, 1) == NULL);
    mica_wr_open8(&w, &mark);
    mica_wr_close(&w, mark);
    CHECK(w.len == 4);
    CHECK(!mica_wr_ok(&w));
    CHECK(canary_ok(buf, 4, sizeof(buf)));
    CHECK_ERR(mica_wr_finish(&w, &len), MICA_E_INTERNAL);
    CHECK(len == 7);

    /* mica_wr_u24 of a value that does not fit in 24 bits is an overflow too */
    memset(buf, CANARY, sizeof(buf));
    w = mica_wr_init(buf, 8);
    mica_wr_u24(&w, 0xffffff);
    CHECK(mica_wr_ok(&w) && w.len == 3);
    mica_wr_u24(&w, 0x1000000);
    CHECK(!mica_wr_ok(&w));
    CHECK(w.len == 3);
    CHECK(canary_ok(buf, 3, sizeof(buf)));
    CHECK_ERR(mica_wr_finish(&w, &len), MICA_E_INTERNAL);
}

/* A huge request does not wrap the capacity arithmetic. */
static void test_huge_request(void)
{
    uint8_t buf[4 + SLACK];
    mica_wr w;

    memset(buf, CANARY, sizeof(buf));
    w = mica_wr_init(buf, 4);
    mica_wr_u16(&w, 1);
    CHECK(mica_wr_reserve(&w, SIZE_MAX) == NULL);
    CHECK(!mica_wr_ok(&w));
    w = mica_wr_init(buf, 4);
    mica_wr_u8(&w, 1);
    CHECK(mica_wr_reserve(&w, SIZE_MAX - 1) == NULL); /* 1 + (SIZE_MAX - 1) would wrap */
    memset(buf, CANARY, sizeof(buf));
    w = mica_wr_init(buf, 4);
    mica_wr_zeros(&w, SIZE_MAX);
    CHECK(!mica_wr_ok(&w));
    CHECK(canary_ok(buf, 0, sizeof(buf)));
}

/* reserve: room at the current end, exactly as many bytes as asked; reserve(0) is fine */
static void test_reserve(void)
{
    uint8_t buf[10];
    mica_wr w = mica_wr_init(buf, sizeof(buf));
    uint8_t *p, *q;
    size_t len = 0;

    mica_wr_u16(&w, 0x0102);
    p = mica_wr_reserve(&w, 0);
    CHECK(p == buf + 2 && w.len == 2);
    p = mica_wr_reserve(&w, 5);
    CHECK(p == buf + 2 && w.len == 7);
    memset(p, 0x77, 5);
    q = mica_wr_reserve(&w, 3);
    CHECK(q == buf + 7 && w.len == 10);
    memset(q, 0x66, 3);
    CHECK(mica_wr_reserve(&w, 0) == buf + 10);
    CHECK(mica_wr_ok(&w));
    CHECK(mica_wr_reserve(&w, 1) == NULL);
    CHECK(!mica_wr_ok(&w));
    CHECK_ERR(mica_wr_finish(&w, &len), MICA_E_INTERNAL);
    CHECK(buf[0] == 1 && buf[1] == 2 && buf[2] == 0x77 && buf[6] == 0x77 && buf[9] == 0x66);
}

typedef void (*open_fn)(mica_wr *w, size_t *mark);

static open_fn opener(size_t width)
{
    switch (width) {
    case 1: return mica_wr_open8;
    case 2: return mica_wr_open16;
    default: return mica_wr_open24;
    }
}

/*
 * A block of body bytes under a width-byte prefix: fits exactly when
 * body < 2^(8*width) (and the buffer is big enough); the prefix is big-endian.
 */
static void block_case(uint8_t *buf, size_t cap, size_t width, size_t body)
{
    mica_wr w = mica_wr_init(buf, cap);
    size_t mark = 0, len = 0;
    bool fits = body < ((size_t)1 << (8 * width)) && width + body <= cap;

    opener(width)(&w, &mark);
    mica_wr_zeros(&w, body);
    mica_wr_close(&w, mark);
    CHECK_MSG(mica_wr_ok(&w) == fits, "open%zu body %zu cap %zu: ok=%d", width * 8, body, cap,
              mica_wr_ok(&w));
    CHECK_ERR(mica_wr_finish(&w, &len), fits ? MICA_OK : MICA_E_INTERNAL);
    if (fits) {
        size_t got = 0;
        for (size_t i = 0; i < width; i++) {
            got = (got << 8) | buf[i];
        }
        CHECK_MSG(got == body, "open%zu: prefix says %zu, body is %zu", width * 8, got, body);
        CHECK(len == width + body);
    }
}

static void test_block_lengths(void)
{
    size_t big = 3 + ((size_t)1 << 24) + 1;
    uint8_t *buf = malloc(big);

    if (buf == NULL) {
        CHECK_MSG(0, "out of memory");
        return;
    }
    for (size_t width = 1; width <= 3; width++) {
        size_t most = ((size_t)1 << (8 * width)) - 1;
        /* small bodies */
        for (size_t body = 0; body <= 20; body++) {
            block_case(buf, big, width, body);
        }
        /* around the largest body the prefix can hold: most - 1, most, most + 1 */
        block_case(buf, big, width, most - 1);
        block_case(buf, big, width, most);
        block_case(buf, big, width, most + 1);
        /* the prefix itself does not fit: capacity 0..width - 1, and exactly width */
        for (size_t cap = 0; cap <= width + 1; cap++) {
            block_case(buf, cap, width, 0);
            block_case(buf, cap, width, 1);
        }
    }
    /* 256 bytes under an 8-bit prefix is the STYLE.md example of an overflow */
    {
        mica_wr w = mica_wr_init(buf, big);
        size_t mark, len = 5;

        mica_wr_open8(&w, &mark);
        mica_wr_zeros(&w, 256);
        mica_wr_close(&w, mark);
        CHECK(!mica_wr_ok(&w));
        CHECK_ERR(mica_wr_finish(&w, &len), MICA_E_INTERNAL);
        CHECK(len == 5);
    }
    free(buf);
}

/* Nesting: MICA_WR_MAX_DEPTH blocks may be open at once, not one more. */
static void test_depth_limit(void)
{
    uint8_t buf[64];
    size_t marks[MICA_WR_MAX_DEPTH + 1];
    size_t len = 0;

    for (size_t depth = 1; depth <= MICA_WR_MAX_DEPTH + 1; depth++) {
        mica_wr w = mica_wr_init(buf, sizeof(buf));
        bool fits = depth <= MICA_WR_MAX_DEPTH;

        for (size_t i = 0; i < depth; i++) {
            mica_wr_open8(&w, &marks[i]);
            mica_wr_u8(&w, (uint8_t)i);
        }
        for (size_t i = depth; i > 0; i--) {
            mica_wr_close(&w, marks[i - 1]);
        }
        CHECK_MSG(mica_wr_ok(&w) == fits, "depth %zu: ok=%d", depth, mica_wr_ok(&w));
        CHECK_ERR(mica_wr_finish(&w, &len), fits ? MICA_OK : MICA_E_INTERNAL);
        if (fits) {
            /* each prefix covers its own byte and every deeper block */
            for (size_t i = 0; i < depth; i++) {
                CHECK(buf[2 * i] == (uint8_t)(2 * (depth - i) - 1));
                CHECK(buf[2 * i + 1] == (uint8_t)i);
            }
            CHECK(len == 2 * depth);
        }
    }
    /* depth comes back down: after closing, as many blocks may open again */
    {
        mica_wr w = mica_wr_init(buf, sizeof(buf));
        size_t m;

        for (int round = 0; round < 3; round++) {
            for (size_t i = 0; i < MICA_WR_MAX_DEPTH; i++) {
                mica_wr_open8(&w, &marks[i]);
            }
            for (size_t i = MICA_WR_MAX_DEPTH; i > 0; i--) {
                mica_wr_close(&w, marks[i - 1]);
            }
        }
        mica_wr_open8(&w, &m);
        mica_wr_close(&w, m);
        CHECK(mica_wr_ok(&w));
        CHECK_OK(mica_wr_finish(&w, &len));
        CHECK(len == 3 * MICA_WR_MAX_DEPTH + 1);
    }
}

/* Misuse is our own bug, so it must show at finish: close without open, a second
 * close, a made-up mark, and a block left open. */
static void test_block_misuse(void)
{
    uint8_t buf[32];
    size_t mark, len = 3;
    mica_wr w;

    /* close without open */
    w = mica_wr_init(buf, sizeof(buf));
    mica_wr_u8(&w, 1);
    mica_wr_close(&w, 0);
    CHECK(!mica_wr_ok(&w));
    CHECK_ERR(mica_wr_finish(&w, &len), MICA_E_INTERNAL);
    CHECK(len == 3);

    /* the same block closed twice */
    w = mica_wr_init(buf, sizeof(buf));
    mica_wr_open16(&w, &mark);
    mica_wr_u8(&w, 1);
    mica_wr_close(&w, mark);
    CHECK(mica_wr_ok(&w));
    mica_wr_close(&w, mark);
    CHECK(!mica_wr_ok(&w));
    CHECK_ERR(mica_wr_finish(&w, &len), MICA_E_INTERNAL);

    /* a mark that points past what was written */
    w = mica_wr_init(buf, sizeof(buf));
    mica_wr_open8(&w, &mark);
    mica_wr_close(&w, mark + 20);
    CHECK(!mica_wr_ok(&w));
    CHECK_ERR(mica_wr_finish(&w, &len), MICA_E_INTERNAL);

    /* blocks close innermost first: closing the outer one while the inner is open is a
     * misuse (wr.h), and so is closing the inner one after it */
    {
        size_t outer, inner;

        w = mica_wr_init(buf, sizeof(buf));
        mica_wr_open16(&w, &outer);
        mica_wr_open8(&w, &inner);
        mica_wr_u8(&w, 7);
        mica_wr_close(&w, outer);
        CHECK(!mica_wr_ok(&w));
        mica_wr_close(&w, inner);
        CHECK_ERR(mica_wr_finish(&w, &len), MICA_E_INTERNAL);

        /* the same marks in the right order are fine */
        w = mica_wr_init(buf, sizeof(buf));
        mica_wr_open16(&w, &outer);
        mica_wr_open8(&w, &inner);
        mica_wr_u8(&w, 7);
        mica_wr_close(&w, inner);
        mica_wr_close(&w, outer);
        CHECK_OK(mica_wr_finish(&w, &len));
        CHECK(len == 4 && buf[0] == 0 && buf[1] == 2 && buf[2] == 1 && buf[3] == 7);

        /* a mark from another writer (same offset, other width) is not this block's */
        w = mica_wr_init(buf, sizeof(buf));
        mica_wr_open16(&w, &outer);
        {
            uint8_t other_buf[8];
            mica_wr other = mica_wr_init(other_buf, sizeof(other_buf));
            mica_wr_open8(&other, &inner);
        }
        mica_wr_close(&w, inner);
        CHECK(!mica_wr_ok(&w));
    }

    /* an unclosed block: finish fails; closing it makes finish succeed */
    w = mica_wr_init(buf, sizeof(buf));
    mica_wr_open24(&w, &mark);
    mica_wr_u16(&w, 0xabcd);
    CHECK(mica_wr_ok(&w));
    len = 3;
    CHECK_ERR(mica_wr_finish(&w, &len), MICA_E_INTERNAL);
    CHECK(len == 3);
    mica_wr_close(&w, mark);
    CHECK_OK(mica_wr_finish(&w, &len));
    CHECK(len == 5 && buf[0] == 0 && buf[1] == 0 && buf[2] == 2);

    /* an open that did not fit leaves nothing to close; the close is ignored */
    w = mica_wr_init(buf, 1);
    mica_wr_open16(&w, &mark);
    CHECK(!mica_wr_ok(&w));
    mica_wr_close(&w, mark);
    CHECK_ERR(mica_wr_finish(&w, &len), MICA_E_INTERNAL);
}

/* A NULL buffer gives a writer of capacity 0 whatever capacity is claimed. Writing
 * nothing is fine; writing anything overflows. */
static void test_null_buffer(void)
{
    mica_wr w = mica_wr_init(NULL, 100);
    size_t len = 9;

    CHECK(w.cap == 0);
    mica_wr_bytes(&w, src, 0);
    mica_wr_zeros(&w, 0);
    CHECK(mica_wr_ok(&w));
    CHECK_OK(mica_wr_finish(&w, &len));
    CHECK(len == 0);
    mica_wr_u8(&w, 1);
    CHECK(!mica_wr_ok(&w));
    CHECK_ERR(mica_wr_finish(&w, &len), MICA_E_INTERNAL);
}

/*
 * Round trip: a ClientHello-shaped structure with nested blocks of all three widths is
 * written, then read back with the reader, field for field, every sub-reader ended.
 */
static void test_round_trip(void)
{
    static const uint16_t suites[] = {0x1301, 0x1302, 0x1303};
    static const uint16_t groups[] = {0x001d, 0x0017};
    uint8_t buf[512];
    uint8_t random[32];
    mica_wr w = mica_wr_init(buf, sizeof(buf));
    size_t m_msg, m_sid, m_suites, m_comp, m_exts, m_ext, m_list, len = 0;
    mica_rd r, body, sid, rs, comp, exts, ext, list;
    uint8_t t = 0, c = 0;
    uint16_t v16 = 0;
    uint32_t v24 = 0;
    uint64_t v64 = 0;
    const uint8_t *rnd = NULL;

    for (size_t i = 0; i < sizeof(random); i++) {
        random[i] = (uint8_t)(0xf0 ^ i);
    }
    mica_wr_u8(&w, 1); /* msg_type client_hello */
    mica_wr_open24(&w, &m_msg);
    mica_wr_u16(&w, 0x0303);
    mica_wr_bytes(&w, random, sizeof(random));
    mica_wr_open8(&w, &m_sid);
    mica_wr_bytes(&w, src, 32);
    mica_wr_close(&w, m_sid);
    mica_wr_open16(&w, &m_suites);
    for (size_t i = 0; i < MICA_ARRAY_LEN(suites); i++) {
        mica_wr_u16(&w, suites[i]);
    }
    mica_wr_close(&w, m_suites);
    mica_wr_open8(&w, &m_comp);
    mica_wr_u8(&w, 0);
    mica_wr_close(&w, m_comp);
    mica_wr_open16(&w, &m_exts);
    mica_wr_u16(&w, 0x000a); /* supported_groups */
    mica_wr_open16(&w, &m_ext);
    mica_wr_open16(&w, &m_list);
    for (size_t i = 0; i < MICA_ARRAY_LEN(groups); i++) {
        mica_wr_u16(&w, groups[i]);
    }
    mica_wr_close(&w, m_list);
    mica_wr_close(&w, m_ext);
    mica_wr_u16(&w, 0xfffe); /* an empty extension */
    mica_wr_open16(&w, &m_ext);
    mica_wr_close(&w, m_ext);
    mica_wr_close(&w, m_exts);
    mica_wr_u64(&w, 0x0102030405060708u);
    mica_wr_close(&w, m_msg);
    CHECK_OK(mica_wr_finish(&w, &len));
    CHECK(len == 1 + 3 + 2 + 32 + 33 + 8 + 2 + 2 + (2 + 2 + 2 + 4) + (2 + 2) + 8);

    r = mica_rd_init(buf, len);
    CHECK_OK(mica_rd_u8(&r, &t));
    CHECK(t == 1);
    CHECK_OK(mica_rd_u24(&r, &v24));
    CHECK(v24 == len - 4);
    r = mica_rd_init(buf + 1, len - 1); /* the same bytes again, as a vector */
    CHECK_OK(mica_rd_vec24(&r, &body, 0, 0xffffff));
    CHECK_OK(mica_rd_end(&r));
    CHECK_OK(mica_rd_u16(&body, &v16));
    CHECK(v16 == 0x0303);
    CHECK_OK(mica_rd_bytes(&body, 32, &rnd));
    CHECK_MEM("random", rnd, random, 32);
    CHECK_OK(mica_rd_vec8(&body, &sid, 0, 32));
    CHECK(sid.n == 32);
    CHECK_MEM("session id", sid.p, src, 32);
    CHECK_OK(mica_rd_vec16(&body, &rs, 2, 65534));
    for (size_t i = 0; i < MICA_ARRAY_LEN(suites); i++) {
        CHECK_OK(mica_rd_u16(&rs, &v16));
        CHECK(v16 == suites[i]);
    }
    CHECK_OK(mica_rd_end(&rs));
    CHECK_OK(mica_rd_vec8(&body, &comp, 1, 255));
    CHECK_OK(mica_rd_u8(&comp, &c));
    CHECK(c == 0);
    CHECK_OK(mica_rd_end(&comp));
    CHECK_OK(mica_rd_vec16(&body, &exts, 0, 65535));
    CHECK_OK(mica_rd_u16(&exts, &v16));
    CHECK(v16 == 0x000a);
    CHECK_OK(mica_rd_vec16(&exts, &ext, 0, 65535));
    CHECK_OK(mica_rd_vec16(&ext, &list, 2, 65534));
    for (size_t i = 0; i < MICA_ARRAY_LEN(groups); i++) {
        CHECK_OK(mica_rd_u16(&list, &v16));
        CHECK(v16 == groups[i]);
    }
    CHECK_OK(mica_rd_end(&list));
    CHECK_OK(mica_rd_end(&ext));
    CHECK_OK(mica_rd_u16(&exts, &v16));
    CHECK(v16 == 0xfffe);
    CHECK_OK(mica_rd_vec16(&exts, &ext, 0, 0));
    CHECK_OK(mica_rd_end(&ext));
    CHECK_OK(mica_rd_end(&exts));
    CHECK_OK(mica_rd_u64(&body, &v64));
    CHECK(v64 == 0x0102030405060708u);
    CHECK_OK(mica_rd_end(&body));
}

/* bytes may come from the writer's own buffer (memmove semantics) */
static void test_overlapping_bytes(void)
{
    uint8_t buf[16];
    mica_wr w = mica_wr_init(buf, sizeof(buf));
    size_t len = 0;

    mica_wr_u32(&w, 0x01020304u);
    mica_wr_bytes(&w, buf, 4);
    mica_wr_bytes(&w, buf + 2, 6);
    CHECK_OK(mica_wr_finish(&w, &len));
    CHECK(len == 14);
    {
        static const uint8_t want[] = {1, 2, 3, 4, 1, 2, 3, 4, 3, 4, 1, 2, 3, 4};
        CHECK_MEM("overlap", buf, want, sizeof(want));
    }
}

int main(void)
{
    for (size_t i = 0; i < sizeof(src); i++) {
        src[i] = (uint8_t)(i * 29u + 3u);
    }
    test_every_capacity();
    test_sticky_overflow();
    test_huge_request();
    test_reserve();
    test_block_lengths();
    test_depth_limit();
    test_block_misuse();
    test_round_trip();
    test_overlapping_bytes();
    test_null_buffer(); /* last: UBSan stops the program at the first finding */
    return check_exit("test_wr");
}
