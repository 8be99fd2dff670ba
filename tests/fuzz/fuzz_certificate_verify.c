/* Fuzz target for mica_msg_decode_certificate_verify
 * (src/tls/msg/certificate_verify.c). The syntax is small enough for an exact oracle. */
#include <string.h>

#include "fuzz_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mica_certificate_verify cv;
    mica_err err = mica_msg_decode_certificate_verify(data, size, &cv);
    int ok = size >= 4 && (((size_t)data[2] << 8) | data[3]) == size - 4;

    FUZZ_ASSERT(err == (ok ? MICA_OK : MICA_E_DECODE));
    if (err != MICA_OK) {
        return 0;
    }
    FUZZ_ASSERT(cv.scheme == (((unsigned)data[0] << 8) | data[1]));
    FUZZ_ASSERT(cv.signature.n == size - 4);
    FUZZ_ASSERT(cv.signature.n == 0 || cv.signature.p == data + 4);
    fuzz_inside(cv.signature, data, size);
    return 0;
}
