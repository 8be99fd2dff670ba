/* application_layer_protocol_negotiation (RFC 7301 3.1). */
#include "tls/ext/ext.h"

mica_err mica_ext_next_protocol_name(mica_rd *list, mica_rd *name)
{
    /* opaque ProtocolName<1..2^8-1>; */
    return mica_rd_vec8(list, name, 1, 255);
}

mica_err mica_ext_alpn_ch(mica_rd d, mica_rd *list)
{
    mica_rd l;
    mica_rd walk;

    /* struct { ProtocolName protocol_name_list<2..2^16-1> } ProtocolNameList; */
    TRY(mica_rd_vec16(&d, &l, 2, 0xffff));
    TRY(mica_rd_end(&d));
    walk = l;
    while (walk.n > 0) {
        mica_rd name;

        TRY(mica_ext_next_protocol_name(&walk, &name));
    }
    *list = l;
    return MICA_OK;
}

mica_err mica_ext_alpn_ee(mica_rd d, mica_rd *name)
{
    mica_rd l;
    mica_rd one;

    TRY(mica_rd_vec16(&d, &l, 2, 0xffff));
    TRY(mica_rd_end(&d));
    /* RFC 7301 3.1: the server's "ProtocolNameList" MUST contain exactly one
     * "ProtocolName". */
    TRY(mica_ext_next_protocol_name(&l, &one));
    TRY(mica_rd_end(&l));
    *name = one;
    return MICA_OK;
}
