/*
 * Inside the gate: libcrypto objects behind the descriptors. Included only by
 * src/crypto/ and src/x509/, the two places allowed to see OpenSSL types.
 */
#ifndef MICA_CRYPTO_GATE_H
#define MICA_CRYPTO_GATE_H

#include <openssl/evp.h>

#include "crypto/crypto.h"

/* The fetched objects, valid after mica_cr_init() succeeded; NULL when the running
 * libcrypto lacks the algorithm. */
const EVP_MD *mica_cr_md(const struct mica_hash_desc *h);
const EVP_CIPHER *mica_cr_cipher(const struct mica_aead_desc *a);
const EVP_MAC_CTX *mica_cr_hmac_template(const struct mica_hash_desc *h);

/* mica_pkey_wrap: take ownership of an EVP_PKEY (x509 hands certificate keys in). */
MICA_MUST mica_err mica_pkey_wrap(EVP_PKEY *pk, mica_pkey **out);
EVP_PKEY *mica_pkey_evp(const mica_pkey *k);

/* mica_cr_fail: clear libcrypto's error queue and return err, so a failure in one
 * connection never shows up as a stale error in another. */
mica_err mica_cr_fail(mica_err err);

#endif
