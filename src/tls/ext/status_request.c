/* status_request (RFC 6066 8; RFC 8446 4.4.2.1 for its TLS 1.3 placement). */
#include "tls/ext/ext.h"

#define STATUS_TYPE_OCSP 1u

mica_err mica_ext_status_request(mica_rd d, bool allow_empty, bool *ocsp)
{
    uint8_t status_type;
    mica_rd ids;
    mica_rd exts;

    /* RFC 8446 4.4.2.1: "A server MAY request that a client present an OCSP response
     * with its certificate by sending an empty "status_request" extension in its
     * CertificateRequest message." */
    if (allow_empty && d.n == 0) {
        *ocsp = true;
        return MICA_OK;
    }
    /* struct { CertificateStatusType status_type; select (status_type) { case ocsp:
     * OCSPStatusRequest; } request; } CertificateStatusRequest; */
    TRY(mica_rd_u8(&d, &status_type));
    if (status_type != STATUS_TYPE_OCSP) {
        /* a request type mica does not know: its body has no syntax we can check, and
         * not answering it is the correct response */
        *ocsp = false;
        return MICA_OK;
    }
    /* struct { ResponderID responder_id_list<0..2^16-1>; Extensions request_extensions; }
     * OCSPStatusRequest; opaque ResponderID<1..2^16-1>; opaque Extensions<0..2^16-1>; */
    TRY(mica_rd_vec16(&d, &ids, 0, 0xffff));
    TRY(mica_rd_vec16(&d, &exts, 0, 0xffff));
    TRY(mica_rd_end(&d));
    while (ids.n > 0) {
        mica_rd id;

        TRY(mica_rd_vec16(&ids, &id, 1, 0xffff));
    }
    *ocsp = true;
    return MICA_OK;
}

mica_err mica_ext_status_response(mica_rd d, mica_rd *response)
{
    uint8_t status_type;
    mica_rd resp;

    /* RFC 8446 4.4.2.1: the body of the server's "status_request" extension "MUST be a
     * CertificateStatus structure as defined in [RFC6066]":
     * struct { CertificateStatusType status_type; select (status_type) { case ocsp:
     * OCSPResponse; } response; } CertificateStatus; opaque OCSPResponse<1..2^24-1>; */
    TRY(mica_rd_u8(&d, &status_type));
    ENSURE(status_type == STATUS_TYPE_OCSP, MICA_E_DECODE);
    TRY(mica_rd_vec24(&d, &resp, 1, 0xffffff));
    TRY(mica_rd_end(&d));
    *response = resp;
    return MICA_OK;
}
