/*
 * Fuzz target for src/x509/verify.c: the input is a stapled OCSP response, checked for the
 * test chain tests/vectors/certs/ecdsa-p256.chain.pem against its CA (so a well-formed
 * response gets past the chain to the OCSP parser, signature, freshness and status
 * checks), and also a pin text ("sha256/BASE64") for mica_x509_parse_pin. Every outcome
 * must be clean: MICA_OK only for a response that really is good for the leaf.
 * Seeds: corpus/fuzz_verify (tests/fuzz/make_verify_corpus.sh: a good and a revoked
 * response signed by the test CA, and pins).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "x509/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mica_x509_store *store;
static uint8_t *der[2];
static size_t len[2];
static uint64_t at_ms;

static void setup(void)
{
    FILE *f = fopen(MICA_TEST_VECTORS "/certs/ecdsa-p256.chain.pem", "r");
    X509 *x;
    size_t n = 0;

    if (f == NULL || mica_x509_store_new(&store) != MICA_OK ||
        mica_x509_store_add_file(store, MICA_TEST_VECTORS "/certs/ca.pem") != MICA_OK) {
        abort();
    }
    while (n < 2 && (x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        unsigned char *p = NULL;
        int k = i2d_X509(x, &p);
        if (k <= 0) {
            abort();
        }
        der[n] = p;
        len[n++] = (size_t)k;
        if (n == 1) { /* a day into the leaf's validity */
            struct tm tm;
            if (ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm) != 1) {
                abort();
            }
            at_ms = ((uint64_t)timegm(&tm) + 86400u) * 1000u;
        }
        X509_free(x);
    }
    fclose(f);
    if (n != 2) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mica_x509_policy p;
    char why[512], pin[128];
    uint8_t h[32];

    if (store == NULL) {
        setup();
    }
    memset(&p, 0, sizeof(p));
    p.server = true;
    p.name = "localhost";
    p.now_ms = at_ms;
    p.ocsp = data;
    p.ocsp_len = size;
    p.ocsp_mode = MICA_X509_OCSP_REQUIRE;
    {
        mica_pkey *key = NULL;
        mica_err err = mica_x509_verify(store, (const uint8_t *const *)der, len, 2, &p, why,
                                        sizeof(why), &key);
        if ((err == MICA_OK) != (key != NULL) || (err == MICA_OK && strcmp(why, "ok") != 0)) {
            abort(); /* success says so, and gives the leaf's key; failure gives none */
        }
        mica_pkey_free(key);
    }
    if (size < sizeof(pin)) {
        memcpy(pin, data, size);
        pin[size] = '\0';
        if (mica_x509_parse_pin(pin, h) == MICA_OK && strncmp(pin, "sha256/", 7) != 0) {
            abort();
        }
    }
    return 0;
}
