/*
 * Interop with OpenSSL's libssl in one process, through memory BIOs: no sockets, no
 * ports, fully deterministic. libssl is a test peer here, never part of mica.
 *
 *   mica client -> libssl server   and   libssl client -> mica server
 *
 * for every suite, every group, ECDSA / RSA / Ed25519 certificates, HelloRetryRequest
 * both ways, KeyUpdate both ways, data both ways, close_notify. Each case asserts what
 * was negotiated on both sides and that the data crossed intact.
 */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "harness.h"
#include "vec.h"

struct peer {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *in, *out; /* in: bytes for libssl to read; out: bytes libssl wrote */
};

static SSL_CTX *ossl_ctx(bool server, const char *kind, const char *suites, const char *groups)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    char path[512];

    if (ctx == NULL) {
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    if (suites != NULL) {
        SSL_CTX_set_ciphersuites(ctx, suites);
    } else {
        SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                                      "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:"
                                      "TLS_AES_128_CCM_8_SHA256");
    }
    if (groups != NULL) {
        char list[128]; /* the macro casts away const */
        snprintf(list, sizeof(list), "%s", groups);
        SSL_CTX_set1_groups_list(ctx, list);
    }
    if (server) {
        snprintf(path, sizeof(path), "%s", vec_path("certs/"));
        snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s.chain.pem", kind);
        if (SSL_CTX_use_certificate_chain_file(ctx, path) != 1) {
            fprintf(stderr, "libssl: cannot load %s\n", path);
        }
        snprintf(path, sizeof(path), "%s", vec_path("certs/"));
        snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s.key", kind);
        if (SSL_CTX_use_PrivateKey_file(ctx, path, SSL_FILETYPE_PEM) != 1) {
            fprintf(stderr, "libssl: cannot load %s\n", path);
        }
        SSL_CTX_set_num_tickets(ctx, 2);
    } else {
        SSL_CTX_load_verify_locations(ctx, vec_path("certs/ca.pem"), NULL);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    return ctx;
}

static void peer_init(struct peer *p, SSL_CTX *ctx, bool server)
{
    p->ctx = ctx;
    p->ssl = SSL_new(ctx);
    p->in = BIO_new(BIO_s_mem());
    p->out = BIO_new(BIO_s_mem());
    SSL_set_bio(p->ssl, p->in, p->out);
    if (server) {
        SSL_set_accept_state(p->ssl);
    } else {
        SSL_set_connect_state(p->ssl);
        SSL_set_tlsext_host_name(p->ssl, "localhost");
        SSL_set1_host(p->ssl, "localhost");
    }
}

static void peer_free(struct peer *p)
{
    SSL_free(p->ssl); /* frees the BIOs */
    SSL_CTX_free(p->ctx);
}

/* move: mica output to libssl, libssl output to mica, until quiet. Returns false on a
 * failure of either side. */
static bool move(mica_conn *m, struct peer *o)
{
    for (int round = 0; round < 64; round++) {
        const uint8_t *out;
        size_t len = 0, used = 0;
        char buf[65536];
        int n, progress = 0;

        if (mica_conn_pending(m, &out, &len) == MICA_OK && len > 0) {
            BIO_write(o->in, out, (int)len);
            mica_conn_sent(m, len);
            progress = 1;
        }
        if (!SSL_is_init_finished(o->ssl)) {
            int r = SSL_do_handshake(o->ssl);
            if (r <= 0 && SSL_get_error(o->ssl, r) != SSL_ERROR_WANT_READ) {
                ERR_print_errors_fp(stderr);
                return false;
            }
        }
        while ((n = BIO_read(o->out, buf, sizeof(buf))) > 0) {
            if (mica_conn_feed(m, (const uint8_t *)buf, (size_t)n, &used) != MICA_OK) {
                fprintf(stderr, "mica: %s\n", mica_conn_error_sentence(m));
                return false;
            }
            progress = 1;
        }
        if (!progress) {
            return true;
        }
    }
    return true;
}

static bool ssl_read_all(struct peer *o, mica_conn *m, uint8_t *buf, size_t want)
{
    size_t got = 0;

    for (int i = 0; i < 10000 && got < want; i++) {
        int n = SSL_read(o->ssl, buf + got, (int)(want - got));
        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        if (SSL_get_error(o->ssl, n) != SSL_ERROR_WANT_READ || !move(m, o)) {
            return false;
        }
    }
    return got == want;
}

static bool mica_read_all(mica_conn *m, struct peer *o, uint8_t *buf, size_t want)
{
    size_t got = 0;

    for (int i = 0; i < 10000 && got < want; i++) {
        size_t n = 0;
        mica_err err = mica_conn_read(m, buf + got, want - got, &n);
        if (err == MICA_OK && n > 0) {
            got += n;
            continue;
        }
        if (err != MICA_WANT_READ) {
            return false;
        }
        /* let libssl flush whatever it has (SSL_read also drives post-handshake) */
        {
            uint8_t dummy;
            (void)SSL_peek(o->ssl, &dummy, 0);
        }
        if (!move(m, o)) {
            return false;
        }
    }
    return got == want;
}

/* data both ways, with a KeyUpdate from each side */
static void exchange(mica_conn *m, struct peer *o, const char *what)
{
    static uint8_t a[100000], b[100000];
    size_t w = 0;

    for (size_t i = 0; i < sizeof(a); i++) {
        a[i] = (uint8_t)(i * 7 + 3);
    }
    CHECK_OK(mica_conn_write(m, a, sizeof(a), &w));
    CHECK(w == sizeof(a));
    CHECK_MSG(move(m, o) && ssl_read_all(o, m, b, sizeof(a)) && memcmp(a, b, sizeof(a)) == 0,
              "%s: mica -> libssl data", what);
    CHECK(SSL_write(o->ssl, a, 5000) == 5000);
    CHECK_MSG(move(m, o) && mica_read_all(m, o, b, 5000) && memcmp(a, b, 5000) == 0,
              "%s: libssl -> mica data", what);
    /* KeyUpdate: mica asks libssl to update too; then libssl updates on its own */
    CHECK_OK(mica_conn_key_update(m, 1));
    CHECK_OK(mica_conn_write(m, a, 3000, &w));
    CHECK_MSG(move(m, o) && ssl_read_all(o, m, b, 3000) && memcmp(a, b, 3000) == 0,
              "%s: data after mica's KeyUpdate", what);
    CHECK(SSL_key_update(o->ssl, SSL_KEY_UPDATE_NOT_REQUESTED) == 1);
    CHECK(SSL_write(o->ssl, a + 1, 4000) == 4000);
    CHECK_MSG(move(m, o) && mica_read_all(m, o, b, 4000) && memcmp(a + 1, b, 4000) == 0,
              "%s: data after libssl's KeyUpdate", what);
}

static void mica_client_case(const char *kind, const char *suite, const char *group,
                             const char *ossl_groups, bool expect_hrr)
{
    struct peer o;
    mica_config *ccfg = client_config();
    mica_conn *m = NULL;
    char what[256];

    snprintf(what, sizeof(what), "mica client -> libssl server %s %s %s", kind, suite, group);
    peer_init(&o, ossl_ctx(true, kind, NULL, ossl_groups), true);
    CHECK_OK(mica_config_set_cipher_suites(ccfg, suite));
    CHECK_OK(mica_config_set_groups(ccfg, group));
    CHECK_OK(mica_conn_new_client(ccfg, "localhost", &m));
    CHECK_MSG(move(m, &o) && mica_conn_is_connected(m) && SSL_is_init_finished(o.ssl),
              "%s: handshake", what);
    if (mica_conn_is_connected(m)) {
        CHECK_MSG(strcmp(mica_conn_cipher_suite(m), suite) == 0, "%s: suite %s", what,
                  mica_conn_cipher_suite(m));
        CHECK(strcmp(SSL_get_cipher_name(o.ssl), suite) == 0);
        CHECK(mica_conn_verified(m));
        CHECK_MSG(mica_conn_hrr(m) == expect_hrr, "%s: hrr", what);
        exchange(m, &o, what);
        /* close_notify both ways */
        CHECK_OK(mica_conn_close(m));
        CHECK(move(m, &o));
        {
            uint8_t b;
            CHECK(SSL_read(o.ssl, &b, 1) <= 0 && SSL_get_error(o.ssl, 0) == SSL_ERROR_ZERO_RETURN);
        }
        CHECK(SSL_shutdown(o.ssl) >= 0);
        CHECK(move(m, &o));
        CHECK(mica_conn_peer_closed(m));
    }
    mica_conn_free(m);
    peer_free(&o);
    mica_config_free(ccfg);
}

static void mica_server_case(const char *kind, const char *suite, const char *ossl_groups,
                             const char *mica_groups, bool expect_hrr)
{
    struct peer o;
    mica_config *scfg = server_config(kind);
    mica_conn *m = NULL;
    char what[256];

    snprintf(what, sizeof(what), "libssl client -> mica server %s %s %s", kind, suite, ossl_groups);
    peer_init(&o, ossl_ctx(false, kind, suite, ossl_groups), false);
    if (mica_groups != NULL) {
        CHECK_OK(mica_config_set_groups(scfg, mica_groups));
    }
    CHECK_OK(mica_conn_new_server(scfg, &m));
    CHECK(SSL_do_handshake(o.ssl) <= 0); /* writes the ClientHello */
    CHECK_MSG(move(m, &o) && mica_conn_is_connected(m) && SSL_is_init_finished(o.ssl),
              "%s: handshake", what);
    if (mica_conn_is_connected(m)) {
        CHECK(SSL_get_verify_result(o.ssl) == X509_V_OK);
        CHECK_MSG(strcmp(mica_conn_cipher_suite(m), suite) == 0, "%s: suite", what);
        CHECK(strcmp(mica_conn_server_name(m), "localhost") == 0);
        CHECK_MSG(mica_conn_hrr(m) == expect_hrr, "%s: hrr", what);
        exchange(m, &o, what);
        CHECK(SSL_shutdown(o.ssl) >= 0);
        CHECK(move(m, &o));
        CHECK(mica_conn_peer_closed(m));
        CHECK_OK(mica_conn_close(m));
        CHECK(move(m, &o));
    }
    mica_conn_free(m);
    peer_free(&o);
    mica_config_free(scfg);
}

/* key log: the NSS lines mica writes must be exactly the ones libssl writes for the same
 * connection (same client_random, same secrets), so Wireshark decrypts mica's traffic */
static char mica_log[4096], ossl_log[4096];

static void mica_keylog(void *ctx, const char *line)
{
    (void)ctx;
    snprintf(mica_log + strlen(mica_log), sizeof(mica_log) - strlen(mica_log), "%s\n", line);
}

static void ossl_keylog(const SSL *ssl, const char *line)
{
    (void)ssl;
    snprintf(ossl_log + strlen(ossl_log), sizeof(ossl_log) - strlen(ossl_log), "%s\n", line);
}

static bool same_lines(const char *a, const char *b)
{
    /* every line of a is a line of b, and the counts match */
    size_t na = 0, nb = 0;
    const char *p;

    for (p = a; *p != '\0'; p++) {
        na += *p == '\n';
    }
    for (p = b; *p != '\0'; p++) {
        nb += *p == '\n';
    }
    if (na != nb || na == 0) {
        return false;
    }
    for (p = a; *p != '\0';) {
        const char *e = strchr(p, '\n');
        char line[512];
        size_t n = (size_t)(e - p);
        if (n >= sizeof(line)) {
            return false;
        }
        memcpy(line, p, n);
        line[n] = '\0';
        if (strstr(b, line) == NULL) {
            return false;
        }
        p = e + 1;
    }
    return true;
}

static void keylog_matches(void)
{
    struct peer o;
    mica_config *ccfg = client_config();
    mica_conn *m = NULL;
    SSL_CTX *ctx = ossl_ctx(true, "ecdsa-p256", NULL, NULL);

    SSL_CTX_set_keylog_callback(ctx, ossl_keylog);
    mica_config_set_keylog(ccfg, mica_keylog, NULL);
    peer_init(&o, ctx, true);
    CHECK_OK(mica_conn_new_client(ccfg, "localhost", &m));
    CHECK(move(m, &o) && mica_conn_is_connected(m));
    CHECK(strstr(mica_log, "CLIENT_HANDSHAKE_TRAFFIC_SECRET ") == mica_log);
    CHECK_MSG(same_lines(mica_log, ossl_log), "key logs differ:\nmica:\n%slibssl:\n%s", mica_log,
              ossl_log);
    /* RFC 8446 7.5 exporters: mica's equal libssl's for the same connection, with and
     * without a context (an empty context is hashed, not absent, in TLS 1.3) */
    {
        uint8_t a[48], b[48];
        static const uint8_t label_ctx[] = "mica exporter context";
        CHECK_OK(mica_conn_export(m, "EXPERIMENTAL mica", label_ctx, sizeof(label_ctx) - 1, a,
                                  sizeof(a)));
        CHECK(SSL_export_keying_material(o.ssl, b, sizeof(b), "EXPERIMENTAL mica", 17, label_ctx,
                                         sizeof(label_ctx) - 1, 1) == 1);
        CHECK_MEM("exporter with context", a, b, sizeof(a));
        CHECK_OK(mica_conn_export(m, "EXPERIMENTAL mica", NULL, 0, a, 32));
        CHECK(SSL_export_keying_material(o.ssl, b, 32, "EXPERIMENTAL mica", 17, NULL, 0, 1) == 1);
        CHECK_MEM("exporter with an empty context", a, b, 32);
        CHECK(SSL_export_keying_material(o.ssl, b, 32, "EXPERIMENTAL mica", 17, NULL, 0, 0) == 1);
        CHECK_MEM("exporter without a context (same in TLS 1.3)", a, b, 32);
    }
    mica_conn_free(m);
    peer_free(&o);
    mica_config_free(ccfg);
}

/* ---- resumption with libssl on the other side ----------------------------------------- */

static uint8_t last_session[4096];
static size_t last_session_len;

static void keep_session(void *ctx, const char *name, const uint8_t *blob, size_t len)
{
    (void)ctx;
    (void)name;
    if (len <= sizeof(last_session)) {
        memcpy(last_session, blob, len);
        last_session_len = len;
    }
}

/* one connection over ctx (shared between connections, as a server's or a client's
 * would be); mica offers `session` (mica client) or libssl offers `sess` (mica server).
 * Returns whether both sides say the handshake resumed; data crosses both ways, so the
 * tickets are read. *out_sess: libssl's newest session, when it is the client. */
static bool libssl_round(bool mica_is_client, SSL_CTX *ctx, mica_config *cfg,
                         const uint8_t *session, size_t session_len, SSL_SESSION *sess,
                         SSL_SESSION **out_sess, const char *what)
{
    struct peer o;
    mica_conn *m = NULL;
    uint8_t buf[64];
    size_t w = 0;
    bool resumed = false;

    SSL_CTX_up_ref(ctx);
    peer_init(&o, ctx, mica_is_client); /* libssl is the server when mica is the client */
    if (sess != NULL) {
        CHECK(SSL_set_session(o.ssl, sess) == 1);
    }
    if (mica_is_client) {
        CHECK_OK(session != NULL
                     ? mica_conn_new_client_resume(cfg, "localhost", session, session_len, &m)
                     : mica_conn_new_client(cfg, "localhost", &m));
    } else {
        CHECK_OK(mica_conn_new_server(cfg, &m));
        CHECK(SSL_do_handshake(o.ssl) <= 0);
    }
    if (m != NULL && move(m, &o) && mica_conn_is_connected(m) && SSL_is_init_finished(o.ssl)) {
        resumed = mica_conn_resumed(m) && SSL_session_reused(o.ssl);
        CHECK_MSG(mica_conn_resumed(m) == SSL_session_reused(o.ssl),
                  "%s: mica says resumed=%d, libssl %d", what, mica_conn_resumed(m),
                  SSL_session_reused(o.ssl));
        CHECK(mica_conn_verified(m) || !mica_is_client);
        CHECK(SSL_write(o.ssl, "ping", 4) == 4);
        CHECK_MSG(move(m, &o) && mica_read_all(m, &o, buf, 4) && memcmp(buf, "ping", 4) == 0,
                  "%s: libssl -> mica", what);
        CHECK_OK(mica_conn_write(m, (const uint8_t *)"pong", 4, &w));
        CHECK_MSG(move(m, &o) && ssl_read_all(&o, m, buf, 4) && memcmp(buf, "pong", 4) == 0,
                  "%s: mica -> libssl", what);
        /* a clean close: libssl keeps a session resumable only after its close_notify */
        CHECK(SSL_shutdown(o.ssl) >= 0);
        CHECK(move(m, &o) && mica_conn_peer_closed(m));
        if (out_sess != NULL) {
            *out_sess = SSL_get1_session(o.ssl);
        }
    } else {
        CHECK_MSG(false, "%s: handshake failed", what);
    }
    mica_conn_free(m);
    peer_free(&o);
    return resumed;
}

static void resumption_with_libssl(const char *suite)
{
    char what[160];

    /* mica client, libssl server (its tickets, its ticket key in the shared ctx) */
    {
        SSL_CTX *sctx = ossl_ctx(true, "ecdsa-p256", suite, NULL);
        mica_config *ccfg = client_config();
        CHECK_OK(mica_config_set_cipher_suites(ccfg, suite));
        mica_config_set_session_cb(ccfg, keep_session, NULL);
        last_session_len = 0;
        snprintf(what, sizeof(what), "mica client resumes with libssl %s", suite);
        CHECK(!libssl_round(true, sctx, ccfg, NULL, 0, NULL, NULL, what));
        CHECK_MSG(last_session_len > 0, "%s: no session from libssl's tickets", what);
        if (last_session_len > 0) {
            uint8_t copy[sizeof(last_session)];
            size_t n = last_session_len;
            memcpy(copy, last_session, n);
            CHECK_MSG(libssl_round(true, sctx, ccfg, copy, n, NULL, NULL, what), "%s", what);
        }
        SSL_CTX_free(sctx);
        mica_config_free(ccfg);
    }
    /* libssl client, mica server (mica's tickets) */
    {
        SSL_CTX *cctx = ossl_ctx(false, "ecdsa-p256", suite, NULL);
        mica_config *scfg = server_config("ecdsa-p256");
        SSL_SESSION *sess = NULL;
        snprintf(what, sizeof(what), "libssl client resumes with mica %s", suite);
        CHECK(!libssl_round(false, cctx, scfg, NULL, 0, NULL, &sess, what));
        CHECK_MSG(sess != NULL && SSL_SESSION_is_resumable(sess), "%s: no resumable session", what);
        if (sess != NULL) {
            CHECK_MSG(libssl_round(false, cctx, scfg, NULL, 0, sess, NULL, what), "%s", what);
            SSL_SESSION_free(sess);
        }
        SSL_CTX_free(cctx);
        mica_config_free(scfg);
    }
}

/* libssl's output to mica, once */
static bool to_mica(mica_conn *m, struct peer *o)
{
    char buf[65536];
    int n;
    size_t used = 0;

    while ((n = BIO_read(o->out, buf, sizeof(buf))) > 0) {
        if (mica_conn_feed(m, (const uint8_t *)buf, (size_t)n, &used) != MICA_OK) {
            fprintf(stderr, "mica: %s\n", mica_conn_error_sentence(m));
            return false;
        }
    }
    return true;
}

static void to_libssl(mica_conn *m, struct peer *o)
{
    const uint8_t *out;
    size_t len = 0;

    if (mica_conn_pending(m, &out, &len) == MICA_OK && len > 0) {
        BIO_write(o->in, out, (int)len);
        mica_conn_sent(m, len);
    }
}

static const char early_req[] = "GET /early HTTP/1.1\r\n\r\n";

/* mica client -> libssl server with 0-RTT: libssl reads the early data
 * (SSL_read_early_data) and accepts it */
static void early_to_libssl(const char *suite)
{
    SSL_CTX *sctx = ossl_ctx(true, "ecdsa-p256", suite, NULL);
    mica_config *ccfg = client_config();
    struct peer o;
    mica_conn *m = NULL;
    char buf[256];
    size_t got = 0, w = 0;

    SSL_CTX_set_max_early_data(sctx, 16384);
    CHECK_OK(mica_config_set_cipher_suites(ccfg, suite));
    CHECK_OK(mica_config_set_early_data(ccfg, 16384));
    mica_config_set_session_cb(ccfg, keep_session, NULL);
    last_session_len = 0;
    CHECK(!libssl_round(true, sctx, ccfg, NULL, 0, NULL, NULL, "early: first"));
    if (last_session_len == 0) {
        CHECK_MSG(false, "%s: no session", suite);
        goto out;
    }
    SSL_CTX_up_ref(sctx);
    peer_init(&o, sctx, true);
    CHECK_OK(mica_conn_new_client_resume(ccfg, "localhost", last_session, last_session_len, &m));
    CHECK_OK(mica_conn_write_early(m, (const uint8_t *)early_req, sizeof(early_req) - 1, &w));
    CHECK(w == sizeof(early_req) - 1);
    for (int i = 0; i < 32 && m != NULL; i++) {
        size_t n = 0;
        int r;
        to_libssl(m, &o);
        r = SSL_read_early_data(o.ssl, buf + got, sizeof(buf) - got, &n);
        got += n;
        if (!to_mica(m, &o) || r == SSL_READ_EARLY_DATA_ERROR) {
            ERR_print_errors_fp(stderr);
            break;
        }
        if (r == SSL_READ_EARLY_DATA_FINISH) {
            break;
        }
    }
    CHECK_MSG(got == sizeof(early_req) - 1 && memcmp(buf, early_req, got) == 0,
              "%s: libssl read %zu early bytes", suite, got);
    CHECK_MSG(SSL_get_early_data_status(o.ssl) == SSL_EARLY_DATA_ACCEPTED,
              "%s: libssl did not accept the early data", suite);
    CHECK(move(m, &o) && mica_conn_is_connected(m) && SSL_is_init_finished(o.ssl));
    CHECK(m != NULL && mica_conn_early_data(m) == MICA_EARLY_ACCEPTED && mica_conn_resumed(m));
    if (m != NULL && mica_conn_is_connected(m)) {
        exchange(m, &o, "after 0-RTT to libssl");
    }
    mica_conn_free(m);
    peer_free(&o);
out:
    SSL_CTX_free(sctx);
    mica_config_free(ccfg);
}

/* libssl client -> mica server with 0-RTT (SSL_write_early_data); mica reads it early */
static void early_from_libssl(const char *suite)
{
    SSL_CTX *cctx = ossl_ctx(false, "ecdsa-p256", suite, NULL);
    mica_config *scfg = server_config("ecdsa-p256");
    SSL_SESSION *sess = NULL;
    struct peer o;
    mica_conn *m = NULL;
    uint8_t buf[256];
    size_t n = 0, w = 0;

    CHECK_OK(mica_config_set_early_data(scfg, 16384));
    CHECK(!libssl_round(false, cctx, scfg, NULL, 0, NULL, &sess, "early: first"));
    if (sess == NULL || SSL_SESSION_get_max_early_data(sess) != 16384) {
        CHECK_MSG(false, "%s: libssl's session allows no early data", suite);
        SSL_SESSION_free(sess);
        SSL_CTX_free(cctx);
        mica_config_free(scfg);
        return;
    }
    SSL_CTX_up_ref(cctx);
    peer_init(&o, cctx, false);
    CHECK(SSL_set_session(o.ssl, sess) == 1);
    CHECK(SSL_write_early_data(o.ssl, early_req, sizeof(early_req) - 1, &w) == 1);
    CHECK_OK(mica_conn_new_server(scfg, &m));
    if (m != NULL) {
        /* the ClientHello and the early data, to mica, which answers at 0.5-RTT */
        CHECK(to_mica(m, &o));
        CHECK_OK(mica_conn_read_early(m, buf, sizeof(buf), &n));
        CHECK_MSG(n == sizeof(early_req) - 1 && memcmp(buf, early_req, n) == 0,
                  "%s: mica read %zu early bytes", suite, n);
        CHECK_OK(mica_conn_write(m, (const uint8_t *)"0.5-RTT", 7, &w));
        CHECK(move(m, &o) && mica_conn_is_connected(m) && SSL_is_init_finished(o.ssl));
        CHECK_MSG(SSL_get_early_data_status(o.ssl) == SSL_EARLY_DATA_ACCEPTED,
                  "%s: libssl says its early data was not accepted", suite);
        CHECK(mica_conn_early_data(m) == MICA_EARLY_ACCEPTED);
        CHECK(ssl_read_all(&o, m, buf, 7) && memcmp(buf, "0.5-RTT", 7) == 0);
        if (mica_conn_is_connected(m)) {
            exchange(m, &o, "after 0-RTT from libssl");
        }
    }
    mica_conn_free(m);
    peer_free(&o);
    SSL_SESSION_free(sess);
    SSL_CTX_free(cctx);
    mica_config_free(scfg);
}

/* mutual TLS with libssl: libssl asks (SSL_VERIFY_FAIL_IF_NO_PEER_CERT) and verifies
 * mica's client certificate; mica requires and verifies libssl's */
static void mtls_with_libssl(const char *kind)
{
    char path[512], key[512], what[128];

    snprintf(path, sizeof(path), "%s", vec_path("certs/"));
    snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s.chain.pem", kind);
    snprintf(key, sizeof(key), "%s", vec_path("certs/"));
    snprintf(key + strlen(key), sizeof(key) - strlen(key), "%s.key", kind);
    {
        struct peer o;
        SSL_CTX *sctx = ossl_ctx(true, "ecdsa-p256", NULL, NULL);
        mica_config *ccfg = client_config();
        mica_conn *m = NULL;
        snprintf(what, sizeof(what), "mica client cert %s -> libssl", kind);
        SSL_CTX_load_verify_locations(sctx, vec_path("certs/ca.pem"), NULL);
        SSL_CTX_set_verify(sctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        CHECK_OK(mica_config_add_cert_chain_file(ccfg, path, key));
        peer_init(&o, sctx, true);
        CHECK_OK(mica_conn_new_client(ccfg, "localhost", &m));
        CHECK_MSG(move(m, &o) && mica_conn_is_connected(m) && SSL_is_init_finished(o.ssl),
                  "%s: handshake", what);
        if (mica_conn_is_connected(m)) {
            X509 *peer = SSL_get1_peer_certificate(o.ssl);
            CHECK_MSG(peer != NULL && SSL_get_verify_result(o.ssl) == X509_V_OK,
                      "%s: libssl did not verify mica's certificate", what);
            X509_free(peer);
            exchange(m, &o, what);
        }
        mica_conn_free(m);
        peer_free(&o);
        mica_config_free(ccfg);
    }
    {
        struct peer o;
        SSL_CTX *cctx = ossl_ctx(false, "ecdsa-p256", NULL, NULL);
        mica_config *scfg = server_config("ecdsa-p256");
        mica_conn *m = NULL;
        snprintf(what, sizeof(what), "libssl client cert %s -> mica", kind);
        CHECK_OK(mica_config_set_client_auth(scfg, MICA_CLIENT_AUTH_REQUIRE));
        CHECK_OK(mica_config_set_ca_file(scfg, vec_path("certs/ca.pem")));
        CHECK(SSL_CTX_use_certificate_chain_file(cctx, path) == 1);
        CHECK(SSL_CTX_use_PrivateKey_file(cctx, key, SSL_FILETYPE_PEM) == 1);
        peer_init(&o, cctx, false);
        CHECK_OK(mica_conn_new_server(scfg, &m));
        CHECK(SSL_do_handshake(o.ssl) <= 0);
        CHECK_MSG(move(m, &o) && mica_conn_is_connected(m) && SSL_is_init_finished(o.ssl),
                  "%s: handshake", what);
        if (mica_conn_is_connected(m)) {
            CHECK_MSG(mica_conn_verified(m), "%s: mica did not verify libssl's certificate: %s",
                      what, mica_conn_verify_error(m) ? mica_conn_verify_error(m) : "-");
            exchange(m, &o, what);
        }
        mica_conn_free(m);
        peer_free(&o);
        mica_config_free(scfg);
    }
}

/* post-handshake authentication with libssl both ways (RFC 8446 4.6.2) */
static void pha_with_libssl(void)
{
    char path[512], key[512];
    uint8_t buf[16];

    snprintf(path, sizeof(path), "%s", vec_path("certs/ecdsa-p384.chain.pem"));
    snprintf(key, sizeof(key), "%s", vec_path("certs/ecdsa-p384.key"));
    {
        /* libssl client (SSL_set_post_handshake_auth), mica server asks */
        struct peer o;
        SSL_CTX *cctx = ossl_ctx(false, "ecdsa-p256", NULL, NULL);
        mica_config *scfg = server_config("ecdsa-p256");
        mica_conn *m = NULL;
        size_t w = 0;
        CHECK_OK(mica_config_set_ca_file(scfg, vec_path("certs/ca.pem")));
        CHECK(SSL_CTX_use_certificate_chain_file(cctx, path) == 1);
        CHECK(SSL_CTX_use_PrivateKey_file(cctx, key, SSL_FILETYPE_PEM) == 1);
        peer_init(&o, cctx, false);
        SSL_set_post_handshake_auth(o.ssl, 1);
        CHECK_OK(mica_conn_new_server(scfg, &m));
        CHECK(SSL_do_handshake(o.ssl) <= 0);
        CHECK(move(m, &o) && mica_conn_is_connected(m) && SSL_is_init_finished(o.ssl));
        CHECK(mica_conn_peer_cert(m, 0, &w) == NULL);
        CHECK_OK(mica_conn_request_client_auth(m));
        CHECK_OK(mica_conn_write(m, (const uint8_t *)"auth?", 5, &w));
        /* libssl answers the request while it reads */
        CHECK_MSG(move(m, &o) && ssl_read_all(&o, m, buf, 5) && move(m, &o),
                  "libssl client: post-handshake auth");
        CHECK_MSG(mica_conn_verified(m) && mica_conn_peer_cert(m, 0, &w) != NULL,
                  "mica did not verify libssl's post-handshake certificate: %s",
                  mica_conn_verify_error(m) ? mica_conn_verify_error(m) : "-");
        exchange(m, &o, "after post-handshake auth (libssl client)");
        mica_conn_free(m);
        peer_free(&o);
        mica_config_free(scfg);
    }
    {
        /* mica client (offers it, having a certificate), libssl server asks */
        struct peer o;
        SSL_CTX *sctx = ossl_ctx(true, "ecdsa-p256", NULL, NULL);
        mica_config *ccfg = client_config();
        mica_conn *m = NULL;
        X509 *peer;
        SSL_CTX_load_verify_locations(sctx, vec_path("certs/ca.pem"), NULL);
        SSL_CTX_set_verify(sctx, SSL_VERIFY_PEER | SSL_VERIFY_POST_HANDSHAKE, NULL);
        CHECK_OK(mica_config_add_cert_chain_file(ccfg, path, key));
        peer_init(&o, sctx, true);
        CHECK_OK(mica_conn_new_client(ccfg, "localhost", &m));
        CHECK(move(m, &o) && mica_conn_is_connected(m) && SSL_is_init_finished(o.ssl));
        CHECK(SSL_get0_peer_certificate(o.ssl) == NULL);
        CHECK(SSL_verify_client_post_handshake(o.ssl) == 1);
        CHECK(SSL_do_handshake(o.ssl) == 1); /* writes the CertificateRequest */
        CHECK(SSL_write(o.ssl, "ping", 4) == 4);
        CHECK_MSG(move(m, &o) && mica_read_all(m, &o, buf, 4), "mica client: the request");
        CHECK(ssl_read_all(&o, m, buf, 0)); /* nothing to read: only drives libssl */
        {
            uint8_t b;
            (void)SSL_read(o.ssl, &b, 0); /* libssl takes in the answer */
        }
        peer = SSL_get1_peer_certificate(o.ssl);
        CHECK_MSG(peer != NULL && SSL_get_verify_result(o.ssl) == X509_V_OK,
                  "libssl did not get or verify mica's post-handshake certificate");
        X509_free(peer);
        exchange(m, &o, "after post-handshake auth (mica client)");
        mica_conn_free(m);
        peer_free(&o);
        mica_config_free(ccfg);
    }
}

int main(void)
{
    keylog_matches();
    pha_with_libssl();
    mtls_with_libssl("ecdsa-p256");
    mtls_with_libssl("rsa2048");
    mtls_with_libssl("ed25519");
    static const char *const suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                         "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256",
                                         "TLS_AES_128_CCM_8_SHA256"};
    static const char *const groups[] = {"x25519", "secp256r1", "secp384r1", "secp521r1", "x448"};
    static const char *const ossl_groups[] = {"X25519", "P-256", "P-384", "P-521", "X448"};
    static const char *const kinds[] = {"ecdsa-p256", "rsa2048", "ed25519", "ecdsa-p384"};

    for (size_t s = 0; s < 5; s++) {
        mica_client_case("ecdsa-p256", suites[s], "x25519", NULL, false);
        mica_server_case("ecdsa-p256", suites[s], "X25519", NULL, false);
        resumption_with_libssl(suites[s]);
        early_to_libssl(suites[s]);
        early_from_libssl(suites[s]);
    }
    for (size_t g = 0; g < 5; g++) {
        mica_client_case("rsa2048", suites[0], groups[g], ossl_groups[g], false);
        mica_server_case("rsa2048", suites[0], ossl_groups[g], NULL, false);
    }
    for (size_t k = 0; k < 4; k++) {
        mica_client_case(kinds[k], suites[1], "x25519", NULL, false);
        mica_server_case(kinds[k], suites[2], "X25519", NULL, false);
    }
    /* HelloRetryRequest: each side asks the other for a group it did not share */
    mica_client_case("ecdsa-p256", suites[0], "x25519:secp384r1", "P-384", true);
    mica_server_case("ecdsa-p256", suites[0], "X25519:P-256", "secp256r1", true);
    return check_exit("test_libssl");
}
