/* cookie (RFC 8446 4.2.2): HelloRetryRequest, and echoed in the second ClientHello. */
#include "tls/ext/ext.h"

mica_err mica_ext_cookie(mica_rd d, mica_rd *cookie)
{
    mica_rd c;

    /* struct { opaque cookie<1..2^16-1>; } Cookie; */
    TRY(mica_rd_vec16(&d, &c, 1, 0xffff));
    TRY(mica_rd_end(&d));
    *cookie = c;
    return MICA_OK;
}
