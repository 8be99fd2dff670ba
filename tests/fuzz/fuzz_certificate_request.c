/* Fuzz target for mica_msg_decode_certificate_request
 * (src/tls/msg/certificate_request.c): a CertificateRequest body. */
#include <string.h>

#include "fuzz_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mica_certificate_request a, b;
    mica_err err = mica_msg_decode_certificate_request(data, size, &a);

    FUZZ_ASSERT(fuzz_expected(err) || err == MICA_E_MISSING_EXTENSION);
    FUZZ_ASSERT(mica_msg_decode_certificate_request(data, size, &b) == err);
    if (err != MICA_OK) {
        return 0;
    }
    FUZZ_ASSERT(memcmp(&a, &b, sizeof(a)) == 0);
    fuzz_inside(a.context, data, size);
    FUZZ_ASSERT(fuzz_u16_list(a.sig_algs, data, size) >= 1);
    fuzz_u16_list(a.sig_algs_cert, data, size);
    return 0;
}
