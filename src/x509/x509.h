#ifndef MICA_X509_X509_H
#define MICA_X509_X509_H

#include "crypto/crypto.h"

/* mica_x509_pubkey: the subject public key of one DER certificate (whole input must be
 * the certificate). MICA_E_DECODE if it does not parse. */
MICA_MUST mica_err mica_x509_pubkey(const uint8_t *der, size_t len, mica_pkey **out);

#endif
