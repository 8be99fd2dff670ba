/* Fuzz target for mica_msg_decode_key_update (src/tls/msg/key_update.c), with an exact
 * oracle: one byte, 0 or 1 (RFC 8446 4.6.3). */
#include "fuzz_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool request = false;
    mica_err err = mica_msg_decode_key_update(data, size, &request);

    if (size != 1) {
        FUZZ_ASSERT(err == MICA_E_DECODE);
    } else if (data[0] > 1) {
        FUZZ_ASSERT(err == MICA_E_ILLEGAL_PARAMETER);
    } else {
        FUZZ_ASSERT(err == MICA_OK && request == (data[0] == 1));
    }
    return 0;
}
