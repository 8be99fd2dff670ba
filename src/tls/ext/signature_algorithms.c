/* signature_algorithms and signature_algorithms_cert (RFC 8446 4.2.3): ClientHello and
 * CertificateRequest. */
#include "tls/ext/ext.h"

mica_err mica_ext_signature_algorithms(mica_rd d, mica_rd *schemes)
{
    /* struct { SignatureScheme supported_signature_algorithms<2..2^16-2>; } */
    return mica_ext_u16_list(d, 2, 0xfffe, schemes);
}
