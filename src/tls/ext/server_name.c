/*
 * server_name (RFC 6066 section 3). In a ClientHello a ServerNameList; in
 * EncryptedExtensions it is empty (mica_ext_empty).
 */
#include "tls/ext/ext.h"

#define NAME_TYPE_HOST_NAME 0u
#define MAX_HOST_NAME 255u /* a DNS name is at most 253 bytes (RFC 1035 2.3.4) */

mica_err mica_ext_server_name_ch(mica_rd d, mica_rd *host)
{
    mica_rd list;
    mica_rd found = mica_rd_init(NULL, 0);
    bool have_host = false;

    /* struct { ServerName server_name_list<1..2^16-1> } ServerNameList; */
    TRY(mica_rd_vec16(&d, &list, 1, 0xffff));
    TRY(mica_rd_end(&d));
    while (list.n > 0) {
        uint8_t name_type;
        mica_rd name;

        TRY(mica_rd_u8(&list, &name_type));
        /* RFC 6066 3: "all future data structures associated with new NameTypes MUST
         * begin with a 16-bit length field", so every entry is skipped the same way. */
        TRY(mica_rd_vec16(&list, &name, 0, 0xffff));
        if (name_type != NAME_TYPE_HOST_NAME) {
            continue;
        }
        /* RFC 6066 3: "The ServerNameList MUST NOT contain more than one name of the
         * same name_type." */
        ENSURE(!have_host, MICA_E_DECODE);
        /* opaque HostName<1..2^16-1>, bounded by the longest DNS name (msg.h) */
        ENSURE(name.n >= 1 && name.n <= MAX_HOST_NAME, MICA_E_DECODE);
        found = name;
        have_host = true;
    }
    *host = found;
    return MICA_OK;
}
