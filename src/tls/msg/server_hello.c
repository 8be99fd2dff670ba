/*
 * ServerHello and HelloRetryRequest (RFC 8446 4.1.3, 4.1.4): one structure, told apart by
 * the random. The client's handler checks the values (version, suite offered, session id
 * echo, compression 0, downgrade sentinel, extensions offered).
 */
#include <string.h>

#include "base/mem.h"
#include "tls/ext/ext.h"
#include "tls/msg.h"

#define RANDOM_LEN 32u

/* RFC 8446 4.1.3: "the HelloRetryRequest message uses the same structure as the
 * ServerHello, but with Random set to the special value of the SHA-256 of
 * "HelloRetryRequest"" */
static const uint8_t hrr_random[RANDOM_LEN] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* decode_ext: one extension the table allows in this ServerHello or HelloRetryRequest. */
static mica_err decode_ext(uint16_t type, mica_rd d, struct mica_server_hello *sh)
{
    switch (type) {
    case MICA_EXT_SUPPORTED_VERSIONS: return mica_ext_supported_versions_sh(d, &sh->version);
    case MICA_EXT_KEY_SHARE:
        if (sh->is_hrr) {
            return mica_ext_key_share_hrr(d, &sh->share.group);
        }
        return mica_ext_key_share_sh(d, &sh->share);
    case MICA_EXT_COOKIE: return mica_ext_cookie(d, &sh->cookie); /* HRR only (the table) */
    case MICA_EXT_PRE_SHARED_KEY:                                 /* SH only (the table) */
        sh->psk_selected = true;
        return mica_ext_psk_selected(d, &sh->psk_identity);
    default:
        /* Unknown types only: the table let nothing else through. Whether the client
         * offered them is mica_ext_check_offered's question (unsupported_extension). */
        return MICA_OK;
    }
}

static mica_err decode_extensions(mica_rd exts, struct mica_server_hello *sh)
{
    unsigned where = sh->is_hrr ? MICA_IN_HRR : MICA_IN_SH;
    uint64_t seen = 0;

    while (exts.n > 0) {
        uint16_t type;
        mica_rd d;

        TRY(mica_ext_next(&exts, &type, &d));
        TRY(mica_ext_check(type, where, &seen));
        TRY(decode_ext(type, d, sh));
    }
    sh->present = seen;
    return MICA_OK;
}

mica_err mica_msg_decode_server_hello(const uint8_t *body, size_t len, struct mica_server_hello *sh)
{
    mica_rd r = mica_rd_init(body, len);
    mica_rd exts;
    bool tls13;

    memset(sh, 0, sizeof(*sh));
    TRY(mica_rd_u16(&r, &sh->legacy_version));
    TRY(mica_rd_bytes(&r, RANDOM_LEN, &sh->random));
    /* RFC 8446 4.1.3: "Upon receiving a message with type server_hello, implementations
     * MUST first examine the Random value and, if it matches this value, process it as
     * described in Section 4.1.4)." */
    sh->is_hrr = mica_ct_eq(sh->random, hrr_random, RANDOM_LEN);
    TRY(mica_rd_vec8(&r, &sh->session_id_echo, 0, 32)); /* legacy_session_id_echo<0..32> */
    TRY(mica_rd_u16(&r, &sh->cipher_suite));
    TRY(mica_rd_u8(&r, &sh->compression));
    /* A TLS 1.2 or older ServerHello may end here (no extensions). present stays 0, so
     * the handler finds no supported_versions and answers protocol_version. */
    if (r.n == 0) {
        return MICA_OK;
    }
    /* Extension extensions<6..2^16-1> */
    TRY(mica_rd_vec16(&r, &exts, 6, 0xffff));
    TRY(mica_rd_end(&r));
    /* RFC 8446 4.2.1: "Clients MUST check for this extension prior to processing the rest
     * of the ServerHello". Without it this is not a TLS 1.3 ServerHello, and the RFC 8446
     * 4.2 table does not apply to it: check the framing only and leave present at 0, so
     * the handler answers protocol_version rather than illegal_parameter. */
    TRY(mica_ext_find_in(exts, MICA_EXT_SUPPORTED_VERSIONS, &tls13));
    if (!tls13) {
        return MICA_OK;
    }
    return decode_extensions(exts, sh);
}
