/* KeyUpdate (RFC 8446 4.6.3). */
#include "tls/msg.h"

mica_err mica_msg_decode_key_update(const uint8_t *body, size_t len, bool *request)
{
    mica_rd r = mica_rd_init(body, len);
    uint8_t v;

    /* enum { update_not_requested(0), update_requested(1), (255) } KeyUpdateRequest;
     * struct { KeyUpdateRequest request_update; } KeyUpdate; */
    TRY(mica_rd_u8(&r, &v));
    TRY(mica_rd_end(&r));
    /* RFC 8446 4.6.3: "If an implementation receives any other value, it MUST terminate
     * the connection with an "illegal_parameter" alert." */
    ENSURE(v <= 1, MICA_E_ILLEGAL_PARAMETER);
    *request = v == 1;
    return MICA_OK;
}
