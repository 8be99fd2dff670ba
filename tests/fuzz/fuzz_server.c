/*
 * Fuzz target for the server side of the engine: the input is what a client sends, fed
 * to a fresh server connection in pieces whose sizes come from the input's first byte.
 * Every outcome must be a clean one: connected, waiting, or failed with its alert queued.
 * (Without null crypto, fuzzing reaches the plaintext ClientHello paths, HRR and the
 * stateless-cookie path; the protected states need the MICA_FUZZING build, see STYLE.md.)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <mica/mica.h>

#include "vec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mica_config *config(void)
{
    static mica_config *cfg;
    char chain[512], key[512];

    if (cfg != NULL) {
        return cfg;
    }
    cfg = mica_config_new();
    snprintf(chain, sizeof(chain), "%s", vec_path("certs/ecdsa-p256.chain.pem"));
    snprintf(key, sizeof(key), "%s", vec_path("certs/ecdsa-p256.key"));
    if (cfg == NULL || mica_config_add_cert_chain_file(cfg, chain, key) != MICA_OK ||
        mica_config_set_groups(cfg, "secp256r1:x25519") != MICA_OK) {
        abort();
    }
    return cfg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mica_conn *s = NULL;
    size_t chunk, off = 1;

    if (size < 1 || mica_conn_new_server(config(), &s) != MICA_OK) {
        return 0;
    }
    chunk = (size_t)data[0] * 7 + 1;
    while (off < size) {
        size_t n = size - off < chunk ? size - off : chunk, used = 0;
        mica_err err = mica_conn_feed(s, data + off, n, &used);
        const uint8_t *out;
        size_t out_len = 0;
        if (mica_conn_pending(s, &out, &out_len) != MICA_OK) {
            abort();
        }
        mica_conn_sent(s, out_len);
        if (err != MICA_OK) {
            /* a failure names its cause and sticks */
            if (mica_conn_error(s) != err || mica_conn_error_sentence(s) == NULL) {
                abort();
            }
            break;
        }
        if (used != n) {
            abort(); /* feed takes everything unless it fails */
        }
        off += n;
    }
    mica_conn_free(s);
    return 0;
}
