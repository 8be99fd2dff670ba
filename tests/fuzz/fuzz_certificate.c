/* Fuzz target for mica_msg_decode_certificate and mica_msg_next_cert_entry
 * (src/tls/msg/certificate.c): a Certificate body. */
#include <string.h>

#include "fuzz_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mica_certificate a, b;
    mica_err err = mica_msg_decode_certificate(data, size, &a);
    mica_rd l;
    size_t n = 0;

    FUZZ_ASSERT(fuzz_expected(err));
    FUZZ_ASSERT(mica_msg_decode_certificate(data, size, &b) == err);
    if (err != MICA_OK) {
        return 0;
    }
    FUZZ_ASSERT(memcmp(&a, &b, sizeof(a)) == 0);
    fuzz_inside(a.context, data, size);
    l = a.entries;
    fuzz_inside(l, data, size);
    while (l.n > 0) {
        struct mica_cert_entry e;

        FUZZ_ASSERT(mica_msg_next_cert_entry(&l, &e) == MICA_OK);
        FUZZ_ASSERT(e.cert_data.n >= 1);
        fuzz_inside(e.cert_data, data, size);
        fuzz_inside(e.ocsp_response, data, size);
        FUZZ_ASSERT((e.ocsp_response.n > 0) ==
                    ((e.present & mica_ext_bit(MICA_EXT_STATUS_REQUEST)) != 0));
        n++;
    }
    FUZZ_ASSERT(n == a.entries_n);
    return 0;
}
