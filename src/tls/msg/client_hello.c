/*
 * ClientHello (RFC 8446 4.1.2): the decoder. It checks syntax only; the server's handler
 * decides what the values mean (is 0x0304 offered, is the compression method null, is
 * pre_shared_key the last extension: see last_ext).
 */
#include <string.h>

#include "tls/ext/ext.h"
#include "tls/msg.h"

#define RANDOM_LEN 32u

/* decode_ext: one extension the table allows in a ClientHello. */
static mica_err decode_ext(uint16_t type, mica_rd d, const uint8_t *msg,
                           struct mica_client_hello *ch)
{
    switch (type) {
    case MICA_EXT_SERVER_NAME: return mica_ext_server_name_ch(d, &ch->server_name);
    case MICA_EXT_SUPPORTED_GROUPS: return mica_ext_supported_groups(d, &ch->groups);
    case MICA_EXT_SIGNATURE_ALGORITHMS: return mica_ext_signature_algorithms(d, &ch->sig_algs);
    case MICA_EXT_SIGNATURE_ALGORITHMS_CERT:
        return mica_ext_signature_algorithms(d, &ch->sig_algs_cert);
    case MICA_EXT_SUPPORTED_VERSIONS: return mica_ext_supported_versions_ch(d, &ch->versions);
    case MICA_EXT_KEY_SHARE: return mica_ext_key_share_ch(d, &ch->key_shares);
    case MICA_EXT_COOKIE: return mica_ext_cookie(d, &ch->cookie);
    case MICA_EXT_PSK_KEY_EXCHANGE_MODES: return mica_ext_psk_modes(d, &ch->psk_modes);
    case MICA_EXT_PRE_SHARED_KEY: return mica_ext_psk_offer(d, msg, &ch->psk);
    case MICA_EXT_ALPN: return mica_ext_alpn_ch(d, &ch->alpn);
    case MICA_EXT_RECORD_SIZE_LIMIT: return mica_ext_record_size_limit(d, &ch->record_size_limit);
    case MICA_EXT_STATUS_REQUEST: return mica_ext_status_request(d, false, &ch->status_request);
    case MICA_EXT_EARLY_DATA:
        /* case client_hello: struct {} Empty; */
        ch->early_data = true;
        return mica_ext_empty(d);
    case MICA_EXT_POST_HANDSHAKE_AUTH:
        /* struct {} PostHandshakeAuth; */
        ch->post_handshake_auth = true;
        return mica_ext_empty(d);
    default:
        /* Known extensions mica does not use (padding, max_fragment_length, ...) and
         * unknown ones, GREASE included: RFC 8446 4.1.2: "Servers MUST ignore
         * unrecognized extensions." */
        return MICA_OK;
    }
}

static mica_err decode_extensions(mica_rd exts, const uint8_t *msg, struct mica_client_hello *ch)
{
    uint64_t seen = 0;

    while (exts.n > 0) {
        uint16_t type;
        mica_rd d;

        TRY(mica_ext_next(&exts, &type, &d));
        TRY(mica_ext_check(type, MICA_IN_CH, &seen));
        TRY(decode_ext(type, d, msg, ch));
        ch->last_ext = type;
    }
    ch->present = seen;
    return MICA_OK;
}

mica_err mica_msg_decode_client_hello(const uint8_t *msg, size_t msg_len,
                                      struct mica_client_hello *ch)
{
    mica_rd r = mica_rd_init(msg, msg_len);
    uint8_t type;
    uint32_t len;
    mica_rd exts;

    memset(ch, 0, sizeof(*ch));
    /* the header, read here because binders_offset counts it (RFC 8446 4.2.11.2) */
    TRY(mica_rd_u8(&r, &type));
    TRY(mica_rd_u24(&r, &len));
    ENSURE(type == MICA_HS_CLIENT_HELLO, MICA_E_DECODE);
    ENSURE(len == r.n, MICA_E_DECODE);

    TRY(mica_rd_u16(&r, &ch->legacy_version));
    TRY(mica_rd_bytes(&r, RANDOM_LEN, &ch->random));
    TRY(mica_rd_vec8(&r, &ch->session_id, 0, 32)); /* opaque legacy_session_id<0..32> */
    /* CipherSuite cipher_suites<2..2^16-2> */
    TRY(mica_ext_read_u16_list(&r, &ch->cipher_suites, 2, 0xfffe));
    /* opaque legacy_compression_methods<1..2^8-1>: "exactly one byte, set to zero" is a
     * TLS 1.3 rule for the server's handler (illegal_parameter), not syntax */
    TRY(mica_rd_vec8(&r, &ch->compression, 1, 255));
    /* RFC 8446 4.1.2: "The presence of extensions can be detected by determining whether
     * there are bytes following the compression_methods field at the end of the
     * ClientHello." */
    if (r.n == 0) {
        return MICA_OK;
    }
    ch->has_extensions = true;
    /* Extension extensions<8..2^16-1>; RFC 8446 4.1.2: a valid extensions block "with no
     * data following", else "decode_error" */
    TRY(mica_rd_vec16(&r, &exts, 8, 0xffff));
    TRY(mica_rd_end(&r));
    return decode_extensions(exts, msg, ch);
}
