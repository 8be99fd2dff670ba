/* Fuzz target for mica_msg_decode_new_session_ticket
 * (src/tls/msg/new_session_ticket.c): a NewSessionTicket body. */
#include <string.h>

#include "fuzz_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mica_new_session_ticket a, b;
    mica_err err = mica_msg_decode_new_session_ticket(data, size, &a);

    FUZZ_ASSERT(fuzz_expected(err));
    FUZZ_ASSERT(mica_msg_decode_new_session_ticket(data, size, &b) == err);
    if (err != MICA_OK) {
        return 0;
    }
    FUZZ_ASSERT(memcmp(&a, &b, sizeof(a)) == 0);
    fuzz_inside(a.nonce, data, size);
    fuzz_inside(a.ticket, data, size);
    FUZZ_ASSERT(a.ticket.n >= 1);
    FUZZ_ASSERT((a.present & ~(mica_ext_bit(MICA_EXT_EARLY_DATA) | MICA_EXT_UNKNOWN_BIT)) == 0);
    if ((a.present & mica_ext_bit(MICA_EXT_EARLY_DATA)) == 0) {
        FUZZ_ASSERT(a.max_early_data == 0);
    }
    return 0;
}
