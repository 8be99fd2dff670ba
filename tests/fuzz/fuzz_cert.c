/*
 * Fuzz target for src/x509/cert.c and describe.c: a peer's certificate bytes through every
 * function that parses them -- its public key, its description, and chain verification of the
 * input cut into up to three certificates (against an empty store, for a name and an IP).
 */
#include <stddef.h>
#include <stdint.h>

#include <mica/cert.h>

#include "x509/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mica_x509_store *store;
    mica_pkey *key = NULL;
    const uint8_t *der[3];
    size_t len[3], n = 0, off = 0;
    char why[512];

    if (store == NULL && mica_x509_store_new(&store) != MICA_OK) {
        return 0;
    }
    if (mica_x509_pubkey(data, size, &key) == MICA_OK) {
        mica_pkey_free(key);
    }
    {
        static struct mica_cert_info ci;
        if (mica_cert_describe(data, size, &ci) == MICA_OK &&
            (ci.subject[sizeof(ci.subject) - 1] != '\0' || ci.sans[sizeof(ci.sans) - 1] != '\0')) {
            __builtin_trap(); /* every text is NUL-terminated */
        }
    }
    /* the first two bytes (if any) split the rest into certificates */
    while (n < 3 && off < size) {
        size_t take = size - off;
        if (n < 2 && size - off > 2) {
            take = ((size_t)data[off] << 8 | data[off + 1]) % (size - off - 1) + 1;
            off += 2;
            if (take > size - off) {
                take = size - off;
            }
        }
        der[n] = data + off;
        len[n] = take;
        off += take;
        n++;
    }
    if (n > 0) {
        /* nothing can verify against an empty store */
        struct mica_x509_policy srv = {.server = true,
                                       .name = "localhost",
                                       .now_ms = 1767225600000u,
                                       .ocsp_mode = 1},
                                cli = {
                                    .server = false, .name = "127.0.0.1", .now_ms = 1767225600000u};
        if (mica_x509_verify(store, der, len, n, &srv, why, sizeof(why), NULL) == MICA_OK ||
            mica_x509_verify(store, der, len, n, &cli, why, sizeof(why), NULL) == MICA_OK) {
            __builtin_trap();
        }
    }
    return 0;
}
