#include "base/mem.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/*
 * Each block carries its size in a header, so that mica_mem_free_secret can wipe it and
 * test hooks can see it. The header is 16 bytes to keep the payload aligned for any type.
 */
#define HDR 16u

/* Test hooks are process-global and for single-threaded tests only; the counters are
 * atomic so that a threaded application that never installs hooks has no data race. */
static struct mica_mem_hooks hooks;
static atomic_size_t alloc_count;
static atomic_size_t live;

void mica_mem_set_hooks(const struct mica_mem_hooks *h)
{
    if (h != NULL) {
        hooks = *h;
    } else {
        memset(&hooks, 0, sizeof(hooks));
    }
    atomic_store(&alloc_count, 0);
}

size_t mica_mem_alloc_count(void)
{
    return atomic_load(&alloc_count);
}

size_t mica_mem_live(void)
{
    return atomic_load(&live);
}

static void *alloc(size_t size, bool zero)
{
    uint8_t *p;

    if (size == 0 || size > SIZE_MAX - HDR) {
        return NULL;
    }
    if (atomic_fetch_add(&alloc_count, 1) + 1 == hooks.fail_at) {
        return NULL;
    }
    p = zero ? calloc(1, HDR + size) : malloc(HDR + size);
    if (p == NULL) {
        return NULL;
    }
    memcpy(p, &size, sizeof(size));
    atomic_fetch_add(&live, 1);
    return p + HDR;
}

void *mica_mem_alloc(size_t size)
{
    return alloc(size, true);
}

void *mica_mem_alloc_buf(size_t size)
{
    return alloc(size, false);
}

static void release(void *p, bool secret)
{
    uint8_t *base;
    size_t size;

    if (p == NULL) {
        return;
    }
    base = (uint8_t *)p - HDR;
    memcpy(&size, base, sizeof(size));
    if (secret) {
        mica_mem_wipe(p, size);
    }
    if (hooks.on_free != NULL) {
        hooks.on_free(p, size, secret, hooks.ctx);
    }
    atomic_fetch_sub(&live, 1);
    free(base);
}

void mica_mem_free(void *p)
{
    release(p, false);
}

void mica_mem_free_secret(void *p)
{
    release(p, true);
}

void mica_mem_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0) {
        explicit_bzero(p, len);
    }
}

bool mica_ct_eq(const void *a, const void *b, size_t len)
{
    const volatile uint8_t *x = a;
    const volatile uint8_t *y = b;
    uint8_t acc = 0;

    for (size_t i = 0; i < len; i++) {
        acc |= (uint8_t)(x[i] ^ y[i]);
    }
    /* (acc - 1) >> 8 is 1 only when acc == 0; no data-dependent branch */
    return (((unsigned)acc - 1u) >> 8) & 1u;
}

bool mica_ct_is_zero(const void *p, size_t len)
{
    const volatile uint8_t *x = p;
    uint8_t acc = 0;

    for (size_t i = 0; i < len; i++) {
        acc |= x[i];
    }
    return (((unsigned)acc - 1u) >> 8) & 1u;
}

void mica_secret_wipe(mica_secret *s)
{
    mica_mem_wipe(s, sizeof(*s));
}
