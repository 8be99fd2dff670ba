/*
 * Resumption in one process (RFC 8446 2.2, 4.2.11, 4.6.1): tickets arrive after a full
 * handshake, a client resumes with one (PSK with (EC)DHE) for every suite, after a
 * HelloRetryRequest too; a ticket the server cannot open, an expired one, one for another
 * name and one whose hash the client no longer offers all fall back to a full handshake;
 * a wrong binder is fatal (decrypt_error); a config that verifies refuses a session made
 * without verification.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "harness.h"

#define MAX_SESSIONS 16

static size_t cert_len;

struct store {
    size_t n;
    uint8_t *blob[MAX_SESSIONS];
    size_t len[MAX_SESSIONS];
    char name[MAX_SESSIONS][64];
};

static void on_session(void *ctx, const char *server_name, const uint8_t *session, size_t len)
{
    struct store *st = ctx;

    if (st->n == MAX_SESSIONS) {
        return;
    }
    st->blob[st->n] = malloc(len);
    if (st->blob[st->n] == NULL) {
        return;
    }
    memcpy(st->blob[st->n], session, len);
    st->len[st->n] = len;
    snprintf(st->name[st->n], sizeof(st->name[0]), "%s", server_name);
    st->n++;
}

static void store_clear(struct store *st)
{
    for (size_t i = 0; i < st->n; i++) {
        free(st->blob[i]);
    }
    memset(st, 0, sizeof(*st));
}

static uint64_t fake_now;
static uint64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static uint64_t late_clock(void *ctx)
{
    (void)ctx;
    return fake_now + 61 * 1000; /* past the 60 s lifetime of fallbacks() */
}

static uint64_t late7_clock(void *ctx)
{
    (void)ctx;
    return fake_now + 24ull * 3600 * 1000 + 3600 * 1000; /* chain_ends_after_seven_days */
}

/* a full handshake that leaves its sessions in st */
static bool full_handshake(mica_config *ccfg, const mica_config *scfg, struct store *st)
{
    struct pair p;
    mica_err err;

    mica_config_set_session_cb(ccfg, on_session, st);
    CHECK_OK(pair_new(&p, ccfg, scfg, "localhost"));
    err = pair_handshake(&p);
    CHECK_OK(err);
    CHECK_OK(pair_move(&p));             /* the tickets follow the server's handshake */
    CHECK(pair_transfer(&p, true, 100)); /* the client reads, which processes them */
    CHECK(!mica_conn_resumed(p.client) && !mica_conn_resumed(p.server));
    pair_free(&p);
    return err == MICA_OK;
}

/* resume with blob; *resumed gets whether both sides say so; returns the handshake result
 * and leaves the pair for the caller to inspect and free */
static mica_err resume(struct pair *p, const mica_config *ccfg, const mica_config *scfg,
                       const char *name, const uint8_t *blob, size_t len)
{
    mica_err err;

    CHECK_OK(pair_new(p, ccfg, scfg, name));
    mica_conn_free(p->client);
    p->client = NULL;
    err = mica_conn_new_client_resume(ccfg, name, blob, len, &p->client);
    if (err != MICA_OK) {
        return err;
    }
    return pair_handshake(p);
}

static void every_suite(void)
{
    const char *suite;
    mica_config *scfg = server_config("ecdsa-p256");

    /* every suite (MICA_TEST_LIGHT: the first two; they differ only in the AEAD) */
    for (size_t s = 0; mica_cipher_suite_at(s, &suite) != 0 && !(check_light() && s >= 2); s++) {
        mica_config *ccfg = client_config();
        struct store st = {0};
        struct pair p;
        mica_err err;

        CHECK_OK(mica_config_set_cipher_suites(ccfg, suite));
        if (!full_handshake(ccfg, scfg, &st)) {
            mica_config_free(ccfg);
            continue;
        }
        CHECK_MSG(st.n == 2, "%s: %zu sessions, want the default 2", suite, st.n);
        CHECK(st.n == 0 || strcmp(st.name[0], "localhost") == 0);
        for (size_t i = 0; i < st.n && i < 8; i++) {
            size_t before = st.n;
            err = resume(&p, ccfg, scfg, "localhost", st.blob[i], st.len[i]);
            CHECK_MSG(
                err == MICA_OK, "%s: resume %zu: %s (%s / %s)", suite, i, mica_err_name(err),
                p.client && mica_conn_error_sentence(p.client) ? mica_conn_error_sentence(p.client)
                                                               : "-",
                p.server && mica_conn_error_sentence(p.server) ? mica_conn_error_sentence(p.server)
                                                               : "-");
            if (err == MICA_OK) {
                CHECK_MSG(mica_conn_resumed(p.client) && mica_conn_resumed(p.server),
                          "%s: not resumed", suite);
                CHECK(strcmp(mica_conn_cipher_suite(p.client), suite) == 0);
                CHECK(mica_conn_verified(p.client)); /* the session was verified */
                CHECK(mica_conn_peer_cert(p.client, 0, &cert_len) == NULL); /* none was sent */
                CHECK(pair_transfer(&p, true, 3000));
                CHECK(pair_transfer(&p, false, 3000));
                /* a resumed handshake issues one fresh ticket: it replaces the one spent */
                CHECK_MSG(st.n == before + 1 || st.n == MAX_SESSIONS,
                          "%s: %zu sessions after a resumption, want %zu", suite, st.n, before + 1);
            }
            pair_free(&p);
        }
        store_clear(&st);
        mica_config_free(ccfg);
    }
    mica_config_free(scfg);
}

/* the resumed handshake is shorter: no Certificate, no CertificateVerify */
static void smaller_flight(void)
{
    mica_config *scfg = server_config("rsa2048");
    mica_config *ccfg = client_config();
    struct store st = {0};
    struct pair p;
    size_t full_s2c;

    CHECK_OK(pair_new(&p, ccfg, scfg, "localhost"));
    CHECK_OK(pair_handshake(&p));
    full_s2c = p.bytes_s2c;
    pair_free(&p);
    if (full_handshake(ccfg, scfg, &st) && st.n > 0) {
        CHECK_OK(resume(&p, ccfg, scfg, "localhost", st.blob[0], st.len[0]));
        CHECK(mica_conn_resumed(p.server));
        CHECK_MSG(p.bytes_s2c + 800 < full_s2c, "resumed %zu bytes vs full %zu", p.bytes_s2c,
                  full_s2c);
        pair_free(&p);
    }
    store_clear(&st);
    mica_config_free(ccfg);
    mica_config_free(scfg);
}

static void fallbacks(void)
{
    mica_config *scfg = server_config("ecdsa-p256");
    mica_config *other = server_config("ecdsa-p256"); /* another random ticket key */
    mica_config *ccfg = client_config();
    struct store st = {0};
    struct pair p;

    mica_config_set_clock(scfg, fake_clock, NULL);
    mica_config_set_clock(ccfg, fake_clock, NULL);
    fake_now = (uint64_t)time(NULL) * 1000u;
    CHECK_OK(mica_config_set_tickets(scfg, 1, 60));
    if (!full_handshake(ccfg, scfg, &st) || st.n != 1) {
        CHECK_MSG(false, "no session to test with (%zu)", st.n);
        goto out;
    }
    /* a server with another ticket key cannot open it: a full handshake */
    CHECK_OK(resume(&p, ccfg, other, "localhost", st.blob[0], st.len[0]));
    CHECK(!mica_conn_resumed(p.client) && !mica_conn_resumed(p.server));
    CHECK(mica_conn_peer_cert(p.client, 0, &cert_len) != NULL);
    pair_free(&p);

    /* a session for another name is not offered: the full handshake then checks the
     * certificate, which does not cover that name */
    CHECK_ERR(resume(&p, ccfg, scfg, "example.com", st.blob[0], st.len[0]), MICA_E_CERT_HOSTNAME);
    CHECK(!mica_conn_resumed(p.server));
    pair_free(&p);

    /* only the server's clock passes the lifetime: the client offers, the server declines */
    mica_config_set_clock(scfg, late_clock, NULL);
    CHECK_OK(resume(&p, ccfg, scfg, "localhost", st.blob[0], st.len[0]));
    CHECK(!mica_conn_resumed(p.client) && !mica_conn_resumed(p.server));
    pair_free(&p);
    /* both clocks past it: the client does not even offer it */
    mica_config_set_clock(ccfg, late_clock, NULL);
    CHECK_OK(resume(&p, ccfg, scfg, "localhost", st.blob[0], st.len[0]));
    CHECK(!mica_conn_resumed(p.client) && !mica_conn_resumed(p.server));
    pair_free(&p);
    /* back in time */
    mica_config_set_clock(scfg, fake_clock, NULL);
    mica_config_set_clock(ccfg, fake_clock, NULL);
    CHECK_OK(resume(&p, ccfg, scfg, "localhost", st.blob[0], st.len[0]));
    CHECK(mica_conn_resumed(p.client) && mica_conn_resumed(p.server));
    pair_free(&p);

    /* a client that no longer offers the session's hash does not offer it */
    {
        mica_config *c384 = client_config();
        CHECK_OK(mica_config_set_cipher_suites(c384, "TLS_AES_256_GCM_SHA384"));
        CHECK_OK(resume(&p, c384, scfg, "localhost", st.blob[0], st.len[0]));
        CHECK(!mica_conn_resumed(p.client) && !mica_conn_resumed(p.server));
        pair_free(&p);
        mica_config_free(c384);
    }

    /* a config that verifies refuses a session made without verification */
    {
        mica_config *insecure = client_config();
        struct store st2 = {0};
        mica_config_insecure_no_verify(insecure);
        mica_config_set_clock(insecure, fake_clock, NULL);
        if (full_handshake(insecure, scfg, &st2) && st2.n == 1) {
            CHECK_OK(resume(&p, insecure, scfg, "localhost", st2.blob[0], st2.len[0]));
            CHECK(mica_conn_resumed(p.server) && !mica_conn_verified(p.client));
            pair_free(&p);
            CHECK_OK(resume(&p, ccfg, scfg, "localhost", st2.blob[0], st2.len[0]));
            CHECK(!mica_conn_resumed(p.server) && mica_conn_verified(p.client));
            pair_free(&p);
        } else {
            CHECK_MSG(false, "no insecure session");
        }
        store_clear(&st2);
        mica_config_free(insecure);
    }

    /* not a session at all */
    {
        mica_conn *c = NULL;
        static const uint8_t junk[] = {1, 2, 3, 4};
        CHECK_ERR(mica_conn_new_client_resume(ccfg, "localhost", junk, sizeof(junk), &c),
                  MICA_E_DECODE);
        CHECK(c == NULL);
        CHECK_ERR(mica_conn_new_client_resume(ccfg, "localhost", st.blob[0], st.len[0] - 1, &c),
                  MICA_E_DECODE);
        CHECK(c == NULL);
        /* damaged in storage: every byte is covered by the blob's check */
        for (size_t i = 0; i < st.len[0]; i += 7) {
            st.blob[0][i] ^= 0x20;
            CHECK_ERR(mica_conn_new_client_resume(ccfg, "localhost", st.blob[0], st.len[0], &c),
                      MICA_E_DECODE);
            st.blob[0][i] ^= 0x20;
        }
        CHECK_OK(mica_conn_new_client_resume(ccfg, "localhost", st.blob[0], st.len[0], &c));
        mica_conn_free(c);
    }
out:
    store_clear(&st);
    mica_config_free(ccfg);
    mica_config_free(other);
    mica_config_free(scfg);
}

/* flip the last byte of the first client batch: the ClientHello's binder */
static void flip_binder(void *ctx, bool to_server, uint8_t *buf, size_t *len)
{
    int *done = ctx;

    if (to_server && !*done && *len > 0) {
        buf[*len - 1] ^= 0x01;
        *done = 1;
    }
}

static void wrong_binder(void)
{
    mica_config *scfg = server_config("ecdsa-p256");
    mica_config *ccfg = client_config();
    struct store st = {0};
    struct pair p;
    int done = 0;

    if (full_handshake(ccfg, scfg, &st) && st.n > 0) {
        CHECK_OK(pair_new(&p, ccfg, scfg, "localhost"));
        mica_conn_free(p.client);
        CHECK_OK(mica_conn_new_client_resume(ccfg, "localhost", st.blob[0], st.len[0], &p.client));
        p.tamper = flip_binder;
        p.tamper_ctx = &done;
        CHECK(pair_handshake(&p) != MICA_OK);
        CHECK_ERR(mica_conn_error(p.server), MICA_E_DECRYPT_ERROR);
        CHECK_ERR(mica_conn_error(p.client), MICA_E_PEER_ALERT);
        CHECK(done == 1);
        CHECK(!mica_conn_resumed(p.server));
        pair_free(&p);
    }
    store_clear(&st);
    mica_config_free(ccfg);
    mica_config_free(scfg);
}

/* 4.1.4/4.2.11: after a HelloRetryRequest the second ClientHello offers the PSK again, its
 * binder over the new transcript */
static void after_hrr(void)
{
    mica_config *scfg = server_config("ed25519");
    mica_config *ccfg = client_config();
    struct store st = {0};
    struct pair p;

    CHECK_OK(mica_config_set_groups(scfg, "secp384r1"));
    CHECK_OK(mica_config_set_groups(ccfg, "x25519:secp384r1"));
    if (full_handshake(ccfg, scfg, &st) && st.n > 0) {
        CHECK_OK(resume(&p, ccfg, scfg, "localhost", st.blob[0], st.len[0]));
        CHECK(mica_conn_hrr(p.client) && mica_conn_hrr(p.server));
        CHECK(mica_conn_resumed(p.client) && mica_conn_resumed(p.server));
        CHECK(strcmp(mica_conn_group(p.client), "secp384r1") == 0);
        CHECK(pair_transfer(&p, false, 500));
        pair_free(&p);
    }
    store_clear(&st);
    mica_config_free(ccfg);
    mica_config_free(scfg);
}

/* ticket keys rotate by period, derived from a secret: servers that share the secret
 * accept each other's tickets, others do not; a ticket of the previous period still
 * opens while it can be alive */
static void rotation_and_shared_keys(void)
{
    static const uint8_t secret[40] = {0x6d, 0x69, 0x63, 0x61, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    mica_config *a = server_config("ecdsa-p256"), *b = server_config("ecdsa-p256");
    mica_config *other = server_config("ecdsa-p256");
    mica_config *ccfg = client_config();
    mica_config *all[] = {a, b, other, ccfg};
    struct store st = {0};
    struct pair p;

    fake_now = (uint64_t)time(NULL) * 1000u;
    for (size_t i = 0; i < 4; i++) {
        mica_config_set_clock(all[i], fake_clock, NULL);
    }
    for (size_t i = 0; i < 3; i++) {
        CHECK_OK(mica_config_set_tickets(all[i], 1, 120));
    }
    CHECK_OK(mica_config_set_ticket_key(a, secret, sizeof(secret), 60));
    CHECK_OK(mica_config_set_ticket_key(b, secret, sizeof(secret), 60));
    CHECK_OK(mica_config_set_ticket_key(other, NULL, 0, 60)); /* its own random secret */
    CHECK_ERR(mica_config_set_ticket_key(a, secret, 31, 60), MICA_E_ARGUMENT);
    CHECK_ERR(mica_config_set_ticket_key(a, secret, sizeof(secret), 59), MICA_E_ARGUMENT);
    CHECK_ERR(mica_config_set_ticket_key(a, NULL, 0, 8 * 24 * 3600), MICA_E_ARGUMENT);
    if (!full_handshake(ccfg, a, &st) || st.n != 1) {
        CHECK_MSG(false, "no session (%zu)", st.n);
        goto out;
    }
    CHECK_OK(resume(&p, ccfg, b, "localhost", st.blob[0], st.len[0]));
    CHECK_MSG(mica_conn_resumed(p.server), "a server with the same secret refused the ticket");
    pair_free(&p);
    CHECK_OK(resume(&p, ccfg, other, "localhost", st.blob[0], st.len[0]));
    CHECK(!mica_conn_resumed(p.server) && !mica_conn_resumed(p.client));
    pair_free(&p);
    /* 90 s on: another period (the key has rotated), the ticket still alive */
    fake_now += 90 * 1000;
    CHECK_OK(resume(&p, ccfg, a, "localhost", st.blob[0], st.len[0]));
    CHECK_MSG(mica_conn_resumed(p.server), "the previous period's ticket was refused");
    pair_free(&p);
    /* b, given a new secret, opens none of the old secret's tickets any more (the keys
     * it derived and kept for them are forgotten), also after another ticket of the
     * current period was sealed; given the old secret back, it opens them again */
    CHECK_OK(resume(&p, ccfg, b, "localhost", st.blob[0], st.len[0]));
    CHECK(mica_conn_resumed(p.server));
    pair_free(&p);
    CHECK_OK(mica_config_set_ticket_key(b, secret + 1, sizeof(secret) - 1, 60));
    CHECK_OK(resume(&p, ccfg, b, "localhost", st.blob[0], st.len[0]));
    CHECK_MSG(!mica_conn_resumed(p.server), "a ticket of the old secret was accepted");
    pair_free(&p);
    CHECK_OK(mica_config_set_ticket_key(b, secret, sizeof(secret), 60));
    CHECK_OK(resume(&p, ccfg, b, "localhost", st.blob[0], st.len[0]));
    CHECK(mica_conn_resumed(p.server));
    pair_free(&p);
    /* 130 s on: expired, and its period retired */
    fake_now += 40 * 1000;
    mica_config_set_clock(ccfg, NULL, NULL); /* the client still offers it */
    CHECK_OK(resume(&p, ccfg, a, "localhost", st.blob[0], st.len[0]));
    CHECK(!mica_conn_resumed(p.server));
    pair_free(&p);
out:
    store_clear(&st);
    for (size_t i = 0; i < 4; i++) {
        mica_config_free(all[i]);
    }
}

/* RFC 8446 4.6.1: resumption may not extend the server's authentication past 7 days; a
 * chain of resumptions, each issuing fresh tickets, ends there */
static void chain_ends_after_seven_days(void)
{
    mica_config *scfg = server_config("ecdsa-p256");
    mica_config *ccfg = client_config();
    struct store st = {0};
    struct pair p;
    const uint64_t day = 24ull * 3600 * 1000;

    fake_now = (uint64_t)time(NULL) * 1000u;
    mica_config_set_clock(scfg, fake_clock, NULL);
    mica_config_set_clock(ccfg, fake_clock, NULL);
    CHECK_OK(mica_config_set_tickets(scfg, 1, 7 * 24 * 3600));
    CHECK_OK(mica_config_set_ticket_key(scfg, NULL, 0, 7 * 24 * 3600));
    if (!full_handshake(ccfg, scfg, &st) || st.n != 1) {
        CHECK_MSG(false, "no session (%zu)", st.n);
        goto out;
    }
    /* day 6: resumes, and the new ticket inherits the day-0 authentication */
    fake_now += 6 * day;
    CHECK_OK(resume(&p, ccfg, scfg, "localhost", st.blob[0], st.len[0]));
    CHECK(mica_conn_resumed(p.server));
    CHECK(pair_transfer(&p, true, 10)); /* the client reads its new ticket */
    pair_free(&p);
    CHECK(st.n == 2);
    /* day 7 and an hour: the newest session is 1 day old, but its authentication is not
     * fresh enough: the client does not offer it */
    fake_now += 1 * day + 3600 * 1000;
    if (st.n == 2) {
        CHECK_OK(resume(&p, ccfg, scfg, "localhost", st.blob[1], st.len[1]));
        CHECK(!mica_conn_resumed(p.client) && !mica_conn_resumed(p.server));
        pair_free(&p);
        /* a client that still thinks it is day 6 offers it: the server declines */
        fake_now -= 1 * day + 3600 * 1000;
        mica_config_set_clock(scfg, late7_clock, NULL);
        CHECK_OK(resume(&p, ccfg, scfg, "localhost", st.blob[1], st.len[1]));
        CHECK(!mica_conn_resumed(p.server));
        pair_free(&p);
    }
out:
    store_clear(&st);
    mica_config_free(ccfg);
    mica_config_free(scfg);
}

/* a server with automatic tickets off sends them on demand, after the handshake */
static void tickets_on_demand(void)
{
    mica_config *scfg = server_config("ecdsa-p256");
    mica_config *ccfg = client_config();
    struct store st = {0};
    struct pair p;

    CHECK_OK(mica_config_set_tickets(scfg, 0, 3600));
    mica_config_set_session_cb(ccfg, on_session, &st);
    CHECK_OK(pair_new(&p, ccfg, scfg, "localhost"));
    CHECK_ERR(mica_conn_send_tickets(p.server, 1), MICA_E_ARGUMENT); /* not connected yet */
    CHECK_OK(pair_handshake(&p));
    CHECK(pair_transfer(&p, false, 10));
    CHECK(st.n == 0);
    CHECK_ERR(mica_conn_send_tickets(p.client, 1), MICA_E_ARGUMENT); /* a client */
    CHECK_ERR(mica_conn_send_tickets(p.server, 0), MICA_E_ARGUMENT);
    CHECK_ERR(mica_conn_send_tickets(p.server, 17), MICA_E_ARGUMENT);
    CHECK_OK(mica_conn_send_tickets(p.server, 3));
    CHECK(pair_transfer(&p, false, 10));
    CHECK_MSG(st.n == 3, "%zu sessions after 3 tickets on demand", st.n);
    /* 255 tickets per connection at most (their nonces must differ) */
    for (int i = 0; i < 15; i++) {
        CHECK_OK(mica_conn_send_tickets(p.server, 16));
        CHECK(pair_transfer(&p, false, 10));
    }
    CHECK_ERR(mica_conn_send_tickets(p.server, 13), MICA_E_ARGUMENT); /* 3 + 240 + 13 > 255 */
    CHECK_OK(mica_conn_send_tickets(p.server, 12));
    CHECK(pair_transfer(&p, false, 10));
    pair_free(&p);
    if (st.n > 0) {
        CHECK_OK(resume(&p, ccfg, scfg, "localhost", st.blob[0], st.len[0]));
        CHECK(mica_conn_resumed(p.client) && mica_conn_resumed(p.server));
        pair_free(&p);
    }
    store_clear(&st);
    mica_config_free(ccfg);
    mica_config_free(scfg);
}

/* blob_fresh: a client session blob's age_add and its ticket's nonce (psk.c's formats:
 * version verified suite issued auth lifetime age_add max_early psk<1> sni<1> alpn<1>
 * ticket<2> check(32); a sealed ticket is name(16) nonce(12) ...), 16 bytes in all */
static bool blob_fresh(const uint8_t *b, size_t len, uint8_t out[16])
{
    size_t at = 1 + 1 + 2 + 8 + 8 + 4;

    if (len < at + 8 + 32) {
        return false;
    }
    memcpy(out, b + at, 4);
    at += 8;
    for (int i = 0; i < 3; i++) { /* psk, sni, alpn */
        if (at >= len) {
            return false;
        }
        at += 1 + (size_t)b[at];
    }
    if (at + 2 + 16 + 12 > len) {
        return false;
    }
    memcpy(out + 4, b + at + 2 + 16, 12);
    return true;
}

/* the tickets of one call have random bytes of their own (drawn 8 tickets at a time):
 * no two of 16 share an age_add or a nonce */
static void tickets_fresh(void)
{
    mica_config *scfg = server_config("ecdsa-p256");
    mica_config *ccfg = client_config();
    struct store st = {0};
    uint8_t fresh[16][16];
    struct pair p;

    CHECK_OK(mica_config_set_tickets(scfg, 0, 3600));
    mica_config_set_session_cb(ccfg, on_session, &st);
    CHECK_OK(pair_new(&p, ccfg, scfg, "localhost"));
    CHECK_OK(pair_handshake(&p));
    CHECK_OK(mica_conn_send_tickets(p.server, 16));
    CHECK(pair_transfer(&p, false, 10));
    CHECK_MSG(st.n == 16, "%zu sessions after 16 tickets", st.n);
    for (size_t i = 0; i < st.n; i++) {
        CHECK_MSG(blob_fresh(st.blob[i], st.len[i], fresh[i]), "session %zu: no ticket", i);
        for (size_t j = 0; j < i; j++) {
            CHECK_MSG(memcmp(fresh[i], fresh[j], 4) != 0, "tickets %zu and %zu: one age_add", j, i);
            CHECK_MSG(memcmp(fresh[i] + 4, fresh[j] + 4, 12) != 0, "tickets %zu and %zu: one nonce",
                      j, i);
        }
    }
    pair_free(&p);
    store_clear(&st);
    mica_config_free(ccfg);
    mica_config_free(scfg);
}

static void no_tickets(void)
{
    mica_config *scfg = server_config("ecdsa-p256");
    mica_config *ccfg = client_config();
    struct store st = {0};

    CHECK_OK(mica_config_set_tickets(scfg, 0, 60));
    CHECK(full_handshake(ccfg, scfg, &st));
    CHECK(st.n == 0);
    CHECK_ERR(mica_config_set_tickets(scfg, 1, 8 * 24 * 3600), MICA_E_ARGUMENT);
    CHECK_ERR(mica_config_set_tickets(scfg, 17, 60), MICA_E_ARGUMENT);
    store_clear(&st);
    mica_config_free(ccfg);
    mica_config_free(scfg);
}

int main(void)
{
    every_suite();
    smaller_flight();
    tickets_fresh();
    fallbacks();
    wrong_binder();
    after_hrr();
    no_tickets();
    rotation_and_shared_keys();
    chain_ends_after_seven_days();
    tickets_on_demand();
    return check_exit("test_resume");
}
