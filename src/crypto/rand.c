#include "crypto/gate.h"

#include <limits.h>
#include <openssl/rand.h>

static mica_rand_hook hook;
static void *hook_ctx;

void mica_rand_set_hook(mica_rand_hook h, void *ctx)
{
    hook = h;
    hook_ctx = ctx;
}

mica_err mica_rand(uint8_t *buf, size_t len)
{
    if (hook != NULL) {
        hook(buf, len, hook_ctx);
        return MICA_OK;
    }
    ENSURE(len <= INT_MAX, MICA_E_ARGUMENT);
    if (len > 0 && RAND_bytes(buf, (int)len) != 1) {
        return mica_cr_fail(MICA_E_CRYPTO);
    }
    return MICA_OK;
}
