/* Fuzz target for mica_msg_decode_encrypted_extensions
 * (src/tls/msg/encrypted_extensions.c): an EncryptedExtensions body. */
#include <string.h>

#include "fuzz_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mica_encrypted_extensions a, b;
    mica_err err = mica_msg_decode_encrypted_extensions(data, size, &a);

    FUZZ_ASSERT(fuzz_expected(err));
    FUZZ_ASSERT(mica_msg_decode_encrypted_extensions(data, size, &b) == err);
    if (err != MICA_OK) {
        return 0;
    }
    FUZZ_ASSERT(memcmp(&a, &b, sizeof(a)) == 0);
    fuzz_u16_list(a.groups, data, size);
    fuzz_inside(a.alpn_selected, data, size);
    if ((a.present & mica_ext_bit(MICA_EXT_ALPN)) != 0) {
        FUZZ_ASSERT(a.alpn_selected.n >= 1 && a.alpn_selected.n <= 255);
    }
    if ((a.present & mica_ext_bit(MICA_EXT_RECORD_SIZE_LIMIT)) != 0) {
        FUZZ_ASSERT(a.record_size_limit >= 64);
    }
    FUZZ_ASSERT(a.server_name_ack == ((a.present & mica_ext_bit(MICA_EXT_SERVER_NAME)) != 0));
    FUZZ_ASSERT(a.early_data == ((a.present & mica_ext_bit(MICA_EXT_EARLY_DATA)) != 0));
    /* nothing outside the RFC 8446 4.2 EE column */
    FUZZ_ASSERT((a.present &
                 (mica_ext_bit(MICA_EXT_KEY_SHARE) | mica_ext_bit(MICA_EXT_PRE_SHARED_KEY))) == 0);
    return 0;
}
