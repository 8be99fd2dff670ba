/*
 * EncryptedExtensions (RFC 8446 4.3.1): the server's answers that need no key exchange.
 * The client's handler checks them against its offer (mica_ext_check_offered).
 */
#include <string.h>

#include "tls/ext/ext.h"
#include "tls/msg.h"

/* decode_ext: one extension the table allows in EncryptedExtensions. */
static mica_err decode_ext(uint16_t type, mica_rd d, struct mica_encrypted_extensions *ee)
{
    switch (type) {
    case MICA_EXT_SERVER_NAME:
        /* RFC 6066 3: the server's answer is a "server_name" extension whose
         * "extension_data" field SHALL be empty */
        ee->server_name_ack = true;
        return mica_ext_empty(d);
    case MICA_EXT_SUPPORTED_GROUPS: return mica_ext_supported_groups(d, &ee->groups);
    case MICA_EXT_ALPN: return mica_ext_alpn_ee(d, &ee->alpn_selected);
    case MICA_EXT_RECORD_SIZE_LIMIT: return mica_ext_record_size_limit(d, &ee->record_size_limit);
    case MICA_EXT_EARLY_DATA:
        /* case encrypted_extensions: struct {} Empty; */
        ee->early_data = true;
        return mica_ext_empty(d);
    default:
        /* Known answers mica never asks for (max_fragment_length, use_srtp, heartbeat,
         * certificate types) and unknown types: mica_ext_check_offered rejects them as
         * unsupported_extension, since mica offers none of them. */
        return MICA_OK;
    }
}

mica_err mica_msg_decode_encrypted_extensions(const uint8_t *body, size_t len,
                                              struct mica_encrypted_extensions *ee)
{
    mica_rd r = mica_rd_init(body, len);
    mica_rd exts;
    uint64_t seen = 0;

    memset(ee, 0, sizeof(*ee));
    /* struct { Extension extensions<0..2^16-1>; } EncryptedExtensions; */
    TRY(mica_rd_vec16(&r, &exts, 0, 0xffff));
    TRY(mica_rd_end(&r));
    while (exts.n > 0) {
        uint16_t type;
        mica_rd d;

        TRY(mica_ext_next(&exts, &type, &d));
        TRY(mica_ext_check(type, MICA_IN_EE, &seen));
        TRY(decode_ext(type, d, ee));
    }
    ee->present = seen;
    return MICA_OK;
}
