/*
 * The RFC 8446 section 4.2 table as data, and the three per-message rules that it
 * decides for every extension of every message (STYLE.md 2.5):
 *   not allowed in this message -> illegal_parameter (mica_ext_check)
 *   a second one of a type      -> illegal_parameter (mica_ext_check)
 *   answered but never offered  -> unsupported_extension (mica_ext_check_offered)
 *
 * Row i has index i: the bit of a type in seen/offered/present masks is 1 << index.
 */
#include "tls/ext/ext.h"

#define CH MICA_IN_CH
#define SH MICA_IN_SH
#define HRR MICA_IN_HRR
#define EE MICA_IN_EE
#define CT MICA_IN_CT
#define CR MICA_IN_CR
#define NST MICA_IN_NST

/* RFC 8446 4.2, the table "the messages where a given extension may appear", plus
 * record_size_limit from RFC 8449 5 (CH, EE). Keep index equal to the row number;
 * tests/unit/test_msg.c checks it. */
static const struct mica_ext_row ext_table[] = {
    {MICA_EXT_SERVER_NAME, "server_name", CH | EE, 0},
    {MICA_EXT_MAX_FRAGMENT_LENGTH, "max_fragment_length", CH | EE, 1},
    {MICA_EXT_STATUS_REQUEST, "status_request", CH | CR | CT, 2},
    {MICA_EXT_SUPPORTED_GROUPS, "supported_groups", CH | EE, 3},
    {MICA_EXT_SIGNATURE_ALGORITHMS, "signature_algorithms", CH | CR, 4},
    {MICA_EXT_USE_SRTP, "use_srtp", CH | EE, 5},
    {MICA_EXT_HEARTBEAT, "heartbeat", CH | EE, 6},
    {MICA_EXT_ALPN, "application_layer_protocol_negotiation", CH | EE, 7},
    {MICA_EXT_SCT, "signed_certificate_timestamp", CH | CR | CT, 8},
    {MICA_EXT_CLIENT_CERTIFICATE_TYPE, "client_certificate_type", CH | EE, 9},
    {MICA_EXT_SERVER_CERTIFICATE_TYPE, "server_certificate_type", CH | EE, 10},
    {MICA_EXT_PADDING, "padding", CH, 11},
    {MICA_EXT_RECORD_SIZE_LIMIT, "record_size_limit", CH | EE, 12},
    {MICA_EXT_PRE_SHARED_KEY, "pre_shared_key", CH | SH, 13},
    {MICA_EXT_EARLY_DATA, "early_data", CH | EE | NST, 14},
    {MICA_EXT_SUPPORTED_VERSIONS, "supported_versions", CH | SH | HRR, 15},
    {MICA_EXT_COOKIE, "cookie", CH | HRR, 16},
    {MICA_EXT_PSK_KEY_EXCHANGE_MODES, "psk_key_exchange_modes", CH, 17},
    {MICA_EXT_CERTIFICATE_AUTHORITIES, "certificate_authorities", CH | CR, 18},
    {MICA_EXT_OID_FILTERS, "oid_filters", CR, 19},
    {MICA_EXT_POST_HANDSHAKE_AUTH, "post_handshake_auth", CH, 20},
    {MICA_EXT_SIGNATURE_ALGORITHMS_CERT, "signature_algorithms_cert", CH | CR, 21},
    {MICA_EXT_KEY_SHARE, "key_share", CH | SH | HRR, 22},
};

const struct mica_ext_row *mica_ext_find(uint16_t type)
{
    for (size_t i = 0; i < MICA_ARRAY_LEN(ext_table); i++) {
        if (ext_table[i].type == type) {
            return &ext_table[i];
        }
    }
    return NULL; /* unknown, GREASE (RFC 8701) included: ignored by the callers */
}

uint64_t mica_ext_bit(uint16_t type)
{
    const struct mica_ext_row *row = mica_ext_find(type);

    return row != NULL ? (uint64_t)1 << row->index : 0;
}

mica_err mica_ext_check(uint16_t type, unsigned where, uint64_t *seen)
{
    const struct mica_ext_row *row = mica_ext_find(type);
    uint64_t bit;

    /* RFC 8446 4.1.2: "Servers MUST ignore unrecognized extensions." (and so does a
     * client here; mica_ext_check_offered catches what it never offered) */
    if (row == NULL) {
        *seen |= MICA_EXT_UNKNOWN_BIT; /* for mica_ext_check_offered; never a duplicate */
        return MICA_OK;
    }
    /* RFC 8446 4.2: "If an implementation receives an extension which it recognizes and
     * which is not specified for the message in which it appears, it MUST abort the
     * handshake with an "illegal_parameter" alert." */
    ENSURE((row->where & where) != 0, MICA_E_ILLEGAL_PARAMETER);
    /* RFC 8446 4.2: "There MUST NOT be more than one extension of the same type in a
     * given extension block." */
    bit = (uint64_t)1 << row->index;
    ENSURE((*seen & bit) == 0, MICA_E_ILLEGAL_PARAMETER);
    *seen |= bit;
    return MICA_OK;
}

mica_err mica_ext_check_offered(uint64_t offered, uint64_t sent, unsigned where, uint16_t *which)
{
    /* RFC 8446 4.2: the server "MAY also send unsolicited extensions in the
     * NewSessionTicket", and a CertificateRequest carries requests, not responses. */
    if ((where & (MICA_IN_CR | MICA_IN_NST)) != 0) {
        return MICA_OK;
    }
    /* an extension mica does not know cannot have been offered by mica, GREASE included
     * (RFC 8701 3.1: a client "MUST reject GREASE values when negotiated by the server") */
    if ((sent & MICA_EXT_UNKNOWN_BIT) != 0) {
        *which = MICA_EXT_UNKNOWN;
        return MICA_E_UNSUPPORTED_EXTENSION;
    }
    for (size_t i = 0; i < MICA_ARRAY_LEN(ext_table); i++) {
        const struct mica_ext_row *row = &ext_table[i];
        uint64_t bit = (uint64_t)1 << row->index;

        if ((sent & bit) == 0 || (offered & bit) != 0) {
            continue;
        }
        /* RFC 8446 4.1.4: "a HelloRetryRequest MUST NOT contain any extensions that were
         * not first offered by the client in its ClientHello, with the exception of
         * optionally the "cookie" (see Section 4.2.2) extension." */
        if (row->type == MICA_EXT_COOKIE && (where & MICA_IN_HRR) != 0) {
            continue;
        }
        /* RFC 8446 4.2: "Upon receiving such an extension, an endpoint MUST abort the
         * handshake with an "unsupported_extension" alert." */
        *which = row->type;
        return MICA_E_UNSUPPORTED_EXTENSION;
    }
    return MICA_OK;
}

mica_err mica_ext_next(mica_rd *exts, uint16_t *type, mica_rd *data)
{
    uint16_t t;
    mica_rd d;
    mica_rd r = *exts;

    /* struct { ExtensionType extension_type; opaque extension_data<0..2^16-1>; } */
    TRY(mica_rd_u16(&r, &t));
    TRY(mica_rd_vec16(&r, &d, 0, 0xffff));
    *exts = r;
    *type = t;
    *data = d;
    return MICA_OK;
}

mica_err mica_ext_find_in(mica_rd exts, uint16_t type, bool *found)
{
    bool f = false;

    while (exts.n > 0) {
        uint16_t t;
        mica_rd d;

        TRY(mica_ext_next(&exts, &t, &d));
        f = f || t == type;
    }
    *found = f;
    return MICA_OK;
}

mica_err mica_ext_empty(mica_rd d)
{
    return mica_rd_end(&d);
}

mica_err mica_ext_read_u16_list(mica_rd *r, mica_rd *list, size_t min, size_t max)
{
    mica_rd t = *r;
    mica_rd l;
    mica_rd walk;

    TRY(mica_rd_vec16(&t, &l, min, max));
    walk = l;
    while (walk.n > 0) {
        uint16_t v;

        TRY(mica_rd_u16(&walk, &v));
    }
    *r = t;
    *list = l;
    return MICA_OK;
}

mica_err mica_ext_u16_list(mica_rd d, size_t min, size_t max, mica_rd *list)
{
    mica_rd l;

    TRY(mica_ext_read_u16_list(&d, &l, min, max));
    TRY(mica_rd_end(&d));
    *list = l;
    return MICA_OK;
}
