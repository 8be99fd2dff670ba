/*
 * Inside src/x509: helpers that speak libcrypto's types, shared by cert.c and verify.c
 * (x509.h, for the engine, has none).
 */
#ifndef MICA_X509_INTERNAL_H
#define MICA_X509_INTERNAL_H

#include <openssl/x509.h>
#include <stdbool.h>

#include "x509/x509.h"

/* one DER certificate (the whole input), or NULL */
X509 *mica_x509_parse(const uint8_t *der, size_t len);
/* the same, from s's cache of peer certificates when this DER was parsed before (a new
 * reference either way; the X509 may be shared with other connections: read only) */
X509 *mica_x509_parse_shared(const mica_x509_store *s, const uint8_t *der, size_t len);
/* the cache's hits and misses so far (tests) */
void mica_x509_parsed_stats(const mica_x509_store *s, unsigned long *hits, unsigned long *misses);
/* mica_x509_key_of: the subject public key of x (a new mica_pkey) */
MICA_MUST mica_err mica_x509_key_of(X509 *x, mica_pkey **out);
X509_STORE *mica_x509_store_raw(const mica_x509_store *s);
bool mica_x509_store_has_crls(const mica_x509_store *s);
STACK_OF(X509) * mica_x509_store_extra(const mica_x509_store *s); /* may be NULL */
/* whether mica can verify TLS 1.3 signatures made with this key (and would sign with it):
 * ECDSA P-256/384/521, RSA >= 2048, Ed25519, Ed448 */
bool mica_x509_key_usable(const mica_pkey *k);
/* whether name is an IPv4 or IPv6 literal */
bool mica_x509_is_ip(const char *name);

#endif
