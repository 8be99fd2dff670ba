/*
 * Fuzz target for the client side of the engine: a fresh client sends its ClientHello,
 * and the input is what the "server" answers (ServerHello, HRR, alerts, CCS, garbage).
 * Every outcome must be clean; see fuzz_server.c.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <mica/mica.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mica_config *cfg;
    mica_conn *c = NULL;
    size_t chunk, off = 1;

    if (cfg == NULL) {
        cfg = mica_config_new();
        if (cfg == NULL) {
            abort();
        }
        mica_config_insecure_no_verify(cfg); /* nothing to verify against */
    }
    if (size < 1 || mica_conn_new_client(cfg, "localhost", &c) != MICA_OK) {
        return 0;
    }
    chunk = (size_t)data[0] * 7 + 1;
    while (off < size) {
        size_t n = size - off < chunk ? size - off : chunk, used = 0;
        const uint8_t *out;
        size_t out_len = 0;
        mica_err err = mica_conn_feed(c, data + off, n, &used);
        if (mica_conn_pending(c, &out, &out_len) != MICA_OK) {
            abort();
        }
        mica_conn_sent(c, out_len);
        if (err != MICA_OK) {
            if (mica_conn_error(c) != err || mica_conn_error_sentence(c) == NULL) {
                abort();
            }
            break;
        }
        if (used != n) {
            abort();
        }
        off += n;
    }
    mica_conn_free(c);
    return 0;
}
