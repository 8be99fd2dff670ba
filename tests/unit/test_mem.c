/*
 * The allocator seam, wiping and constant-time comparison (src/base/mem.h, STYLE.md 2.6).
 *
 * The seam is what later tests stand on: "fail each allocation of a full handshake in
 * turn" needs fail_at to hit exactly the n-th allocation, and "every freed secret buffer
 * is all zero" needs on_free to run after the wipe. Both promises are checked here.
 *
 * MICA_SECRET's cleanup cannot be observed from C without reading a dead object, so the
 * wipe functions it and MICA_KX_SHARED call are tested directly instead.
 */
#include <stdalign.h>
#include <string.h>

#include "base/mem.h"
#include "check.h"
#include "crypto/crypto.h"

#define MAX_CT 64u

/* What the on_free hook saw. */
struct seen {
    size_t calls;
    const void *p;
    size_t size;
    bool secret;
    bool all_zero; /* the buffer as the hook saw it */
    bool had_byte; /* a plain free: did the buffer still hold what was written */
};

static void on_free(const void *p, size_t size, bool secret, void *ctx)
{
    struct seen *s = ctx;
    const uint8_t *b = p;

    s->calls++;
    s->p = p;
    s->size = size;
    s->secret = secret;
    s->all_zero = true;
    for (size_t i = 0; i < size; i++) {
        if (b[i] != 0) {
            s->all_zero = false;
        }
    }
    s->had_byte = size > 0 && b[0] == 0x5a;
}

/* fail_at = n: allocation n (1-based) fails, every other one succeeds, zeroed. */
static void test_fail_at(void)
{
    size_t live0 = mica_mem_live();

    for (size_t n = 0; n <= 12; n++) {
        struct mica_mem_hooks h = {.fail_at = n, .on_free = NULL, .ctx = NULL};
        void *p[10];

        mica_mem_set_hooks(&h);
        CHECK(mica_mem_alloc_count() == 0);
        for (size_t i = 0; i < 10; i++) {
            p[i] = mica_mem_alloc(16 + i);
            if (i + 1 == n) {
                CHECK_MSG(p[i] == NULL, "fail_at=%zu: allocation %zu succeeded", n, i + 1);
            } else {
                CHECK_MSG(p[i] != NULL, "fail_at=%zu: allocation %zu failed", n, i + 1);
                if (p[i] != NULL) {
                    CHECK(mica_ct_is_zero(p[i], 16 + i));
                    memset(p[i], 0x5a, 16 + i); /* the whole size is usable (ASan checks) */
                }
            }
        }
        CHECK(mica_mem_alloc_count() == 10);
        CHECK(mica_mem_live() == live0 + (n >= 1 && n <= 10 ? 9 : 10));
        for (size_t i = 0; i < 10; i++) {
            mica_mem_free(p[i]);
        }
        CHECK(mica_mem_live() == live0);
    }
    /* the count restarts when hooks are installed again */
    {
        struct mica_mem_hooks h = {.fail_at = 2, .on_free = NULL, .ctx = NULL};
        void *a, *b;

        mica_mem_set_hooks(&h);
        a = mica_mem_alloc(1);
        mica_mem_set_hooks(&h);
        b = mica_mem_alloc(1);
        CHECK(a != NULL && b != NULL);
        CHECK(mica_mem_alloc(1) == NULL); /* the second since the last set_hooks */
        mica_mem_free(a);
        mica_mem_free(b);
    }
    mica_mem_set_hooks(NULL);
    CHECK(mica_mem_alloc_count() == 0);
    CHECK(mica_mem_live() == live0);
}

/* Sizes that cannot be served: 0 (documented) and anything that would wrap. */
static void test_odd_sizes(void)
{
    size_t live0 = mica_mem_live();
    void *p;

    mica_mem_set_hooks(NULL);
    CHECK(mica_mem_alloc(0) == NULL);
    CHECK(mica_mem_alloc(SIZE_MAX) == NULL);
    CHECK(mica_mem_alloc(SIZE_MAX - 8) == NULL);
    CHECK(mica_mem_live() == live0);

    /* payloads are aligned for any type */
    for (size_t n = 1; n <= 64; n++) {
        p = mica_mem_alloc(n);
        CHECK(p != NULL);
        CHECK_MSG(((uintptr_t)p % alignof(max_align_t)) == 0, "alloc(%zu) misaligned", n);
        mica_mem_free(p);
    }
    CHECK(mica_mem_live() == live0);
}

/*
 * on_free: sees the pointer the caller freed, its size and the secret flag. For
 * mica_mem_free_secret the buffer is already wiped when the hook runs: that is how a test
 * proves that no secret survives in freed memory.
 */
static void test_on_free(void)
{
    struct seen s;
    struct mica_mem_hooks h = {.fail_at = 0, .on_free = on_free, .ctx = &s};
    size_t live0 = mica_mem_live();

    memset(&s, 0, sizeof(s));
    mica_mem_set_hooks(&h);
    for (size_t n = 1; n <= 300; n += 13) {
        uint8_t *p = mica_mem_alloc(n);
        size_t calls = s.calls;

        CHECK(p != NULL);
        if (p == NULL) {
            continue;
        }
        memset(p, 0x5a, n);
        mica_mem_free_secret(p);
        CHECK(s.calls == calls + 1);
        CHECK(s.p == p);
        CHECK_MSG(s.size == n, "on_free saw size %zu, want %zu", s.size, n);
        CHECK(s.secret);
        CHECK_MSG(s.all_zero, "mica_mem_free_secret(%zu bytes): hook saw unwiped bytes", n);

        p = mica_mem_alloc(n);
        CHECK(p != NULL);
        if (p == NULL) {
            continue;
        }
        memset(p, 0x5a, n);
        mica_mem_free(p);
        CHECK(s.calls == calls + 2);
        CHECK(s.p == p && s.size == n && !s.secret);
        CHECK(s.had_byte); /* a plain free shows the hook the buffer as it was */
    }
    /* NULL frees are no-ops: no hook, no change to the live count */
    {
        size_t calls = s.calls;

        mica_mem_free(NULL);
        mica_mem_free_secret(NULL);
        CHECK(s.calls == calls);
    }
    mica_mem_set_hooks(NULL);
    CHECK(mica_mem_live() == live0);
}

/* mica_mem_wipe: exactly len bytes become zero, nothing around them changes. */
static void test_wipe(void)
{
    uint8_t buf[80];

    for (size_t off = 0; off < 8; off++) {
        for (size_t len = 0; len <= 64; len++) {
            memset(buf, 0xee, sizeof(buf));
            mica_mem_wipe(buf + off, len);
            for (size_t i = 0; i < sizeof(buf); i++) {
                uint8_t want = (i >= off && i < off + len) ? 0 : 0xee;
                CHECK_MSG(buf[i] == want, "wipe(%zu, %zu): byte %zu is %02x", off, len, i, buf[i]);
            }
        }
    }
    mica_mem_wipe(NULL, 0);
}

/* mica_ct_eq and mica_ct_is_zero: every length 0..64, a difference at each position and
 * in each bit, at several alignments; bytes beyond len never count. */
static void test_ct(void)
{
    uint8_t a[MAX_CT + 16], b[MAX_CT + 16], z[MAX_CT + 16];

    for (size_t off = 0; off < 4; off++) {
        for (size_t len = 0; len <= MAX_CT; len++) {
            for (size_t i = 0; i < sizeof(a); i++) {
                a[i] = (uint8_t)(i * 7u + 1u);
            }
            memcpy(b, a, sizeof(a));
            memset(z, 0, sizeof(z));
            /* differences after the compared range do not matter */
            b[off + len] ^= 0xff;
            z[off + len] = 1;
            CHECK_MSG(mica_ct_eq(a + off, b + off, len), "ct_eq(len %zu) of equal bytes", len);
            CHECK_MSG(mica_ct_is_zero(z + off, len), "ct_is_zero(len %zu) of zeros", len);
            b[off + len] ^= 0xff;
            z[off + len] = 0;
            if (off > 0) {
                b[off - 1] ^= 0xff; /* nor before it */
                z[off - 1] = 1;
                CHECK(mica_ct_eq(a + off, b + off, len));
                CHECK(mica_ct_is_zero(z + off, len));
                b[off - 1] ^= 0xff;
                z[off - 1] = 0;
            }
            for (size_t pos = 0; pos < len; pos++) {
                for (int bit = 0; bit < 8; bit++) {
                    uint8_t m = (uint8_t)(1u << bit);
                    b[off + pos] ^= m;
                    z[off + pos] ^= m;
                    CHECK_MSG(!mica_ct_eq(a + off, b + off, len),
                              "ct_eq(len %zu) missed bit %d at %zu", len, bit, pos);
                    CHECK_MSG(!mica_ct_eq(b + off, a + off, len), "ct_eq is not symmetric");
                    CHECK_MSG(!mica_ct_is_zero(z + off, len),
                              "ct_is_zero(len %zu) missed bit %d at %zu", len, bit, pos);
                    b[off + pos] ^= m;
                    z[off + pos] ^= m;
                }
                /* every byte value, not only single bits */
                for (unsigned v = 1; v < 256; v += 17) {
                    z[off + pos] = (uint8_t)v;
                    CHECK(!mica_ct_is_zero(z + off, len));
                    z[off + pos] = 0;
                }
            }
            /* all bytes different */
            for (size_t i = 0; i < len; i++) {
                b[off + i] = (uint8_t)~a[off + i];
            }
            CHECK(len == 0 || !mica_ct_eq(a + off, b + off, len));
        }
    }
    CHECK(mica_ct_eq(NULL, NULL, 0));
    CHECK(mica_ct_is_zero(NULL, 0));
}

/* mica_secret_wipe clears the whole container: bytes and length (so a wiped secret
 * cannot be mistaken for a short live one). */
static void test_secret_wipe(void)
{
    mica_secret s;

    memset(&s, 0xab, sizeof(s));
    mica_secret_wipe(&s);
    CHECK(mica_ct_is_zero(s.b, sizeof(s.b)));
    CHECK(s.len == 0);

    /* MICA_SECRET declares a container that starts empty */
    {
        MICA_SECRET(fresh);
        CHECK(fresh.len == 0);
        CHECK(mica_ct_is_zero(fresh.b, sizeof(fresh.b)));
        fresh.b[0] = 1;
        fresh.len = 1;
    }
}

static void test_kx_shared_wipe(void)
{
    mica_kx_shared s;

    memset(&s, 0xcd, sizeof(s));
    mica_kx_shared_wipe(&s);
    CHECK(mica_ct_is_zero(s.b, sizeof(s.b)));
    CHECK(s.len == 0);
    {
        MICA_KX_SHARED(fresh);
        CHECK(fresh.len == 0);
        CHECK(mica_ct_is_zero(fresh.b, sizeof(fresh.b)));
        fresh.len = 3;
    }
}

int main(void)
{
    test_fail_at();
    test_odd_sizes();
    test_on_free();
    test_wipe();
    test_ct();
    test_secret_wipe();
    test_kx_shared_wipe();
    return check_exit("test_mem");
}
