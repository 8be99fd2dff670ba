/* pre_shared_key and psk_key_exchange_modes (RFC 8446 4.2.9, 4.2.11). */
#include <string.h>

#include "tls/ext/ext.h"

mica_err mica_ext_next_psk_identity(mica_rd *list, mica_rd *identity, uint32_t *age)
{
    mica_rd r = *list;
    mica_rd id;
    uint32_t a;

    /* struct { opaque identity<1..2^16-1>; uint32 obfuscated_ticket_age; } PskIdentity; */
    TRY(mica_rd_vec16(&r, &id, 1, 0xffff));
    TRY(mica_rd_u32(&r, &a));
    *list = r;
    *identity = id;
    *age = a;
    return MICA_OK;
}

mica_err mica_ext_next_psk_binder(mica_rd *list, mica_rd *binder)
{
    /* opaque PskBinderEntry<32..255>; */
    return mica_rd_vec8(list, binder, 32, 255);
}

mica_err mica_ext_psk_offer(mica_rd d, const uint8_t *base, struct mica_psk_offer *psk)
{
    struct mica_psk_offer o;
    mica_rd walk;

    memset(&o, 0, sizeof(o));

    /* struct { PskIdentity identities<7..2^16-1>; PskBinderEntry binders<33..2^16-1>; }
     * OfferedPsks; */
    TRY(mica_rd_vec16(&d, &o.identities, 7, 0xffff));
    /* RFC 8446 4.2.11.2: the binder transcript is the ClientHello "up to and including
     * the PreSharedKeyExtension.identities field", so the binders list (with its length
     * prefix) starts here. */
    o.binders_offset = (size_t)(d.p - base);
    TRY(mica_rd_vec16(&d, &o.binders, 33, 0xffff));
    TRY(mica_rd_end(&d));

    walk = o.identities;
    while (walk.n > 0) {
        mica_rd id;
        uint32_t age;

        TRY(mica_ext_next_psk_identity(&walk, &id, &age));
        o.identities_n++;
    }
    walk = o.binders;
    while (walk.n > 0) {
        mica_rd binder;

        TRY(mica_ext_next_psk_binder(&walk, &binder));
        o.binders_n++;
    }
    /* RFC 8446 4.2.11: binders are "A series of HMAC values, one for each value in the
     * identities list and in the same order". A count mismatch parses but is a forbidden
     * value (BoringSSL answers illegal_parameter too). */
    ENSURE(o.identities_n == o.binders_n, MICA_E_ILLEGAL_PARAMETER);
    *psk = o;
    return MICA_OK;
}

mica_err mica_ext_psk_selected(mica_rd d, uint16_t *identity)
{
    uint16_t id;

    /* case server_hello: uint16 selected_identity; */
    TRY(mica_rd_u16(&d, &id));
    TRY(mica_rd_end(&d));
    *identity = id;
    return MICA_OK;
}

mica_err mica_ext_psk_modes(mica_rd d, uint8_t *modes)
{
    mica_rd l;
    uint8_t m = 0;

    /* struct { PskKeyExchangeMode ke_modes<1..255>; } PskKeyExchangeModes; */
    TRY(mica_rd_vec8(&d, &l, 1, 255));
    TRY(mica_rd_end(&d));
    while (l.n > 0) {
        uint8_t mode;

        TRY(mica_rd_u8(&l, &mode));
        /* enum { psk_ke(0), psk_dhe_ke(1), (255) }: unknown modes are not ours */
        if (mode <= 1) {
            m = (uint8_t)(m | (1u << mode));
        }
    }
    *modes = m;
    return MICA_OK;
}
