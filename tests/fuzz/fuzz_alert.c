/* Fuzz target for mica_msg_decode_alert (src/tls/msg/alert.c), with an exact oracle:
 * exactly two bytes (RFC 8446 6, 5.1). */
#include "fuzz_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t level = 0;
    uint8_t description = 0;
    mica_err err = mica_msg_decode_alert(data, size, &level, &description);

    if (size != 2) {
        FUZZ_ASSERT(err == MICA_E_DECODE);
    } else {
        FUZZ_ASSERT(err == MICA_OK && level == data[0] && description == data[1]);
    }
    return 0;
}
