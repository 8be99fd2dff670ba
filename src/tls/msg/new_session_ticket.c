/* NewSessionTicket (RFC 8446 4.6.1). */
#include <string.h>

#include "tls/ext/ext.h"
#include "tls/msg.h"

mica_err mica_msg_decode_new_session_ticket(const uint8_t *body, size_t len,
                                            struct mica_new_session_ticket *nst)
{
    mica_rd r = mica_rd_init(body, len);
    mica_rd exts;
    uint64_t seen = 0;

    memset(nst, 0, sizeof(*nst));
    /* struct { uint32 ticket_lifetime; uint32 ticket_age_add; opaque ticket_nonce<0..255>;
     *          opaque ticket<1..2^16-1>; Extension extensions<0..2^16-2>; }
     * The 7-day lifetime cap (4.6.1) is the client's to apply: a longer ticket is
     * discarded, not an error. */
    TRY(mica_rd_u32(&r, &nst->lifetime));
    TRY(mica_rd_u32(&r, &nst->age_add));
    TRY(mica_rd_vec8(&r, &nst->nonce, 0, 255));
    TRY(mica_rd_vec16(&r, &nst->ticket, 1, 0xffff));
    TRY(mica_rd_vec16(&r, &exts, 0, 0xfffe));
    TRY(mica_rd_end(&r));
    while (exts.n > 0) {
        uint16_t type;
        mica_rd d;

        TRY(mica_ext_next(&exts, &type, &d));
        TRY(mica_ext_check(type, MICA_IN_NST, &seen));
        /* RFC 8446 4.6.1: "Clients MUST ignore unrecognized extensions." early_data is
         * the only one the table allows here. */
        if (type == MICA_EXT_EARLY_DATA) {
            TRY(mica_ext_early_data_nst(d, &nst->max_early_data));
        }
    }
    nst->present = seen;
    return MICA_OK;
}
