/*
 * Client <-> server in one process through the sans-I/O API: every suite x group x
 * certificate type, HelloRetryRequest, records cut to 1 byte, KeyUpdate both ways while
 * data flows, close_notify in both orders, a large transfer, ALPN and SNI.
 *
 * MICA_TEST_LIGHT=1 (make valgrind, where a handshake costs ~50 times more): the matrix
 * keeps every suite, every group and every certificate type but not their crossings (17
 * handshakes instead of 100), the group pairs keep those with the first group on either
 * side (12 of 56: every group still meets HRR both ways), and the large transfer moves
 * 512 + 128 KiB instead of 64 + 8 MiB (still 40 full records).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "crypto/crypto.h"
#include "harness.h"

/* MICA_TEST_LIGHT: the lighter run described above */
static bool light(void)
{
    return check_light();
}

static const char *const cert_kinds[] = {"ecdsa-p256", "ecdsa-p384", "ecdsa-p521",
                                         "rsa2048",    "ed25519",    "ed448"};
static const char *const expected_sig[] = {"ecdsa_secp256r1_sha256",
                                           "ecdsa_secp384r1_sha384",
                                           "ecdsa_secp521r1_sha512",
                                           "rsa_pss_rsae_sha256",
                                           "ed25519",
                                           "ed448"};

static void matrix(void)
{
    const char *suite, *group;
    int runs = 0;

    for (size_t k = 0; k < (sizeof(cert_kinds) / sizeof(cert_kinds[0])); k++) {
        mica_config *scfg = server_config(cert_kinds[k]);
        CHECK_MSG(scfg != NULL, "server config %s", cert_kinds[k]);
        if (scfg == NULL) {
            continue;
        }
        for (size_t s = 0; mica_cipher_suite_at(s, &suite) != 0; s++) {
            for (size_t g = 0; mica_group_at(g, &group) != 0; g++) {
                mica_config *ccfg = client_config();
                struct pair p;
                mica_err err;
                /* certificate types x suites x groups is large; every suite and group meets
                 * every certificate type, but not every triple */
                if ((k > 0 && s != g % 5 && g != 0) ||
                    (light() && !(k == 0 && (s == 0 || g == 0)) && !(s == 0 && g == 0))) {
                    mica_config_free(ccfg);
                    continue;
                }
                CHECK_OK(mica_config_set_cipher_suites(ccfg, suite));
                CHECK_OK(mica_config_set_groups(ccfg, group));
                CHECK_OK(pair_new(&p, ccfg, scfg, "localhost"));
                err = pair_handshake(&p);
                CHECK_MSG(
                    err == MICA_OK, "%s %s %s: %s: client: %s / server: %s", cert_kinds[k], suite,
                    group, mica_err_name(err),
                    mica_conn_error_sentence(p.client) ? mica_conn_error_sentence(p.client) : "-",
                    mica_conn_error_sentence(p.server) ? mica_conn_error_sentence(p.server) : "-");
                if (err == MICA_OK) {
                    CHECK(strcmp(mica_conn_cipher_suite(p.client), suite) == 0);
                    CHECK(strcmp(mica_conn_cipher_suite(p.server), suite) == 0);
                    CHECK(strcmp(mica_conn_group(p.client), group) == 0);
                    CHECK(strcmp(mica_conn_version(p.client), "TLSv1.3") == 0);
                    CHECK_MSG(strcmp(mica_conn_sig_scheme(p.client), expected_sig[k]) == 0,
                              "%s: scheme %s", cert_kinds[k], mica_conn_sig_scheme(p.client));
                    CHECK(mica_conn_verified(p.client));
                    CHECK(!mica_conn_hrr(p.client));
                    CHECK(pair_transfer(&p, true, 1000));
                    CHECK(pair_transfer(&p, false, 20000));
                }
                runs++;
                pair_free(&p);
                mica_config_free(ccfg);
            }
        }
        mica_config_free(scfg);
    }
    printf("matrix: %d handshakes\n", runs);
}

static void hrr_and_fragments(void)
{
    mica_config *scfg = server_config("ecdsa-p256"), *ccfg = client_config();
    struct pair p;
    size_t chunks[] = {1, 2, 7, 100, 0};

    /* the client shares x25519 first; the server wants secp384r1 only: HRR */
    CHECK_OK(mica_config_set_groups(ccfg, "x25519:secp384r1"));
    CHECK_OK(mica_config_set_groups(scfg, "secp384r1"));
    for (size_t i = 0; i < (sizeof(chunks) / sizeof(chunks[0])); i++) {
        CHECK_OK(pair_new(&p, ccfg, scfg, "localhost"));
        p.chunk = chunks[i];
        CHECK_OK(pair_handshake(&p));
        CHECK(mica_conn_hrr(p.client) && mica_conn_hrr(p.server));
        CHECK(strcmp(mica_conn_group(p.client), "secp384r1") == 0);
        CHECK(pair_transfer(&p, true, 5000));
        pair_free(&p);
    }
    mica_config_free(scfg);
    mica_config_free(ccfg);
}

/* every ordered pair of groups: the client offers (first, second) with a key share for the
 * first (and for its classical half, for a hybrid); the server accepts only the second.
 * Where the client has no share for it, the server asks with a HelloRetryRequest -- to
 * and from the post-quantum hybrids too. */
static void group_pairs(void)
{
    const char *first, *second;
    int runs = 0, hrrs = 0;

    for (size_t i = 0; mica_group_at(i, &first) != 0; i++) {
        for (size_t j = 0; mica_group_at(j, &second) != 0; j++) {
            mica_config *scfg = server_config("ecdsa-p256"), *ccfg = client_config();
            const struct mica_group *g1 = mica_group_by_name(first);
            char list[128];
            struct pair p;
            bool shared;
            if (i == j || (light() && i > 0 && j > 0)) {
                mica_config_free(scfg);
                mica_config_free(ccfg);
                continue;
            }
            snprintf(list, sizeof(list), "%s:%s", first, second);
            CHECK_OK(mica_config_set_groups(ccfg, list));
            CHECK_OK(mica_config_set_groups(scfg, second));
            CHECK_OK(pair_new(&p, ccfg, scfg, "localhost"));
            CHECK_MSG(pair_handshake(&p) == MICA_OK, "groups %s -> %s: %s / %s", first, second,
                      mica_conn_error_sentence(p.client) ? mica_conn_error_sentence(p.client) : "-",
                      mica_conn_error_sentence(p.server) ? mica_conn_error_sentence(p.server)
                                                         : "-");
            if (mica_conn_is_connected(p.client)) {
                shared = g1->classic != NULL && strcmp(g1->classic->name, second) == 0;
                CHECK(strcmp(mica_conn_group(p.client), second) == 0);
                CHECK_MSG(mica_conn_hrr(p.client) == !shared, "groups %s -> %s: hrr %d", first,
                          second, mica_conn_hrr(p.client));
                CHECK(pair_transfer(&p, true, 100));
                hrrs += mica_conn_hrr(p.client);
            }
            runs++;
            pair_free(&p);
            mica_config_free(scfg);
            mica_config_free(ccfg);
        }
    }
    printf("group pairs: %d handshakes, %d with HelloRetryRequest\n", runs, hrrs);
}

/* a stateless server: the connection that sends the HelloRetryRequest is dropped, and a
 * fresh one finishes the handshake from the cookie alone */
static void stateless_hrr(void)
{
    mica_config *scfg = server_config("ecdsa-p256"), *ccfg = client_config();
    mica_conn *client = NULL, *first = NULL, *second = NULL;
    const uint8_t *out;
    size_t len = 0, used = 0;
    struct pair p;

    CHECK_OK(mica_config_set_groups(ccfg, "x25519:secp256r1"));
    CHECK_OK(mica_config_set_groups(scfg, "secp256r1"));
    CHECK_OK(mica_conn_new_client(ccfg, "localhost", &client));
    CHECK_OK(mica_conn_new_server(scfg, &first));
    CHECK_OK(mica_conn_pending(client, &out, &len));
    CHECK_OK(mica_conn_feed(first, out, len, &used));
    mica_conn_sent(client, len);
    CHECK_OK(mica_conn_pending(first, &out, &len)); /* HRR (+ CCS) */
    CHECK_OK(mica_conn_feed(client, out, len, &used));
    mica_conn_free(first); /* the server forgets everything */
    CHECK_OK(mica_conn_new_server(scfg, &second));
    memset(&p, 0, sizeof(p));
    p.client = client;
    p.server = second;
    CHECK_OK(pair_handshake(&p));
    CHECK(mica_conn_hrr(p.server) && mica_conn_hrr(p.client));
    CHECK(strcmp(mica_conn_group(p.server), "secp256r1") == 0);
    CHECK(pair_transfer(&p, true, 1000));
    pair_free(&p);
    /* a cookie from another server config (another key) is refused */
    {
        mica_config *other = server_config("ecdsa-p256");
        CHECK_OK(mica_config_set_groups(other, "secp256r1"));
        CHECK_OK(mica_conn_new_client(ccfg, "localhost", &client));
        CHECK_OK(mica_conn_new_server(scfg, &first));
        CHECK_OK(mica_conn_pending(client, &out, &len));
        CHECK_OK(mica_conn_feed(first, out, len, &used));
        mica_conn_sent(client, len);
        CHECK_OK(mica_conn_pending(first, &out, &len));
        CHECK_OK(mica_conn_feed(client, out, len, &used));
        mica_conn_free(first);
        CHECK_OK(mica_conn_new_server(other, &second));
        p.client = client;
        p.server = second;
        CHECK(pair_handshake(&p) != MICA_OK);
        CHECK_ERR(mica_conn_error(p.server), MICA_E_ILLEGAL_PARAMETER);
        CHECK(mica_conn_error_alert(p.client) == MICA_ALERT_ILLEGAL_PARAMETER);
        pair_free(&p);
        mica_config_free(other);
    }
    mica_config_free(scfg);
    mica_config_free(ccfg);
}

/* RFC 8449: each side's records stay within the limit the other announced */
struct limit_watch {
    size_t max_c2s, max_s2c;
};

static void watch_records(void *ctx, bool to_server, uint8_t *buf, size_t *len)
{
    struct limit_watch *w = ctx;
    size_t off = 0;

    while (off + 5 <= *len) {
        size_t n = (size_t)buf[off + 3] << 8 | buf[off + 4];
        if (buf[off] == 23) { /* protected records */
            size_t *max = to_server ? &w->max_c2s : &w->max_s2c;
            *max = n > *max ? n : *max;
        }
        off += 5 + n;
    }
}

static void record_size_limit(void)
{
    mica_config *scfg = server_config("ecdsa-p256"), *ccfg = client_config();
    struct limit_watch w = {0, 0};
    struct pair p;

    CHECK_OK(mica_config_set_record_size_limit(ccfg, 512));
    CHECK_OK(mica_config_set_record_size_limit(scfg, 1000));
    CHECK_ERR(mica_config_set_record_size_limit(scfg, 63), MICA_E_ARGUMENT);
    CHECK_OK(pair_new(&p, ccfg, scfg, "localhost"));
    p.tamper = watch_records;
    p.tamper_ctx = &w;
    CHECK_OK(pair_handshake(&p));
    CHECK(pair_transfer(&p, false, 100000));
    CHECK(pair_transfer(&p, true, 100000));
    /* ciphertext = inner plaintext (content + type) + 16-byte tag */
    CHECK_MSG(w.max_s2c == 512 + 16, "server records up to %zu bytes", w.max_s2c);
    CHECK_MSG(w.max_c2s == 1000 + 16, "client records up to %zu bytes", w.max_c2s);
    pair_free(&p);
    mica_config_free(scfg);
    mica_config_free(ccfg);
}

static void key_update_and_close(void)
{
    mica_config *scfg = server_config("ed25519"), *ccfg = client_config();
    struct pair p;
    uint8_t buf[16];
    size_t n = 99;

    CHECK_OK(pair_new(&p, ccfg, scfg, "localhost"));
    CHECK_OK(pair_handshake(&p));
    for (int i = 0; i < 3; i++) {
        CHECK_OK(mica_conn_key_update(p.client, i == 1));
        CHECK(pair_transfer(&p, true, 3000));
        CHECK(pair_transfer(&p, false, 3000));
        CHECK_OK(mica_conn_key_update(p.server, 1));
        CHECK(pair_transfer(&p, false, 100));
        CHECK(pair_transfer(&p, true, 100));
    }
    /* half-close: the client closes; the server may still send */
    CHECK_OK(mica_conn_close(p.client));
    CHECK_OK(pair_move(&p));
    CHECK(mica_conn_peer_closed(p.server));
    CHECK_OK(mica_conn_read(p.server, buf, sizeof(buf), &n));
    CHECK(n == 0); /* end of stream */
    {
        size_t w = 0;
        CHECK(mica_conn_readable(p.client) == 0 && mica_conn_readable(NULL) == 0);
        CHECK_OK(mica_conn_write(p.server, (const uint8_t *)"late", 4, &w));
        CHECK_OK(pair_move(&p));
        /* decrypted and waiting: mica_conn_readable says how much, reads take it */
        CHECK_MSG(mica_conn_readable(p.client) == 4, "%zu bytes readable, not 4",
                  mica_conn_readable(p.client));
        CHECK_OK(mica_conn_read(p.client, buf, 3, &n));
        CHECK(n == 3 && mica_conn_readable(p.client) == 1);
        CHECK_OK(mica_conn_read(p.client, buf + 3, sizeof(buf) - 3, &n));
        CHECK(n == 1 && memcmp(buf, "late", 4) == 0 && mica_conn_readable(p.client) == 0);
    }
    CHECK_ERR(mica_conn_write(p.client, (const uint8_t *)"x", 1, &n), MICA_E_CLOSED);
    CHECK_OK(mica_conn_close(p.server));
    CHECK_OK(pair_move(&p));
    CHECK(mica_conn_peer_closed(p.client));
    pair_free(&p);
    /* the other order: the server closes first, the client answers */
    CHECK_OK(pair_new(&p, ccfg, scfg, "localhost"));
    CHECK_OK(pair_handshake(&p));
    CHECK_OK(mica_conn_close(p.server));
    CHECK_OK(pair_move(&p));
    CHECK(mica_conn_peer_closed(p.client) && !mica_conn_peer_closed(p.server));
    CHECK_OK(mica_conn_read(p.client, buf, sizeof(buf), &n));
    CHECK(n == 0);
    CHECK_OK(mica_conn_close(p.client));
    CHECK_OK(pair_move(&p));
    CHECK(mica_conn_peer_closed(p.server));
    pair_free(&p);
    mica_config_free(scfg);
    mica_config_free(ccfg);
}

/* canceling during the handshake: user_canceled then close_notify. The client had no
 * handshake keys yet, so its alerts are unprotected; the server, reading with handshake
 * keys already, takes them as the end of the handshake (never as a clean close) */
static void cancel_handshake(void)
{
    mica_config *scfg = server_config("ecdsa-p256"), *ccfg = client_config();
    struct pair p;
    uint8_t buf[8];
    size_t n = 1;

    CHECK_OK(pair_new(&p, ccfg, scfg, "localhost"));
    CHECK_OK(mica_conn_close(p.client)); /* before the ServerHello */
    CHECK_ERR(pair_move(&p), MICA_E_PEER_ALERT);
    CHECK(!mica_conn_is_connected(p.server));
    CHECK_ERR(mica_conn_error(p.server), MICA_E_PEER_ALERT);
    CHECK(mica_conn_error_alert(p.server) == MICA_ALERT_USER_CANCELED);
    CHECK(!mica_conn_peer_closed(p.server));
    CHECK_ERR(mica_conn_read(p.server, buf, sizeof(buf), &n), MICA_E_PEER_ALERT);
    CHECK(!mica_conn_is_connected(p.client) && mica_conn_error(p.client) == MICA_OK);
    CHECK_ERR(mica_conn_write(p.client, buf, 1, &n), MICA_E_CLOSED);
    pair_free(&p);
    mica_config_free(scfg);
    mica_config_free(ccfg);
}

static void large_transfer(void)
{
    mica_config *scfg = server_config("ecdsa-p256"), *ccfg = client_config();
    struct pair p;

    CHECK_OK(mica_config_set_cipher_suites(ccfg, "TLS_AES_128_GCM_SHA256"));
    CHECK_OK(pair_new(&p, ccfg, scfg, "localhost"));
    CHECK_OK(pair_handshake(&p));
    CHECK(pair_transfer(&p, true, light() ? 512u * 1024u : 64u * 1024u * 1024u));
    CHECK(pair_transfer(&p, false, light() ? 128u * 1024u : 8u * 1024u * 1024u));
    pair_free(&p);
    mica_config_free(scfg);
    mica_config_free(ccfg);
}

static void alpn_and_sni(void)
{
    mica_config *scfg = server_config("ecdsa-p256"), *ccfg = client_config();
    struct pair p;

    CHECK_OK(mica_config_set_alpn(scfg, "h2,http/1.1"));
    CHECK_OK(mica_config_set_alpn(ccfg, "http/1.1,h2"));
    CHECK_OK(pair_new(&p, ccfg, scfg, "www.test.mica"));
    CHECK_OK(pair_handshake(&p));
    CHECK(strcmp(mica_conn_alpn(p.client), "h2") == 0); /* the server's preference */
    CHECK(strcmp(mica_conn_alpn(p.server), "h2") == 0);
    CHECK(strcmp(mica_conn_server_name(p.server), "www.test.mica") == 0);
    pair_free(&p);
    /* no protocol in common */
    CHECK_OK(mica_config_set_alpn(ccfg, "spdy/3"));
    CHECK_OK(pair_new(&p, ccfg, scfg, "localhost"));
    CHECK(pair_handshake(&p) != MICA_OK);
    CHECK_ERR(mica_conn_error(p.server), MICA_E_NO_APPLICATION_PROTOCOL);
    CHECK_ERR(mica_conn_error(p.client), MICA_E_PEER_ALERT);
    CHECK(mica_conn_error_alert(p.client) == MICA_ALERT_NO_APPLICATION_PROTOCOL);
    pair_free(&p);
    /* a name the certificate does not cover */
    CHECK_OK(mica_config_set_alpn(ccfg, "h2"));
    CHECK_OK(pair_new(&p, ccfg, scfg, "example.com"));
    CHECK_ERR(pair_handshake(&p), MICA_E_CERT_HOSTNAME);
    CHECK_ERR(mica_conn_error(p.server), MICA_E_PEER_ALERT);
    CHECK(mica_conn_error_alert(p.server) == MICA_ALERT_BAD_CERTIFICATE);
    pair_free(&p);
    mica_config_free(scfg);
    mica_config_free(ccfg);
}

int main(void)
{
    matrix();
    hrr_and_fragments();
    group_pairs();
    stateless_hrr();
    record_size_limit();
    key_update_and_close();
    alpn_and_sni();
    cancel_handshake();
    large_transfer();
    return check_exit("test_handshake");
}
