/*
 * The bounds-checked reader, exhaustively (STYLE.md 2.4): rd.c is one of the two places
 * that do pointer arithmetic on wire data, so every read is tried at every length around
 * its boundary. For each failure we also check the promise of rd.h: the reader and the
 * output are left exactly as they were.
 */
#include <stdlib.h>
#include <string.h>

#include "base/rd.h"
#include "check.h"

#define N 24u             /* buffer lengths 0..N are tried for every fixed-width read */
#define SENTINEL 0xA5u    /* what an untouched output byte holds */
#define MAX_LEN 0xffffffu /* largest vec24 body */

static uint8_t pat[N + 8];

static void fill_pattern(void)
{
    for (size_t i = 0; i < sizeof(pat); i++) {
        pat[i] = (uint8_t)(i * 37u + 11u);
    }
}

/* be: the big-endian value of p[0..w) -- the model the reader must agree with. */
static uint64_t be(const uint8_t *p, size_t w)
{
    uint64_t x = 0;

    for (size_t i = 0; i < w; i++) {
        x = (x << 8) | p[i];
    }
    return x;
}

/* read_width: one fixed-width read through the public function for width w. */
static mica_err read_width(mica_rd *r, size_t w, uint64_t *out)
{
    mica_err err = MICA_E_INTERNAL;
    uint8_t v8 = SENTINEL;
    uint16_t v16 = 0xA5A5u;
    uint32_t v32 = 0xA5A5A5A5u;
    uint64_t v64 = 0xA5A5A5A5A5A5A5A5u;

    switch (w) {
    case 1:
        err = mica_rd_u8(r, &v8);
        *out = v8;
        break;
    case 2:
        err = mica_rd_u16(r, &v16);
        *out = v16;
        break;
    case 3:
        err = mica_rd_u24(r, &v32);
        *out = v32;
        break;
    case 4:
        err = mica_rd_u32(r, &v32);
        *out = v32;
        break;
    case 8:
        err = mica_rd_u64(r, &v64);
        *out = v64;
        break;
    default: break;
    }
    return err;
}

/* untouched value of read_width's output for width w */
static uint64_t sentinel_value(size_t w)
{
    switch (w) {
    case 1: return 0xA5u;
    case 2: return 0xA5A5u;
    case 3:
    case 4: return 0xA5A5A5A5u;
    default: return 0xA5A5A5A5A5A5A5A5u;
    }
}

/* Every width, every length 0..N, every starting offset: success exactly when w bytes
 * remain; the value is big-endian; a failure changes nothing. */
static void test_fixed_width(void)
{
    static const size_t widths[] = {1, 2, 3, 4, 8};

    for (size_t wi = 0; wi < MICA_ARRAY_LEN(widths); wi++) {
        size_t w = widths[wi];
        for (size_t len = 0; len <= N; len++) {
            for (size_t off = 0; off <= len; off++) {
                mica_rd r = mica_rd_init(pat, len);
                uint64_t v = 0;
                mica_err err;

                CHECK_OK(mica_rd_skip(&r, off));
                err = read_width(&r, w, &v);
                if (len - off >= w) {
                    CHECK_MSG(err == MICA_OK, "u%zu at %zu of %zu failed", w * 8, off, len);
                    CHECK_MSG(v == be(pat + off, w), "u%zu at %zu: wrong value", w * 8, off);
                    CHECK(r.p == pat + off + w);
                    CHECK(r.n == len - off - w);
                } else {
                    CHECK_MSG(err == MICA_E_DECODE, "u%zu at %zu of %zu: got %s", w * 8, off, len,
                              mica_err_name(err));
                    CHECK_MSG(v == sentinel_value(w), "u%zu: failed read wrote its output", w * 8);
                    CHECK(r.p == pat + off);
                    CHECK(r.n == len - off);
                }
            }
        }
    }
}

/* Reading a stream of values: exactly floor(len / w) reads succeed, in order. */
static void test_consecutive(void)
{
    static const size_t widths[] = {1, 2, 3, 4, 8};

    for (size_t wi = 0; wi < MICA_ARRAY_LEN(widths); wi++) {
        size_t w = widths[wi];
        for (size_t len = 0; len <= N; len++) {
            mica_rd r = mica_rd_init(pat, len);
            size_t ok_n = 0;
            uint64_t v;

            while (read_width(&r, w, &v) == MICA_OK) {
                CHECK(v == be(pat + ok_n * w, w));
                ok_n++;
                if (ok_n > len) {
                    break;
                }
            }
            CHECK_MSG(ok_n == len / w, "u%zu over %zu bytes: %zu reads", w * 8, len, ok_n);
            CHECK(r.n == len % w);
            CHECK(r.p == pat + (len / w) * w);
            CHECK_ERR(mica_rd_end(&r), r.n == 0 ? MICA_OK : MICA_E_DECODE);
        }
    }
}

/* Values with every byte set: no sign extension, no truncation. */
static void test_extreme_values(void)
{
    static const uint8_t ff[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t hi[8] = {0x80, 0, 0, 0, 0, 0, 0, 0x01};
    mica_rd r;
    uint8_t v8;
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;

    r = mica_rd_init(ff, 8);
    CHECK_OK(mica_rd_u8(&r, &v8));
    CHECK(v8 == 0xff);
    CHECK_OK(mica_rd_u16(&r, &v16));
    CHECK(v16 == 0xffff);
    CHECK_OK(mica_rd_u24(&r, &v32));
    CHECK(v32 == 0xffffff);
    r = mica_rd_init(ff, 8);
    CHECK_OK(mica_rd_u32(&r, &v32));
    CHECK(v32 == 0xffffffffu);
    r = mica_rd_init(ff, 8);
    CHECK_OK(mica_rd_u64(&r, &v64));
    CHECK(v64 == UINT64_MAX);
    r = mica_rd_init(hi, 8);
    CHECK_OK(mica_rd_u64(&r, &v64));
    CHECK(v64 == 0x8000000000000001u);
    r = mica_rd_init(hi, 8);
    CHECK_OK(mica_rd_u24(&r, &v32));
    CHECK(v32 == 0x800000u);
}

/* rd_bytes, rd_copy and rd_skip for every (length, request) pair up to N + 1. */
static void test_bytes_copy_skip(void)
{
    for (size_t len = 0; len <= N; len++) {
        for (size_t k = 0; k <= N + 1; k++) {
            bool fits = k <= len;
            mica_rd r = mica_rd_init(pat, len);
            const uint8_t *out = (const uint8_t *)&r; /* any non-NULL marker */
            const uint8_t *marker = out;
            uint8_t copy[N + 8];

            /* bytes: borrows, no copy */
            CHECK_ERR(mica_rd_bytes(&r, k, &out), fits ? MICA_OK : MICA_E_DECODE);
            if (fits) {
                CHECK(out == pat);
                CHECK(r.p == pat + k && r.n == len - k);
            } else {
                CHECK_MSG(out == marker, "failed rd_bytes(%zu of %zu) wrote *out", k, len);
                CHECK(r.p == pat && r.n == len);
            }

            /* copy: exactly k bytes land in out; nothing after them is written */
            r = mica_rd_init(pat, len);
            memset(copy, SENTINEL, sizeof(copy));
            CHECK_ERR(mica_rd_copy(&r, copy, k), fits ? MICA_OK : MICA_E_DECODE);
            for (size_t i = 0; i < sizeof(copy); i++) {
                uint8_t want = (fits && i < k) ? pat[i] : SENTINEL;
                CHECK_MSG(copy[i] == want, "rd_copy(%zu of %zu): byte %zu is %02x", k, len, i,
                          copy[i]);
            }
            CHECK(fits ? (r.p == pat + k && r.n == len - k) : (r.p == pat && r.n == len));

            /* skip */
            r = mica_rd_init(pat, len);
            CHECK_ERR(mica_rd_skip(&r, k), fits ? MICA_OK : MICA_E_DECODE);
            CHECK(fits ? (r.p == pat + k && r.n == len - k) : (r.p == pat && r.n == len));
        }
    }
    /* a request of SIZE_MAX bytes must not wrap any pointer arithmetic */
    {
        mica_rd r = mica_rd_init(pat, 4);
        const uint8_t *out = NULL;
        uint8_t one = SENTINEL;

        CHECK_ERR(mica_rd_bytes(&r, SIZE_MAX, &out), MICA_E_DECODE);
        CHECK(out == NULL);
        CHECK_ERR(mica_rd_skip(&r, SIZE_MAX), MICA_E_DECODE);
        CHECK_ERR(mica_rd_copy(&r, &one, SIZE_MAX), MICA_E_DECODE);
        CHECK(one == SENTINEL);
        CHECK(r.p == pat && r.n == 4);
    }
}

/* read_vec: dispatch to vec8/16/24 by prefix width */
static mica_err read_vec(mica_rd *r, size_t w, mica_rd *sub, size_t min, size_t max)
{
    switch (w) {
    case 1: return mica_rd_vec8(r, sub, min, max);
    case 2: return mica_rd_vec16(r, sub, min, max);
    default: return mica_rd_vec24(r, sub, min, max);
    }
}

static void put_prefix(uint8_t *p, size_t w, size_t len)
{
    for (size_t i = w; i > 0; i--) {
        p[i - 1] = (uint8_t)(len & 0xffu);
        len >>= 8;
    }
}

/*
 * One vector case: a w-byte prefix announcing L, then avail bytes of body (and perhaps
 * more after it), read with bounds [min, max]. The read succeeds exactly when
 * min <= L <= max and L <= avail.
 */
static void vec_case(uint8_t *buf, size_t w, size_t L, size_t avail, size_t extra, size_t min,
                     size_t max)
{
    size_t total = w + avail + extra;
    bool ok = min <= L && L <= max && L <= avail + extra;
    mica_rd r, sub, sub0;
    mica_err err;

    put_prefix(buf, w, L);
    r = mica_rd_init(buf, total);
    sub0.p = pat;
    sub0.n = 12345;
    sub = sub0;
    err = read_vec(&r, w, &sub, min, max);
    if (ok) {
        CHECK_MSG(err == MICA_OK, "vec%zu L=%zu avail=%zu [%zu..%zu]: got %s", w * 8, L,
                  avail + extra, min, max, mica_err_name(err));
        CHECK(sub.p == buf + w && sub.n == L);
        CHECK(r.p == buf + w + L && r.n == total - w - L);
    } else {
        CHECK_MSG(err == MICA_E_DECODE, "vec%zu L=%zu avail=%zu [%zu..%zu]: got %s", w * 8, L,
                  avail + extra, min, max, mica_err_name(err));
        CHECK_MSG(sub.p == sub0.p && sub.n == sub0.n, "vec%zu L=%zu: failed read wrote *sub", w * 8,
                  L);
        CHECK_MSG(r.p == buf && r.n == total, "vec%zu L=%zu: failed read moved the reader", w * 8,
                  L);
    }
}

/* bounds around L: min in {0, L-1, L, L+1}, max in {L-1, L, L+1, huge} */
static void vec_bounds(uint8_t *buf, size_t w, size_t L, size_t avail, size_t extra)
{
    size_t mins[4] = {0, L > 0 ? L - 1 : 0, L, L + 1};
    size_t maxs[4] = {L > 0 ? L - 1 : 0, L, L + 1, SIZE_MAX};

    for (size_t a = 0; a < 4; a++) {
        for (size_t b = 0; b < 4; b++) {
            vec_case(buf, w, L, avail, extra, mins[a], maxs[b]);
        }
    }
}

static void test_vec_small(void)
{
    uint8_t buf[3 + 64];

    for (size_t w = 1; w <= 3; w++) {
        for (size_t L = 0; L <= 20; L++) {
            /* body shorter than announced (prefix points past the end), exact, longer */
            for (size_t avail = 0; avail <= L + 2; avail++) {
                memset(buf, 0x5a, sizeof(buf));
                vec_bounds(buf, w, L, avail, 0);
            }
        }
    }
}

/* The largest length each prefix can announce, with the body exactly present, one byte
 * short, and the bound one below. */
static void test_vec_large(void)
{
    static const size_t lens[] = {0xff, 0x100, 0x1234, 0xffff, 0x10000, MAX_LEN};
    uint8_t *buf = calloc(1, 3 + MAX_LEN + 1);

    if (buf == NULL) {
        CHECK_MSG(0, "out of memory");
        return;
    }
    for (size_t w = 1; w <= 3; w++) {
        size_t most = ((size_t)1 << (8 * w)) - 1;
        for (size_t i = 0; i < MICA_ARRAY_LEN(lens); i++) {
            size_t L = lens[i];
            if (L > most) {
                continue;
            }
            vec_bounds(buf, w, L, L, 0);
            vec_bounds(buf, w, L, L - 1, 0);
            vec_bounds(buf, w, L, L, 1);
        }
    }
    free(buf);
}

/* The prefix itself cut short: 0..w-1 bytes. */
static void test_vec_truncated_prefix(void)
{
    static const uint8_t zeros[3] = {0, 0, 0};

    for (size_t w = 1; w <= 3; w++) {
        for (size_t len = 0; len < w; len++) {
            mica_rd r = mica_rd_init(zeros, len);
            mica_rd sub = {pat, 7};

            CHECK_ERR(read_vec(&r, w, &sub, 0, SIZE_MAX), MICA_E_DECODE);
            CHECK(sub.p == pat && sub.n == 7);
            CHECK(r.p == zeros && r.n == len);
        }
    }
}

/* Prefixes are big-endian: 0x01 0x02 announces 258, not 513. */
static void test_vec_byte_order(void)
{
    uint8_t buf[3 + 0x30201];
    mica_rd r, sub;

    memset(buf, 0, sizeof(buf));
    buf[0] = 0x01;
    buf[1] = 0x02;
    r = mica_rd_init(buf, 2 + 258);
    CHECK_OK(mica_rd_vec16(&r, &sub, 0, 65535));
    CHECK(sub.n == 258);
    r = mica_rd_init(buf, 2 + 257);
    CHECK_ERR(mica_rd_vec16(&r, &sub, 0, 65535), MICA_E_DECODE);

    buf[0] = 0x03;
    buf[1] = 0x02;
    buf[2] = 0x01;
    r = mica_rd_init(buf, sizeof(buf));
    CHECK_OK(mica_rd_vec24(&r, &sub, 0, MAX_LEN));
    CHECK(sub.n == 0x030201 && r.n == 0);
}

/*
 * Sub-readers: a sub-reader sees exactly its body, cannot read past it into the
 * parent's bytes, and mica_rd_end tells whether it was consumed. The parent continues
 * after the body.
 */
static void test_sub_readers(void)
{
    /* outer vec16 { vec8 {01 02}, vec8 {03} } then u8 0x99 */
    static const uint8_t msg[] = {0x00, 0x05, 0x02, 0x01, 0x02, 0x01, 0x03, 0x99};
    mica_rd r = mica_rd_init(msg, sizeof(msg));
    mica_rd outer, a, b, empty;
    uint8_t v = 0;
    uint16_t v16 = 0;

    CHECK_OK(mica_rd_vec16(&r, &outer, 1, 100));
    CHECK(outer.n == 5);
    CHECK_ERR(mica_rd_end(&outer), MICA_E_DECODE);
    CHECK_OK(mica_rd_vec8(&outer, &a, 0, 2));
    CHECK_OK(mica_rd_u8(&a, &v));
    CHECK(v == 1);
    CHECK_ERR(mica_rd_end(&a), MICA_E_DECODE); /* one byte left */
    CHECK_OK(mica_rd_u8(&a, &v));
    CHECK(v == 2);
    CHECK_OK(mica_rd_end(&a));
    CHECK_ERR(mica_rd_u8(&a, &v), MICA_E_DECODE); /* not into the parent's next byte */
    CHECK(v == 2);

    CHECK_OK(mica_rd_vec8(&outer, &b, 1, 1));
    CHECK_ERR(mica_rd_u16(&b, &v16), MICA_E_DECODE); /* 1 byte in b, though the parent has more */
    CHECK(b.n == 1);
    CHECK_OK(mica_rd_skip(&b, 1));
    CHECK_OK(mica_rd_end(&b));
    CHECK_OK(mica_rd_end(&outer));
    CHECK_ERR(mica_rd_vec8(&outer, &empty, 0, 0), MICA_E_DECODE);

    CHECK_OK(mica_rd_u8(&r, &v));
    CHECK(v == 0x99);
    CHECK_OK(mica_rd_end(&r));

    /* an inner vector that claims more than its parent's body, though the whole buffer
     * has enough: must fail (the classic nested-length overread) */
    {
        static const uint8_t lie[] = {0x00, 0x02, 0x05, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
        mica_rd rr = mica_rd_init(lie, sizeof(lie));
        mica_rd o, in = {pat, 3};

        CHECK_OK(mica_rd_vec16(&rr, &o, 0, 65535));
        CHECK(o.n == 2);
        CHECK_ERR(mica_rd_vec8(&o, &in, 0, 255), MICA_E_DECODE);
        CHECK(in.p == pat && in.n == 3);
        CHECK(o.p == lie + 2 && o.n == 2);
    }

    /* a zero-length vector gives an empty sub-reader that ends at once */
    {
        static const uint8_t z[] = {0x00, 0x00, 0x00, 0x07};
        mica_rd rr = mica_rd_init(z, sizeof(z));
        mica_rd e;

        CHECK_OK(mica_rd_vec24(&rr, &e, 0, 10));
        CHECK(e.n == 0);
        CHECK_OK(mica_rd_end(&e));
        CHECK_ERR(mica_rd_u8(&e, &v), MICA_E_DECODE);
        CHECK(rr.n == 1);
    }
}

static void test_end(void)
{
    for (size_t len = 0; len <= N; len++) {
        mica_rd r = mica_rd_init(pat, len);

        CHECK_ERR(mica_rd_end(&r), len == 0 ? MICA_OK : MICA_E_DECODE);
        CHECK(r.n == len); /* end only looks */
    }
}

/* A NULL buffer gives an empty reader whatever length is claimed: nothing can be read,
 * and reading nothing is fine. */
static void test_null_buffer(void)
{
    static const size_t lens[] = {0, 1, 5, 100, SIZE_MAX};

    for (size_t i = 0; i < MICA_ARRAY_LEN(lens); i++) {
        mica_rd r = mica_rd_init(NULL, lens[i]);
        mica_rd sub = {pat, 1};
        const uint8_t *out = pat;
        uint8_t v = SENTINEL;
        uint64_t v64 = 7;

        CHECK(r.n == 0);
        CHECK_OK(mica_rd_end(&r));
        CHECK_ERR(mica_rd_u8(&r, &v), MICA_E_DECODE);
        CHECK(v == SENTINEL);
        CHECK_ERR(mica_rd_u64(&r, &v64), MICA_E_DECODE);
        CHECK(v64 == 7);
        CHECK_ERR(mica_rd_bytes(&r, 1, &out), MICA_E_DECODE);
        CHECK(out == pat);
        CHECK_ERR(mica_rd_vec8(&r, &sub, 0, 255), MICA_E_DECODE);
        CHECK(sub.p == pat && sub.n == 1);
        /* zero-length reads succeed on an empty reader and do not move it */
        CHECK_OK(mica_rd_skip(&r, 0));
        CHECK_OK(mica_rd_copy(&r, &v, 0));
        CHECK(v == SENTINEL);
        CHECK_OK(mica_rd_bytes(&r, 0, &out));
        CHECK(r.n == 0);
        CHECK_OK(mica_rd_end(&r));
    }
}

/* A ClientHello from RFC 8446's structure, read the way a decoder will. */
static void test_schema_read(void)
{
    /* version, random[32], sid<0..32>, suites<2..2^16-2>, compression<1..2^8-1>,
     * extensions<8..2^16-1> (one: supported_versions, 0x002b, {02 03 04}) */
    static const uint8_t head[] = {0x03, 0x03};
    static const uint8_t tail[] = {
        0x00,                   /* session id: empty */
        0x00, 0x02, 0x13, 0x01, /* suites: TLS_AES_128_GCM_SHA256 */
        0x01, 0x00,             /* compression: null */
        0x00, 0x07,             /* extensions: 7 bytes */
        0x00, 0x2b, 0x00, 0x03, /* supported_versions, 3 bytes */
        0x02, 0x03, 0x04,       /* versions<2..254>: TLS 1.3 */
    };
    uint8_t ch[sizeof(head) + 32 + sizeof(tail)];
    mica_rd r, sid, suites, comp, exts, body, vers;
    uint16_t version = 0, suite = 0, type = 0, ver = 0;
    const uint8_t *random = NULL;
    uint8_t c = 0xff;

    memcpy(ch, head, sizeof(head));
    for (size_t i = 0; i < 32; i++) {
        ch[sizeof(head) + i] = (uint8_t)i;
    }
    memcpy(ch + sizeof(head) + 32, tail, sizeof(tail));
    r = mica_rd_init(ch, sizeof(ch));

    CHECK_OK(mica_rd_u16(&r, &version));
    CHECK_OK(mica_rd_bytes(&r, 32, &random));
    CHECK_OK(mica_rd_vec8(&r, &sid, 0, 32));
    CHECK_OK(mica_rd_end(&sid));
    CHECK_OK(mica_rd_vec16(&r, &suites, 2, 65534));
    CHECK_OK(mica_rd_u16(&suites, &suite));
    CHECK_OK(mica_rd_end(&suites));
    CHECK_OK(mica_rd_vec8(&r, &comp, 1, 255));
    CHECK_OK(mica_rd_u8(&comp, &c));
    CHECK_OK(mica_rd_end(&comp));
    CHECK_OK(mica_rd_vec16(&r, &exts, 0, 65535));
    CHECK_OK(mica_rd_u16(&exts, &type));
    CHECK_OK(mica_rd_vec16(&exts, &body, 0, 65535));
    CHECK_OK(mica_rd_vec8(&body, &vers, 2, 254));
    CHECK_OK(mica_rd_u16(&vers, &ver));
    CHECK_OK(mica_rd_end(&vers));
    CHECK_OK(mica_rd_end(&body));
    CHECK_OK(mica_rd_end(&exts));
    CHECK_OK(mica_rd_end(&r));
    CHECK(version == 0x0303 && random == ch + 2 && suite == 0x1301 && c == 0);
    CHECK(type == 0x002b && ver == 0x0304);
}

int main(void)
{
    fill_pattern();
    test_fixed_width();
    test_consecutive();
    test_extreme_values();
    test_bytes_copy_skip();
    test_vec_small();
    test_vec_large();
    test_vec_truncated_prefix();
    test_vec_byte_order();
    test_sub_readers();
    test_end();
    test_schema_read();
    test_null_buffer(); /* last: UBSan stops the program at the first finding */
    return check_exit("test_rd");
}
