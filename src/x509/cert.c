/*
 * Certificates: for now, the public key of a DER certificate. Chain building and the
 * validation policy grow here (the certificates issue).
 */
#include "x509/x509.h"

#include <limits.h>
#include <openssl/x509.h>

#include "crypto/gate.h"

mica_err mica_x509_pubkey(const uint8_t *der, size_t len, mica_pkey **out)
{
    const unsigned char *p = der;
    X509 *x;
    EVP_PKEY *pk;

    ENSURE(len <= LONG_MAX, MICA_E_ARGUMENT);
    x = d2i_X509(NULL, &p, (long)len);
    ENSURE(x != NULL, mica_cr_fail(MICA_E_DECODE));
    if (p != der + len) {
        X509_free(x);
        return MICA_E_DECODE;
    }
    pk = X509_get_pubkey(x) /* a new reference */;
    X509_free(x);
    ENSURE(pk != NULL, mica_cr_fail(MICA_E_DECODE));
    return mica_pkey_wrap(pk, out);
}
