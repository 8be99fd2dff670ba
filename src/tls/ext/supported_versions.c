/* supported_versions (RFC 8446 4.2.1). */
#include "tls/ext/ext.h"

mica_err mica_ext_supported_versions_ch(mica_rd d, mica_rd *versions)
{
    mica_rd l;
    mica_rd walk;

    /* case client_hello: ProtocolVersion versions<2..254>; */
    TRY(mica_rd_vec8(&d, &l, 2, 254));
    TRY(mica_rd_end(&d));
    walk = l;
    while (walk.n > 0) {
        uint16_t v;

        TRY(mica_rd_u16(&walk, &v));
    }
    *versions = l;
    return MICA_OK;
}

mica_err mica_ext_supported_versions_sh(mica_rd d, uint16_t *version)
{
    uint16_t v;

    /* case server_hello: (and HelloRetryRequest) ProtocolVersion selected_version; */
    TRY(mica_rd_u16(&d, &v));
    TRY(mica_rd_end(&d));
    *version = v;
    return MICA_OK;
}
