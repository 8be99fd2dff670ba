/*
 * Mutual TLS in one process (RFC 8446 4.3.2, 4.4.2, 4.4.3): a server that requires,
 * accepts or does not ask for a client certificate; a client with a certificate of each
 * key type, with none, and with one the server does not trust; resumption requests
 * none. Each outcome is checked on both sides: connected or the right error and alert,
 * what the server reports of the client (verified, its certificate, its signature
 * scheme, the reason it was not verified).
 */
#include <string.h>

#include "check.h"
#include "harness.h"
#include "vec.h"

static size_t der_len;

/* a server that asks for client certificates, trusting the test CA for them */
static mica_config *mtls_server(mica_client_auth mode)
{
    mica_config *scfg = server_config("ecdsa-p256");

    CHECK_OK(mica_config_set_client_auth(scfg, mode));
    CHECK_OK(mica_config_set_ca_file(scfg, vec_path("certs/ca.pem")));
    return scfg;
}

/* a client that trusts the test CA and has the test chain of kind (NULL: none) */
static mica_config *mtls_client(const char *kind)
{
    mica_config *ccfg = client_config();
    char chain[256], key[256];

    if (kind != NULL) {
        snprintf(chain, sizeof(chain), "%s", vec_path("certs/"));
        snprintf(chain + strlen(chain), sizeof(chain) - strlen(chain), "%s.chain.pem", kind);
        snprintf(key, sizeof(key), "%s", vec_path("certs/"));
        snprintf(key + strlen(key), sizeof(key) - strlen(key), "%s.key", kind);
        CHECK_OK(mica_config_add_cert_chain_file(ccfg, chain, key));
    }
    return ccfg;
}

static void each_key_type(void)
{
    static const char *const kinds[] = {"ecdsa-p256", "ecdsa-p384", "rsa2048", "ed25519"};
    mica_config *scfg = mtls_server(MICA_CLIENT_AUTH_REQUIRE);

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        mica_config *ccfg = mtls_client(kinds[i]);
        struct pair p;
        mica_err err;
        CHECK_OK(pair_new(&p, ccfg, scfg, "localhost"));
        err = pair_handshake(&p);
        CHECK_MSG(err == MICA_OK, "%s: %s (%s / %s)", kinds[i], mica_err_name(err),
                  mica_conn_error_sentence(p.client) ? mica_conn_error_sentence(p.client) : "-",
                  mica_conn_error_sentence(p.server) ? mica_conn_error_sentence(p.server) : "-");
        if (err == MICA_OK) {
            CHECK_MSG(mica_conn_verified(p.server), "%s: client not verified: %s", kinds[i],
                      mica_conn_verify_error(p.server) ? mica_conn_verify_error(p.server) : "-");
            CHECK(mica_conn_peer_cert(p.server, 0, &der_len) != NULL && der_len > 100);
            CHECK(mica_conn_peer_cert(p.server, 1, &der_len) != NULL); /* the CA */
            CHECK(mica_conn_sig_scheme(p.server) != NULL); /* the server's own CertificateVerify */
            CHECK(mica_conn_verified(p.client));
            CHECK(pair_transfer(&p, true, 3000) && pair_transfer(&p, false, 3000));
        }
        pair_free(&p);
        mica_config_free(ccfg);
    }
    mica_config_free(scfg);
}

static void without_certificate(void)
{
    mica_config *ccfg = mtls_client(NULL);
    mica_config *req = mtls_server(MICA_CLIENT_AUTH_REQUIRE);
    mica_config *opt = mtls_server(MICA_CLIENT_AUTH_OPTIONAL);
    struct pair p;

    /* required: certificate_required */
    CHECK_OK(pair_new(&p, ccfg, req, "localhost"));
    CHECK(pair_handshake(&p) != MICA_OK);
    CHECK_ERR(mica_conn_error(p.server), MICA_E_CERTIFICATE_REQUIRED);
    CHECK(mica_conn_error_alert(p.client) == MICA_ALERT_CERTIFICATE_REQUIRED);
    pair_free(&p);
    /* optional: connected, not verified, and the server can say why */
    CHECK_OK(pair_new(&p, ccfg, opt, "localhost"));
    CHECK_OK(pair_handshake(&p));
    CHECK(!mica_conn_verified(p.server));
    CHECK(mica_conn_peer_cert(p.server, 0, &der_len) == NULL);
    CHECK(mica_conn_verify_error(p.server) != NULL &&
          strstr(mica_conn_verify_error(p.server), "no certificate") != NULL);
    CHECK(pair_transfer(&p, true, 100));
    pair_free(&p);
    mica_config_free(opt);
    mica_config_free(req);
    mica_config_free(ccfg);
}

/* a client certificate the server's anchors do not cover */
static void untrusted_client(void)
{
    mica_config *ccfg = mtls_client("ecdsa-p256");
    mica_config *req = server_config("ecdsa-p256"), *opt = server_config("ecdsa-p256");
    struct pair p;

    /* anchors that are not the test CA: the system store has none for it */
    CHECK_OK(mica_config_set_client_auth(req, MICA_CLIENT_AUTH_REQUIRE));
    CHECK_OK(mica_config_set_client_auth(opt, MICA_CLIENT_AUTH_OPTIONAL));
    CHECK_OK(pair_new(&p, ccfg, req, "localhost"));
    CHECK(pair_handshake(&p) != MICA_OK);
    CHECK_ERR(mica_conn_error(p.server), MICA_E_CERT_UNTRUSTED);
    CHECK(mica_conn_error_alert(p.client) == MICA_ALERT_UNKNOWN_CA);
    /* the client sent its whole chain, root included */
    CHECK(strstr(mica_conn_error_sentence(p.server),
                 "the chain ends in the self-signed root 'CN=mica test CA'") != NULL);
    pair_free(&p);
    CHECK_OK(pair_new(&p, ccfg, opt, "localhost"));
    CHECK_OK(pair_handshake(&p));
    CHECK(!mica_conn_verified(p.server));
    CHECK(mica_conn_peer_cert(p.server, 0, &der_len) != NULL); /* seen, not trusted */
    CHECK(mica_conn_verify_error(p.server) != NULL &&
          strstr(mica_conn_verify_error(p.server), "not in the trust store") != NULL);
    CHECK_ERR(mica_conn_verify_code(p.server), MICA_E_CERT_UNTRUSTED);
    pair_free(&p);
    mica_config_free(opt);
    mica_config_free(req);
    mica_config_free(ccfg);
}

/* a server that does not ask gets no certificate; a resumed handshake asks for none */
static void not_asked_and_resumed(void)
{
    mica_config *ccfg = mtls_client("ed25519"), *plain = server_config("ecdsa-p256");
    mica_config *req = mtls_server(MICA_CLIENT_AUTH_REQUIRE);
    struct pair p;

    CHECK_OK(pair_new(&p, ccfg, plain, "localhost"));
    CHECK_OK(pair_handshake(&p));
    CHECK(mica_conn_peer_cert(p.server, 0, &der_len) == NULL && !mica_conn_verified(p.server));
    pair_free(&p);
    CHECK_OK(mica_config_keep_sessions(ccfg, 4, 1));
    CHECK_OK(pair_new(&p, ccfg, req, "localhost"));
    CHECK_OK(pair_handshake(&p));
    CHECK_OK(pair_move(&p));
    CHECK(pair_transfer(&p, false, 10)); /* the ticket */
    CHECK(mica_conn_verified(p.server));
    pair_free(&p);
    CHECK_OK(pair_new(&p, ccfg, req, "localhost")); /* resumes by itself */
    CHECK_OK(pair_handshake(&p));
    CHECK(mica_conn_resumed(p.server));
    CHECK(mica_conn_peer_cert(p.server, 0, &der_len) == NULL); /* no request: none sent */
    pair_free(&p);
    mica_config_free(req);
    mica_config_free(plain);
    mica_config_free(ccfg);
}

/* post-handshake authentication (4.6.2): asked for twice, answered with the certificate
 * each time; a client without a certificate does not offer it */
static void post_handshake(void)
{
    mica_config *scfg = server_config("ecdsa-p256"), *ccfg = mtls_client("rsa2048");
    mica_config *bare = mtls_client(NULL);
    struct pair p;

    CHECK_OK(mica_config_set_ca_file(scfg, vec_path("certs/ca.pem")));
    CHECK_OK(pair_new(&p, ccfg, scfg, "localhost"));
    CHECK_OK(pair_handshake(&p));
    CHECK(mica_conn_peer_cert(p.server, 0, &der_len) == NULL && !mica_conn_verified(p.server));
    CHECK_ERR(mica_conn_request_client_auth(p.client), MICA_E_ARGUMENT); /* a server's call */
    for (int i = 0; i < 2; i++) {
        CHECK_OK(mica_conn_request_client_auth(p.server));
        CHECK_ERR(mica_conn_request_client_auth(p.server), MICA_E_ARGUMENT); /* one open */
        CHECK(pair_transfer(&p, true, 2000)); /* data flows meanwhile */
        CHECK_OK(pair_move(&p));
        CHECK_MSG(mica_conn_verified(p.server), "request %d: %s", i,
                  mica_conn_verify_error(p.server) ? mica_conn_verify_error(p.server) : "-");
        CHECK(mica_conn_peer_cert(p.server, 0, &der_len) != NULL);
        CHECK(pair_transfer(&p, false, 2000));
    }
    CHECK_OK(mica_conn_key_update(p.client, 1)); /* the Finished MAC follows the new keys */
    CHECK_OK(pair_move(&p));
    CHECK_OK(mica_conn_request_client_auth(p.server));
    CHECK_OK(pair_move(&p));
    CHECK(mica_conn_verified(p.server) && mica_conn_is_connected(p.server));
    pair_free(&p);
    CHECK_OK(pair_new(&p, bare, scfg, "localhost"));
    CHECK_OK(pair_handshake(&p));
    CHECK_ERR(mica_conn_request_client_auth(p.server), MICA_E_ARGUMENT);
    pair_free(&p);
    mica_config_free(bare);
    mica_config_free(ccfg);
    mica_config_free(scfg);
}

int main(void)
{
    post_handshake();
    each_key_type();
    without_certificate();
    untrusted_client();
    not_asked_and_resumed();
    return check_exit("test_mtls");
}
