/* CertificateVerify (RFC 8446 4.4.3). */
#include <string.h>

#include "tls/msg.h"

mica_err mica_msg_decode_certificate_verify(const uint8_t *body, size_t len,
                                            struct mica_certificate_verify *cv)
{
    mica_rd r = mica_rd_init(body, len);

    memset(cv, 0, sizeof(*cv));
    /* struct { SignatureScheme algorithm; opaque signature<0..2^16-1>; } */
    TRY(mica_rd_u16(&r, &cv->scheme));
    TRY(mica_rd_vec16(&r, &cv->signature, 0, 0xffff));
    return mica_rd_end(&r);
}
