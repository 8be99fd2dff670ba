/*
 * CertificateRequest (RFC 8446 4.3.2), during the handshake or after it (4.6.2).
 */
#include <string.h>

#include "tls/ext/ext.h"
#include "tls/msg.h"

/* decode_ext: one extension the table allows in a CertificateRequest. */
static mica_err decode_ext(uint16_t type, mica_rd d, struct mica_certificate_request *cr)
{
    switch (type) {
    case MICA_EXT_SIGNATURE_ALGORITHMS: return mica_ext_signature_algorithms(d, &cr->sig_algs);
    case MICA_EXT_SIGNATURE_ALGORITHMS_CERT:
        return mica_ext_signature_algorithms(d, &cr->sig_algs_cert);
    case MICA_EXT_STATUS_REQUEST: return mica_ext_status_request(d, true, &cr->status_request);
    case MICA_EXT_CERTIFICATE_AUTHORITIES: {
        /* 4.2.4: DistinguishedName authorities<3..2^16-1>, each opaque <1..2^16-1> */
        mica_rd list, name;
        TRY(mica_rd_vec16(&d, &list, 3, 0xffff));
        TRY(mica_rd_end(&d));
        cr->authorities = list;
        while (list.n > 0) {
            TRY(mica_rd_vec16(&list, &name, 1, 0xffff));
        }
        return MICA_OK;
    }
    default:
        /* oid_filters, signed_certificate_timestamp (known, not
         * used by mica) and unknown types: RFC 8446 4.3.2: "Clients MUST ignore
         * unrecognized extensions." */
        return MICA_OK;
    }
}

mica_err mica_msg_decode_certificate_request(const uint8_t *body, size_t len,
                                             struct mica_certificate_request *cr)
{
    mica_rd r = mica_rd_init(body, len);
    mica_rd exts;
    uint64_t seen = 0;

    memset(cr, 0, sizeof(*cr));
    /* struct { opaque certificate_request_context<0..2^8-1>;
     *          Extension extensions<2..2^16-1>; } CertificateRequest; */
    TRY(mica_rd_vec8(&r, &cr->context, 0, 255));
    TRY(mica_rd_vec16(&r, &exts, 2, 0xffff));
    TRY(mica_rd_end(&r));
    while (exts.n > 0) {
        uint16_t type;
        mica_rd d;

        TRY(mica_ext_next(&exts, &type, &d));
        TRY(mica_ext_check(type, MICA_IN_CR, &seen));
        TRY(decode_ext(type, d, cr));
    }
    cr->present = seen;
    /* RFC 8446 4.3.2: "The "signature_algorithms" extension MUST be specified"; a
     * mandatory extension that is absent is missing_extension (RFC 8446 6.2). */
    ENSURE((seen & mica_ext_bit(MICA_EXT_SIGNATURE_ALGORITHMS)) != 0, MICA_E_MISSING_EXTENSION);
    return MICA_OK;
}

void mica_msg_encode_certificate_request(mica_wr *w, const uint8_t *context, size_t context_len,
                                         const uint16_t *sig_algs, size_t sig_algs_n,
                                         const uint8_t *authorities, size_t authorities_len)
{
    size_t msg, m, exts, ext, list;

    mica_msg_open(w, MICA_HS_CERTIFICATE_REQUEST, &msg);
    mica_wr_open8(w, &m);
    mica_wr_bytes(w, context, context_len);
    mica_wr_close(w, m);
    mica_wr_open16(w, &exts);
    /* 4.3.2: "The "signature_algorithms" extension MUST be specified" */
    mica_wr_u16(w, MICA_EXT_SIGNATURE_ALGORITHMS);
    mica_wr_open16(w, &ext);
    mica_wr_open16(w, &list);
    for (size_t i = 0; i < sig_algs_n; i++) {
        mica_wr_u16(w, sig_algs[i]);
    }
    mica_wr_close(w, list);
    mica_wr_close(w, ext);
    if (authorities_len > 0) {
        mica_wr_u16(w, MICA_EXT_CERTIFICATE_AUTHORITIES);
        mica_wr_open16(w, &ext);
        mica_wr_open16(w, &list);
        mica_wr_bytes(w, authorities, authorities_len);
        mica_wr_close(w, list);
        mica_wr_close(w, ext);
    }
    mica_wr_close(w, exts);
    mica_msg_close(w, msg);
}
