/*
 * What the engine fuzz targets (fuzz_server.c, fuzz_client.c) and their seed recorder
 * (record_engine.c) share: the configurations, fixed randomness, a fixed clock, and the
 * loop that feeds one side of a connection and acts as its application. Header-only,
 * included by exactly those three files.
 *
 * An input is one control byte and then the bytes the peer sends:
 *
 *     bits 0-5 of the control byte: the size of the pieces the bytes are fed in,
 *              (bits * 7 + 1) bytes at a time
 *     bits 6-7: the mode, which configuration the fuzzed side has (see fz_config)
 *
 * The randomness (mica_rand's test hook) restarts from the same seed for every input
 * and every configuration, so an input always meets the same ClientHello, session id,
 * key shares and ticket keys: a recorded conversation replays, and a crash reproduces.
 * In the fuzzing build (-DMICA_FUZZING: null AEAD, verifications pass) the recorded
 * seeds then carry the fuzzer through the whole handshake into application data,
 * KeyUpdate, NewSessionTicket, post-handshake authentication and close_notify.
 */
#ifndef MICA_FUZZ_ENGINE_H
#define MICA_FUZZ_ENGINE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mica/mica.h>

#include "crypto/crypto.h" /* mica_rand_set_hook */
#include "vec.h"

#define FZ_MODES 4
#define FZ_CLOCK_MS 1893456000000ull /* 2030-01-01: inside the test certificates' validity */

/* splitmix64: the fixed randomness, restarted by fz_reset */
static uint64_t fz_state;

static inline void fz_rand(uint8_t *buf, size_t len, void *ctx)
{
    (void)ctx;
    for (size_t i = 0; i < len; i++) {
        uint64_t z;
        if (i % 8 == 0) {
            z = (fz_state += 0x9e3779b97f4a7c15ull);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            z ^= z >> 31;
            fz_state ^= z << 1; /* keep the stream moving on short reads too */
        }
        buf[i] = (uint8_t)(fz_state >> (8 * (i % 8)));
    }
}

static inline void fz_reset(uint64_t seed)
{
    fz_state = seed;
    mica_rand_set_hook(fz_rand, NULL);
}

static inline uint64_t fz_clock(void *ctx)
{
    (void)ctx;
    return FZ_CLOCK_MS;
}

static inline void fz_need(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_engine: cannot set up %s\n", what);
        abort();
    }
}

/*
 * The configurations, one per mode, made once (and with the same randomness each time):
 *   server 0  ECDSA P-256 certificate, groups secp256r1 then x25519 (HRR for x25519-first
 *             clients), stateless cookies
 *   server 1  ECDSA and Ed25519 certificates, every suite, client certificates optional
 *             (verified against the test CA), tickets, 0-RTT up to 16 KiB (no anti-replay
 *             store: inputs must not depend on the ones before them), ALPN h2/http1.1
 *   server 2  RSA-2048 certificate, X25519MLKEM768 first, client certificates required
 *   server 3  as 0 with a session cache (stateful tickets) and psk_ke allowed
 *   client 0  no verification, default groups
 *   client 1  verifies against the test CA, a client certificate (post-handshake auth
 *             offered), ALPN h2/http1.1, every suite
 *   client 2  X25519MLKEM768 only, ChaCha20-Poly1305 only, record_size_limit 512
 *   client 3  secp256r1 only (a server that prefers x25519 asks again: HRR)
 */
static inline mica_config *fz_config(int server, int mode)
{
    static mica_config *cfgs[2][FZ_MODES];
    mica_config *cfg = cfgs[server][mode];
    char chain[512], key[512];

    if (cfg != NULL) {
        return cfg;
    }
    fz_reset(0x6d696361u + (uint64_t)mode); /* config secrets (cookie, tickets) fixed too */
    cfg = mica_config_new();
    fz_need(cfg != NULL, "a config");
    mica_config_set_clock(cfg, fz_clock, NULL);
    if (server) {
        const char *name = mode == 2 ? "rsa2048" : "ecdsa-p256";
        snprintf(chain, sizeof(chain), "certs/%s.chain.pem", name);
        snprintf(chain, sizeof(chain), "%s", vec_path(chain));
        snprintf(key, sizeof(key), "certs/%s.key", name);
        snprintf(key, sizeof(key), "%s", vec_path(key));
        fz_need(mica_config_add_cert_chain_file(cfg, chain, key) == MICA_OK, "a certificate");
        fz_need(mica_config_set_groups(cfg, mode == 1   ? "x25519:X25519MLKEM768:secp256r1"
                                            : mode == 2 ? "X25519MLKEM768:x25519:secp256r1"
                                                        : "secp256r1:x25519") == MICA_OK,
                "groups");
        if (mode == 1) {
            snprintf(chain, sizeof(chain), "%s", vec_path("certs/ed25519.chain.pem"));
            snprintf(key, sizeof(key), "%s", vec_path("certs/ed25519.key"));
            fz_need(mica_config_add_cert_chain_file(cfg, chain, key) == MICA_OK, "ed25519");
            fz_need(mica_config_set_cipher_suites(
                        cfg, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                             "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:"
                             "TLS_AES_128_CCM_8_SHA256") == MICA_OK,
                    "suites");
            fz_need(mica_config_set_alpn(cfg, "h2,http/1.1") == MICA_OK, "alpn");
            fz_need(mica_config_set_tickets(cfg, 2, 3600) == MICA_OK, "tickets");
            fz_need(mica_config_set_early_data(cfg, 16384) == MICA_OK, "early data");
            mica_config_insecure_no_anti_replay(cfg);
        }
        if (mode == 1 || mode == 2) {
            fz_need(mica_config_set_ca_file(cfg, vec_path("certs/ca.pem")) == MICA_OK, "CA");
            fz_need(mica_config_set_client_auth(cfg, mode == 1
                                                         ? MICA_CLIENT_AUTH_OPTIONAL
                                                         : MICA_CLIENT_AUTH_REQUIRE) == MICA_OK,
                    "client auth");
        }
        if (mode == 3) {
            fz_need(mica_config_set_session_cache(cfg, 64) == MICA_OK, "session cache");
            fz_need(mica_config_set_psk_modes(cfg, "psk_ke:psk_dhe_ke") == MICA_OK, "psk");
        }
    } else {
        if (mode == 1) {
            fz_need(mica_config_set_ca_file(cfg, vec_path("certs/ca.pem")) == MICA_OK, "CA");
            snprintf(chain, sizeof(chain), "%s", vec_path("certs/ecdsa-p256.chain.pem"));
            snprintf(key, sizeof(key), "%s", vec_path("certs/ecdsa-p256.key"));
            fz_need(mica_config_add_cert_chain_file(cfg, chain, key) == MICA_OK, "client cert");
            fz_need(mica_config_set_alpn(cfg, "h2,http/1.1") == MICA_OK, "alpn");
            fz_need(mica_config_set_cipher_suites(
                        cfg, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                             "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:"
                             "TLS_AES_128_CCM_8_SHA256") == MICA_OK,
                    "suites");
        } else {
            mica_config_insecure_no_verify(cfg); /* nothing to verify against */
        }
        if (mode == 2) {
            fz_need(mica_config_set_groups(cfg, "X25519MLKEM768") == MICA_OK, "groups");
            fz_need(mica_config_set_cipher_suites(cfg, "TLS_CHACHA20_POLY1305_SHA256") == MICA_OK,
                    "suites");
            fz_need(mica_config_set_record_size_limit(cfg, 512) == MICA_OK, "record limit");
        }
        if (mode == 3) {
            fz_need(mica_config_set_groups(cfg, "secp256r1") == MICA_OK, "groups");
        }
    }
    cfgs[server][mode] = cfg;
    return cfg;
}

/* fz_new: a fresh connection of the mode, always with the same randomness. */
static inline mica_err fz_new(int server, int mode, mica_conn **c)
{
    mica_config *cfg = fz_config(server, mode);
    fz_reset(0x636f6e6eu); /* "conn" */
    return server ? mica_conn_new_server(cfg, c) : mica_conn_new_client(cfg, "localhost", c);
}

/* fz_flush: take everything the engine wants to send (a fuzz target throws it away). */
static inline void fz_flush(mica_conn *c)
{
    const uint8_t *out;
    size_t len = 0;

    if (mica_conn_pending(c, &out, &len) != MICA_OK) {
        abort(); /* pending never fails on a live connection */
    }
    mica_conn_sent(c, len);
}

/* fz_app: the application of the fuzzed side, run after every feed. It reads early and
 * application data, answers each read with what it read (so sealing runs too), and
 * once connected does each side's post-handshake acts once: a KeyUpdate that asks the
 * peer to update, more tickets (server), a post-handshake certificate request (server,
 * when the client offered it). A peer's close_notify is answered with ours. Errors here
 * are the engine's to report; the loop stops at the first fatal one. */
struct fz_app {
    int acted, closed;
};

static inline mica_err fz_app(mica_conn *c, int server, struct fz_app *st)
{
    uint8_t buf[4096];
    size_t n = 0, w = 0;
    mica_err err;

    if (server) {
        while ((err = mica_conn_read_early(c, buf, sizeof(buf), &n)) == MICA_OK && n > 0) {
        }
    }
    if (!mica_conn_is_connected(c)) {
        return MICA_OK;
    }
    while ((err = mica_conn_read(c, buf, sizeof(buf), &n)) == MICA_OK) {
        if (n == 0) {
            if (!st->closed) {
                st->closed = 1;
                err = mica_conn_close(c);
                if (err != MICA_OK && mica_err_is_fatal(err)) {
                    return err;
                }
            }
            return MICA_OK;
        }
        if (!st->closed) {
            err = mica_conn_write(c, buf, n, &w);
            if (err != MICA_OK && mica_err_is_fatal(err)) {
                return err;
            }
        }
    }
    if (err != MICA_WANT_READ && mica_err_is_fatal(err)) {
        return err;
    }
    if (!st->acted && !st->closed) {
        st->acted = 1;
        (void)mica_conn_key_update(c, 1);
        if (server) {
            (void)mica_conn_send_tickets(c, 1);
            (void)mica_conn_request_client_auth(c); /* refused unless the client offered */
        }
    }
    return mica_err_is_fatal(mica_conn_error(c)) ? mica_conn_error(c) : MICA_OK;
}

/* fz_run: the whole fuzz target for one side. */
static inline int fz_run(int server, const uint8_t *data, size_t size)
{
    mica_conn *c = NULL;
    struct fz_app st = {0, 0};
    size_t chunk, off = 1;
    int mode;

    if (size < 1) {
        return 0;
    }
    mode = data[0] >> 6;
    chunk = (size_t)(data[0] & 0x3f) * 7 + 1;
    if (fz_new(server, mode, &c) != MICA_OK) {
        abort();
    }
    while (off < size) {
        size_t n = size - off < chunk ? size - off : chunk, used = 0;
        mica_err err = mica_conn_feed(c, data + off, n, &used);
        if (err == MICA_OK) {
            err = fz_app(c, server, &st);
        }
        fz_flush(c);
        if (err != MICA_OK) {
            /* a failure names its cause and sticks */
            if (mica_conn_error(c) != err || mica_conn_error_sentence(c) == NULL) {
                abort();
            }
            break;
        }
        if (used != n) {
            abort(); /* feed takes everything unless it fails (or the reader lags) */
        }
        off += n;
    }
    (void)mica_conn_close(c);
    fz_flush(c);
    mica_conn_free(c);
    return 0;
}

#endif
