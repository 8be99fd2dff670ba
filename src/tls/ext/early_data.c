/* early_data (RFC 8446 4.2.10): empty in ClientHello and EncryptedExtensions
 * (mica_ext_empty), max_early_data_size in NewSessionTicket. */
#include "tls/ext/ext.h"

mica_err mica_ext_early_data_nst(mica_rd d, uint32_t *max)
{
    uint32_t v;

    /* case new_session_ticket: uint32 max_early_data_size; */
    TRY(mica_rd_u32(&d, &v));
    TRY(mica_rd_end(&d));
    *max = v;
    return MICA_OK;
}
