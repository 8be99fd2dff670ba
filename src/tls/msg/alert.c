/* Alert (RFC 8446 6). */
#include "tls/msg.h"

mica_err mica_msg_decode_alert(const uint8_t *body, size_t len, uint8_t *level,
                               uint8_t *description)
{
    mica_rd r = mica_rd_init(body, len);
    uint8_t l;
    uint8_t d;

    /* struct { AlertLevel level; AlertDescription description; } Alert; RFC 8446 5.1:
     * "Alert messages (Section 6) MUST NOT be fragmented across records, and multiple
     * alert messages MUST NOT be coalesced into a single TLSPlaintext record." So a
     * record holds exactly two bytes. Level and description values are the handler's. */
    TRY(mica_rd_u8(&r, &l));
    TRY(mica_rd_u8(&r, &d));
    TRY(mica_rd_end(&r));
    *level = l;
    *description = d;
    return MICA_OK;
}
