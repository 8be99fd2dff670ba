/*
 * Fuzz target for the client's session blobs (src/tls/psk.c, mica_psk_load_session via
 * mica_conn_new_client_resume): the input is a blob without its SHA-256 check, which the
 * target appends, so that every input reaches the parser of the session state instead of
 * stopping at the check. Every outcome must be clean: a client that offers the session
 * (its ClientHello then ends with pre_shared_key), one that does not, or MICA_E_DECODE.
 * Seed: corpus/fuzz_psk/session.bin, a well-formed session for "localhost" that allows
 * 0-RTT (see tests/fuzz/make_psk_corpus.py); the config's clock stands 1 s after the
 * seed was issued and sends early data, so the offer, the early secrets and
 * mica_conn_write_early run too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include <mica/mica.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t seed_clock(void *ctx)
{
    (void)ctx;
    return 1795000001000ull; /* the seed's issued_ms + 1 s */
}

static mica_config *config(void)
{
    static mica_config *cfg;

    if (cfg == NULL) {
        cfg = mica_config_new();
        if (cfg == NULL) {
            abort();
        }
        mica_config_insecure_no_verify(cfg); /* sessions made without verification too */
        mica_config_set_clock(cfg, seed_clock, NULL);
        if (mica_config_set_early_data(cfg, 4096) != MICA_OK) {
            abort();
        }
    }
    return cfg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *blob;
    mica_conn *c = NULL;
    mica_err err;

    if (size > 8192) {
        return 0;
    }
    blob = malloc(size + SHA256_DIGEST_LENGTH);
    if (blob == NULL) {
        return 0;
    }
    if (size > 0) {
        memcpy(blob, data, size);
    }
    SHA256(data, size, blob + size);
    err = mica_conn_new_client_resume(config(), "localhost", blob, size + SHA256_DIGEST_LENGTH, &c);
    if (err == MICA_OK) {
        const uint8_t *out = NULL;
        size_t len = 0;
        if (c == NULL || mica_conn_pending(c, &out, &len) != MICA_OK || len < 5 || out[0] != 22) {
            abort(); /* a client was made: its ClientHello record is waiting */
        }
        {
            static const uint8_t early[5000];
            size_t written = 0;
            err = mica_conn_write_early(c, early, sizeof(early), &written);
            /* early data only as far as both limits allow, or not at all */
            if ((err != MICA_OK && err != MICA_E_ARGUMENT) || written > 4096) {
                abort();
            }
        }
    } else if (err != MICA_E_DECODE || c != NULL) {
        abort();
    }
    mica_conn_free(c);
    free(blob);
    return 0;
}
