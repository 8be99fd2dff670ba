/* key_share (RFC 8446 4.2.8). */
#include "tls/ext/ext.h"

mica_err mica_ext_next_key_share(mica_rd *list, struct mica_key_share_entry *e)
{
    mica_rd r = *list;
    uint16_t group;
    mica_rd key;

    /* struct { NamedGroup group; opaque key_exchange<1..2^16-1>; } KeyShareEntry; */
    TRY(mica_rd_u16(&r, &group));
    TRY(mica_rd_vec16(&r, &key, 1, 0xffff));
    *list = r;
    e->group = group;
    e->key = key;
    return MICA_OK;
}

mica_err mica_ext_key_share_ch(mica_rd d, mica_rd *shares)
{
    mica_rd l;
    mica_rd walk;

    /* struct { KeyShareEntry client_shares<0..2^16-1>; } KeyShareClientHello; */
    TRY(mica_rd_vec16(&d, &l, 0, 0xffff));
    TRY(mica_rd_end(&d));
    walk = l;
    while (walk.n > 0) {
        struct mica_key_share_entry e;

        TRY(mica_ext_next_key_share(&walk, &e));
    }
    *shares = l;
    return MICA_OK;
}

mica_err mica_ext_key_share_sh(mica_rd d, struct mica_key_share_entry *e)
{
    struct mica_key_share_entry share;

    /* struct { KeyShareEntry server_share; } KeyShareServerHello; */
    TRY(mica_ext_next_key_share(&d, &share));
    TRY(mica_rd_end(&d));
    /* field by field: a struct copy would carry the local's uninitialised padding into a
     * result the caller zeroed (valgrind: fuzz_server_hello compares two decodes) */
    e->group = share.group;
    e->key = share.key;
    return MICA_OK;
}

mica_err mica_ext_key_share_hrr(mica_rd d, uint16_t *group)
{
    uint16_t g;

    /* struct { NamedGroup selected_group; } KeyShareHelloRetryRequest; */
    TRY(mica_rd_u16(&d, &g));
    TRY(mica_rd_end(&d));
    *group = g;
    return MICA_OK;
}
