/* Fuzz target for mica_msg_decode_server_hello (src/tls/msg/server_hello.c): a ServerHello
 * or HelloRetryRequest body. */
#include <string.h>

#include "fuzz_msg.h"

static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mica_server_hello a, b;
    mica_err err = mica_msg_decode_server_hello(data, size, &a);
    uint64_t only_hrr = mica_ext_bit(MICA_EXT_COOKIE);
    uint64_t only_sh = mica_ext_bit(MICA_EXT_PRE_SHARED_KEY);

    FUZZ_ASSERT(fuzz_expected(err));
    FUZZ_ASSERT(mica_msg_decode_server_hello(data, size, &b) == err);
    if (err != MICA_OK) {
        return 0;
    }
    FUZZ_ASSERT(memcmp(&a, &b, sizeof(a)) == 0);
    fuzz_inside(mica_rd_init(a.random, 32), data, size);
    FUZZ_ASSERT(a.is_hrr == (memcmp(a.random, hrr_random, 32) == 0));
    fuzz_inside(a.session_id_echo, data, size);
    FUZZ_ASSERT(a.session_id_echo.n <= 32);
    fuzz_inside(a.cookie, data, size);
    if (a.is_hrr) {
        FUZZ_ASSERT((a.present & only_sh) == 0 && !a.psk_selected && a.share.key.n == 0);
    } else {
        FUZZ_ASSERT((a.present & only_hrr) == 0 && a.cookie.n == 0);
    }
    if ((a.present & mica_ext_bit(MICA_EXT_KEY_SHARE)) != 0 && !a.is_hrr) {
        FUZZ_ASSERT(a.share.key.n >= 1);
        fuzz_inside(a.share.key, data, size);
    }
    FUZZ_ASSERT(a.psk_selected == ((a.present & only_sh) != 0));
    return 0;
}
