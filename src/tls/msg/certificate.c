/*
 * Certificate (RFC 8446 4.4.2). The decoder walks every CertificateEntry with
 * mica_msg_next_cert_entry, so the handler can iterate the list again knowing it parses.
 * Whether the list may be empty (a server's may not, 4.4.2.4) is the handler's rule.
 */
#include <string.h>

#include "tls/ext/ext.h"
#include "tls/msg.h"

static mica_err decode_entry_ext(uint16_t type, mica_rd d, struct mica_cert_entry *e)
{
    switch (type) {
    case MICA_EXT_STATUS_REQUEST: return mica_ext_status_response(d, &e->ocsp_response);
    default:
        /* signed_certificate_timestamp (known, not used by mica) and unknown types;
         * whether they answer a request is mica_ext_check_offered's question */
        return MICA_OK;
    }
}

mica_err mica_msg_next_cert_entry(mica_rd *list, struct mica_cert_entry *e)
{
    mica_rd r = *list;
    struct mica_cert_entry out;
    mica_rd exts;
    uint64_t seen = 0;

    memset(&out, 0, sizeof(out));
    /* struct { opaque cert_data<1..2^24-1>; Extension extensions<0..2^16-1>; }
     * CertificateEntry; (the raw public key form has the same syntax) */
    TRY(mica_rd_vec24(&r, &out.cert_data, 1, 0xffffff));
    TRY(mica_rd_vec16(&r, &exts, 0, 0xffff));
    while (exts.n > 0) {
        uint16_t type;
        mica_rd d;

        TRY(mica_ext_next(&exts, &type, &d));
        TRY(mica_ext_check(type, MICA_IN_CT, &seen));
        TRY(decode_entry_ext(type, d, &out));
    }
    out.present = seen;
    *list = r;
    *e = out;
    return MICA_OK;
}

mica_err mica_msg_decode_certificate(const uint8_t *body, size_t len, struct mica_certificate *c)
{
    mica_rd r = mica_rd_init(body, len);
    mica_rd walk;

    memset(c, 0, sizeof(*c));
    /* struct { opaque certificate_request_context<0..2^8-1>;
     *          CertificateEntry certificate_list<0..2^24-1>; } Certificate; */
    TRY(mica_rd_vec8(&r, &c->context, 0, 255));
    TRY(mica_rd_vec24(&r, &c->entries, 0, 0xffffff));
    TRY(mica_rd_end(&r));
    walk = c->entries;
    while (walk.n > 0) {
        struct mica_cert_entry e;

        TRY(mica_msg_next_cert_entry(&walk, &e));
        c->entries_n++;
    }
    return MICA_OK;
}
