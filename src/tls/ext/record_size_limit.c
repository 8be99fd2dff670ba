/* record_size_limit (RFC 8449): ClientHello and EncryptedExtensions. */
#include "base/limits.h"
#include "tls/ext/ext.h"

mica_err mica_ext_record_size_limit(mica_rd d, uint16_t *limit)
{
    uint16_t v;

    /* uint16 RecordSizeLimit; */
    TRY(mica_rd_u16(&d, &v));
    TRY(mica_rd_end(&d));
    /* RFC 8449 4: "An endpoint MUST treat receipt of a smaller value [than 64] as a fatal
     * error and generate an "illegal_parameter" alert." */
    ENSURE(v >= MICA_MIN_RECORD_SIZE_LIMIT, MICA_E_ILLEGAL_PARAMETER);
    *limit = v;
    return MICA_OK;
}
