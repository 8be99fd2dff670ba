/*
 * Fuzz target for the bounds-checked reader (src/base/rd.c).
 *
 * Every read goes through a wrapper that checks it against a model computed from the
 * raw input: a read succeeds exactly when enough bytes remain (and, for vectors, the
 * announced length is within [min, max] and present); on success the reader moved by
 * exactly the bytes read, the value is the big-endian value of those bytes and every
 * sub-reader lies inside its parent; on failure nothing moved. At the top level,
 * consumed + remaining == input length at every step. A violation aborts.
 *
 * The input is read twice:
 *   1. as a flight of TLS 1.3 handshake messages (RFC 8446 4): msg_type, a 24-bit length
 *      and a body read with the grammar of that message -- ClientHello, ServerHello,
 *      NewSessionTicket, EncryptedExtensions, Certificate, CertificateRequest,
 *      CertificateVerify, Finished, KeyUpdate -- down into the extensions;
 *   2. as a program: each byte picks a reader operation (and its arguments) to run on the
 *      rest of the input, with nested sub-readers.
 * The seeds (tests/fuzz/make_corpus.py) are the handshake messages of RFC 8448.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rd.h"
#include "fuzz_assert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DEPTH 8     /* nested sub-readers in the program reading */
#define MAX_STEPS 4096u /* program steps per input */

/* MICA_FUZZ_TRACE=1 in the environment prints how far each message parsed (to check
 * that the seeds are read by the grammar to their end). */
static int trace = -1;

/* The whole input: every reader must stay inside it. */
static const uint8_t *base;
static size_t base_len;

/* inside: r lies within the input */
static void inside(const mica_rd *r)
{
    if (r->n == 0) {
        return; /* an empty reader may point anywhere (even NULL); it reads nothing */
    }
    FUZZ_ASSERT(r->p >= base);
    FUZZ_ASSERT((size_t)(r->p - base) <= base_len);
    FUZZ_ASSERT(r->n <= base_len - (size_t)(r->p - base));
}

static uint64_t be(const uint8_t *p, size_t w)
{
    uint64_t x = 0;

    for (size_t i = 0; i < w; i++) {
        x = (x << 8) | p[i];
    }
    return x;
}

static bool same(const mica_rd *a, const mica_rd *b)
{
    return a->p == b->p && a->n == b->n;
}

/* after a read of want bytes: moved by exactly want, or (on failure) not at all, and it
 * failed only because too few bytes remained */
static void check_step(const mica_rd *before, const mica_rd *r, mica_err err, size_t want)
{
    if (err == MICA_OK) {
        FUZZ_ASSERT(before->n >= want);
        FUZZ_ASSERT(r->p == before->p + want);
        FUZZ_ASSERT(r->n == before->n - want);
    } else {
        FUZZ_ASSERT(err == MICA_E_DECODE);
        FUZZ_ASSERT(before->n < want);
        FUZZ_ASSERT(same(r, before));
    }
    inside(r);
}

static bool rd_int(mica_rd *r, size_t w, uint64_t *v)
{
    mica_rd before = *r;
    uint8_t v8 = 0x5a;
    uint16_t v16 = 0x5a5a;
    uint32_t v32 = 0x5a5a5a5a;
    uint64_t v64 = 0x5a5a5a5a5a5a5a5a, untouched = 0x5a5a5a5a5a5a5a5a, got = 0;
    mica_err err;

    switch (w) {
    case 1:
        err = mica_rd_u8(r, &v8);
        got = v8;
        untouched = 0x5a;
        break;
    case 2:
        err = mica_rd_u16(r, &v16);
        got = v16;
        untouched = 0x5a5a;
        break;
    case 3:
        err = mica_rd_u24(r, &v32);
        got = v32;
        untouched = 0x5a5a5a5a;
        break;
    case 4:
        err = mica_rd_u32(r, &v32);
        got = v32;
        untouched = 0x5a5a5a5a;
        break;
    default:
        err = mica_rd_u64(r, &v64);
        got = v64;
        w = 8;
        break;
    }
    check_step(&before, r, err, w);
    if (err != MICA_OK) {
        FUZZ_ASSERT(got == untouched); /* a failed read leaves its output alone */
        return false;
    }
    FUZZ_ASSERT(got == be(before.p, w));
    *v = got;
    return true;
}

static bool u8(mica_rd *r, uint8_t *v)
{
    uint64_t x;

    if (!rd_int(r, 1, &x)) {
        return false;
    }
    *v = (uint8_t)x;
    return true;
}

static bool u16(mica_rd *r, uint16_t *v)
{
    uint64_t x;

    if (!rd_int(r, 2, &x)) {
        return false;
    }
    *v = (uint16_t)x;
    return true;
}

static bool u32(mica_rd *r)
{
    uint64_t x;

    return rd_int(r, 4, &x);
}

static bool bytes(mica_rd *r, size_t len)
{
    mica_rd before = *r;
    const uint8_t *out = base; /* a marker that a failure must leave alone */
    mica_err err = mica_rd_bytes(r, len, &out);

    check_step(&before, r, err, len);
    FUZZ_ASSERT(err == MICA_OK ? out == before.p : out == base);
    return err == MICA_OK;
}

static bool copy(mica_rd *r, size_t len)
{
    uint8_t buf[256 + 8];
    mica_rd before = *r;
    mica_err err;

    if (len > 256) {
        len = 256;
    }
    memset(buf, 0xc3, sizeof(buf));
    err = mica_rd_copy(r, buf, len);
    check_step(&before, r, err, len);
    for (size_t i = 0; i < sizeof(buf); i++) {
        if (err == MICA_OK && i < len) {
            FUZZ_ASSERT(buf[i] == before.p[i]);
        } else {
            FUZZ_ASSERT(buf[i] == 0xc3);
        }
    }
    return err == MICA_OK;
}

static bool skip(mica_rd *r, size_t len)
{
    mica_rd before = *r;
    mica_err err = mica_rd_skip(r, len);

    check_step(&before, r, err, len);
    return err == MICA_OK;
}

/* vec: a w-byte length prefix and its body as *sub; checked against the model */
static bool vec(mica_rd *r, size_t w, mica_rd *sub, size_t min, size_t max)
{
    mica_rd before = *r, marker = {base, 0x5a5a};
    mica_err err;
    bool want_ok;
    size_t L = 0;

    *sub = marker;
    switch (w) {
    case 1: err = mica_rd_vec8(r, sub, min, max); break;
    case 2: err = mica_rd_vec16(r, sub, min, max); break;
    default:
        err = mica_rd_vec24(r, sub, min, max);
        w = 3;
        break;
    }
    want_ok = before.n >= w;
    if (want_ok) {
        L = (size_t)be(before.p, w);
        want_ok = L >= min && L <= max && L <= before.n - w;
    }
    if (!want_ok) {
        FUZZ_ASSERT(err == MICA_E_DECODE);
        FUZZ_ASSERT(same(r, &before));
        FUZZ_ASSERT(same(sub, &marker));
        return false;
    }
    FUZZ_ASSERT(err == MICA_OK);
    FUZZ_ASSERT(sub->p == before.p + w && sub->n == L);
    FUZZ_ASSERT(r->p == before.p + w + L && r->n == before.n - w - L);
    inside(sub);
    inside(r);
    return true;
}

static bool end(const mica_rd *r)
{
    mica_err err = mica_rd_end(r);

    FUZZ_ASSERT(err == (r->n == 0 ? MICA_OK : MICA_E_DECODE));
    return err == MICA_OK;
}

/* ---- 1. the handshake grammar (RFC 8446 section 4) --------------------------------- */

enum { CH = 1, SH = 2, NST = 4, EE = 8, CERT = 11, CR = 13, CV = 15, FIN = 20, KU = 24 };

/* list: a vector of fixed-width items */
static bool list16(mica_rd *r, size_t wl, size_t item, size_t min, size_t max)
{
    mica_rd l;
    uint64_t v;

    if (!vec(r, wl, &l, min, max)) {
        return false;
    }
    while (l.n > 0) {
        if (!rd_int(&l, item, &v)) {
            return false;
        }
    }
    return end(&l);
}

static bool ext_body(mica_rd *b, uint16_t type, int msg)
{
    mica_rd l, e;
    uint16_t v;

    switch (type) {
    case 0: /* server_name: ServerNameList (empty in a server's reply) */
        if (b->n == 0) {
            return true;
        }
        if (!vec(b, 2, &l, 1, 65535)) {
            return false;
        }
        while (l.n > 0) {
            uint8_t t;
            if (!u8(&l, &t) || !vec(&l, 2, &e, 1, 65535) || !skip(&e, e.n) || !end(&e)) {
                return false;
            }
        }
        return end(&l);
    case 10: return list16(b, 2, 2, 2, 65534); /* supported_groups */
    case 13:                                   /* signature_algorithms */
    case 50: return list16(b, 2, 2, 2, 65534); /* signature_algorithms_cert */
    case 16:                                   /* ALPN: ProtocolNameList */
        if (!vec(b, 2, &l, 2, 65535)) {
            return false;
        }
        while (l.n > 0) {
            if (!vec(&l, 1, &e, 1, 255) || !bytes(&e, e.n)) {
                return false;
            }
        }
        return end(&l);
    case 28: return u16(b, &v); /* record_size_limit */
    case 41:                    /* pre_shared_key */
        if (msg != CH) {
            return u16(b, &v);
        }
        if (!vec(b, 2, &l, 7, 65535)) {
            return false;
        }
        while (l.n > 0) {
            if (!vec(&l, 2, &e, 1, 65535) || !skip(&e, e.n) || !u32(&l)) {
                return false;
            }
        }
        if (!end(&l) || !vec(b, 2, &l, 33, 65535)) {
            return false;
        }
        while (l.n > 0) {
            if (!vec(&l, 1, &e, 32, 255) || !copy(&e, e.n) || !end(&e)) {
                return false;
            }
        }
        return end(&l);
    case 42: return msg == NST ? u32(b) : true; /* early_data */
    case 43: /* supported_versions */ return msg == CH ? list16(b, 1, 2, 2, 254) : u16(b, &v);
    case 44: return vec(b, 2, &l, 1, 65535) && bytes(&l, l.n); /* cookie */
    case 45: return list16(b, 1, 1, 1, 255);                   /* psk_key_exchange_modes */
    case 51:                                                   /* key_share */
        if (msg == CH) {
            if (!vec(b, 2, &l, 0, 65535)) {
                return false;
            }
            while (l.n > 0) {
                if (!u16(&l, &v) || !vec(&l, 2, &e, 1, 65535) || !bytes(&e, e.n)) {
                    return false;
                }
            }
            return end(&l);
        }
        if (!u16(b, &v)) {
            return false;
        }
        return b->n == 0 || (vec(b, 2, &e, 1, 65535) && bytes(&e, e.n)); /* HRR: group only */
    default: return skip(b, b->n);
    }
}

static bool extensions(mica_rd *r, int msg, size_t min)
{
    mica_rd exts, body;
    uint16_t type;

    if (!vec(r, 2, &exts, min, 65535)) {
        return false;
    }
    while (exts.n > 0) {
        if (!u16(&exts, &type) || !vec(&exts, 2, &body, 0, 65535)) {
            return false;
        }
        if (ext_body(&body, type, msg)) {
            (void)end(&body);
        }
    }
    return end(&exts);
}

static bool client_hello(mica_rd *b)
{
    uint16_t version;
    uint8_t m;
    mica_rd sid, comp;

    return u16(b, &version) && bytes(b, 32) && vec(b, 1, &sid, 0, 32) && copy(&sid, sid.n) &&
           list16(b, 2, 2, 2, 65534) && vec(b, 1, &comp, 1, 255) && u8(&comp, &m) &&
           extensions(b, CH, 8);
}

static bool server_hello(mica_rd *b)
{
    uint16_t version, suite;
    uint8_t comp;
    mica_rd sid;

    return u16(b, &version) && bytes(b, 32) && vec(b, 1, &sid, 0, 32) && skip(&sid, sid.n) &&
           u16(b, &suite) && u8(b, &comp) && extensions(b, SH, 6);
}

static bool certificate(mica_rd *b)
{
    mica_rd ctx, list, cert;

    if (!vec(b, 1, &ctx, 0, 255) || !skip(&ctx, ctx.n) || !vec(b, 3, &list, 0, 0xffffff)) {
        return false;
    }
    while (list.n > 0) {
        if (!vec(&list, 3, &cert, 1, 0xffffff) || !bytes(&cert, cert.n) ||
            !extensions(&list, CERT, 0)) {
            return false;
        }
    }
    return end(&list);
}

static void message(mica_rd *r)
{
    uint8_t type;
    mica_rd b, x;
    uint16_t v;
    bool ok = false;

    if (!u8(r, &type) || !vec(r, 3, &b, 0, 0xffffff)) {
        (void)skip(r, r->n);
        return;
    }
    switch (type) {
    case CH: ok = client_hello(&b); break;
    case SH: ok = server_hello(&b); break;
    case NST:
        ok = u32(&b) && u32(&b) && vec(&b, 1, &x, 0, 255) && bytes(&x, x.n) &&
             vec(&b, 2, &x, 1, 65535) && skip(&x, x.n) && extensions(&b, NST, 0);
        break;
    case EE: ok = extensions(&b, EE, 0); break;
    case CERT: ok = certificate(&b); break;
    case CR: ok = vec(&b, 1, &x, 0, 255) && skip(&x, x.n) && extensions(&b, CR, 2); break;
    case CV: ok = u16(&b, &v) && vec(&b, 2, &x, 0, 65535) && bytes(&x, x.n); break;
    case FIN: ok = bytes(&b, b.n); break;
    case KU: ok = u8(&b, &type); break; /* KeyUpdateRequest */
    default: ok = skip(&b, b.n); break;
    }
    if (ok) {
        ok = end(&b);
    }
    if (trace) {
        fprintf(stderr, "fuzz_rd: message type %u: %s, %zu bytes left in it\n", type,
                ok ? "read to its end" : "stopped", b.n);
    }
}

static void read_flight(const uint8_t *data, size_t size)
{
    mica_rd r = mica_rd_init(data, size);

    while (r.n > 0) {
        size_t left = r.n;
        message(&r);
        FUZZ_ASSERT((size_t)(r.p - data) + r.n == size); /* consumed + remaining == len */
        FUZZ_ASSERT(r.n < left);                         /* every message makes progress */
    }
    FUZZ_ASSERT(end(&r));
}

/* ---- 2. the input as a program over itself -------------------------------------- */

static size_t steps;

static void program(mica_rd *r, int depth)
{
    while (r->n > 0 && steps < MAX_STEPS) {
        uint8_t op = 0, a = 0, b = 0;
        uint64_t v;
        mica_rd sub;

        steps++;
        if (depth == 0) {
            FUZZ_ASSERT((size_t)(r->p - base) + r->n == base_len); /* consumed + remaining */
        }
        if (!u8(r, &op)) {
            return;
        }
        switch (op % 14) {
        case 0: (void)rd_int(r, 1, &v); break;
        case 1: (void)rd_int(r, 2, &v); break;
        case 2: (void)rd_int(r, 3, &v); break;
        case 3: (void)rd_int(r, 4, &v); break;
        case 4: (void)rd_int(r, 8, &v); break;
        case 5: (void)(u8(r, &a) && bytes(r, a)); break;
        case 6: (void)(u8(r, &a) && copy(r, a)); break;
        case 7: (void)(u8(r, &a) && skip(r, a)); break;
        case 8: (void)end(r); break;
        case 9: /* a request larger than anything: must fail cleanly */
            (void)bytes(r, SIZE_MAX);
            (void)skip(r, SIZE_MAX - (r->n / 2));
            break;
        default: /* 10..13: a vector with bounds from the input; descend into it */
            if (!u8(r, &a) || !u8(r, &b)) {
                return;
            }
            {
                size_t w = (size_t)(op % 14) - 9; /* 1, 2, 3, 4 -> vec8/16/24, and vec8 */
                size_t min = a, max = (size_t)b << (w == 1 || w == 4 ? 0 : 8 * (w - 1));
                if (w == 4) {
                    w = 1;
                    max = SIZE_MAX;
                }
                if (vec(r, w, &sub, min, max) && depth < MAX_DEPTH) {
                    program(&sub, depth + 1);
                    (void)end(&sub);
                }
            }
            break;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mica_rd r;

    if (trace < 0) {
        trace = getenv("MICA_FUZZ_TRACE") != NULL;
    }
    base = data;
    base_len = size;
    read_flight(data, size);

    r = mica_rd_init(data, size);
    steps = 0;
    program(&r, 0);
    FUZZ_ASSERT(r.n == 0 || (size_t)(r.p - data) + r.n == size);
    return 0;
}
