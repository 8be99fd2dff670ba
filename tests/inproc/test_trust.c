/*
 * The system trust store of a config that sets no CA: read on the first verification,
 * the way libcrypto finds it, SSL_CERT_FILE included (issue #9), and safe when the
 * first verifications of one config run on several threads at once.
 *
 *   1. SSL_CERT_FILE names the test CA: a config without a CA verifies the test server,
 *      even though the variable was set after the config was made (it is read on first
 *      use, not at mica_config_new).
 *   2. SSL_CERT_FILE names a file without that CA: untrusted, MICA_E_CERT_UNTRUSTED.
 *   3. Four threads make the first handshakes of one fresh config together: each one
 *      verifies (the store is read once, under its lock).
 */
#include <pthread.h>
#include <stdlib.h>

#include "check.h"
#include "harness.h"
#include "vec.h"

static mica_config *g_server;

/* one handshake of a client with ccfg against the test server; its verification */
static int verifies(const mica_config *ccfg, mica_err *code)
{
    struct pair p;
    int ok = 0;

    *code = MICA_E_INTERNAL;
    if (pair_new(&p, ccfg, g_server, "localhost") != MICA_OK) {
        return 0;
    }
    if (pair_handshake(&p) == MICA_OK) {
        ok = mica_conn_verified(p.client);
        *code = mica_conn_verify_code(p.client);
    } else {
        *code = mica_conn_error(p.client);
    }
    pair_free(&p);
    return ok;
}

struct job {
    int ok;
    const mica_config *cfg;
};

static void *run_job(void *arg)
{
    struct job *j = arg;
    mica_err code;

    j->ok = verifies(j->cfg, &code);
    return NULL;
}

int main(void)
{
    mica_config *cfg;
    mica_err code;
    char ca[512];

    g_server = server_config("ecdsa-p256");
    CHECK(g_server != NULL);
    if (g_server == NULL) {
        return check_exit("test_trust");
    }
    snprintf(ca, sizeof(ca), "%s", vec_path("certs/ca.pem"));
    unsetenv("SSL_CERT_DIR");

    /* 1: the variable is set after the config is made */
    cfg = mica_config_new();
    CHECK(cfg != NULL);
    CHECK(setenv("SSL_CERT_FILE", ca, 1) == 0);
    CHECK(verifies(cfg, &code) == 1);
    CHECK_ERR(code, MICA_OK);
    mica_config_free(cfg);

    /* 2: a bundle without the test CA (the server's own certificate is no CA) */
    CHECK(setenv("SSL_CERT_FILE", vec_path("certs/ecdsa-p256.crt"), 1) == 0);
    cfg = mica_config_new();
    CHECK(cfg != NULL);
    CHECK(verifies(cfg, &code) == 0);
    CHECK_ERR(code, MICA_E_CERT_UNTRUSTED);
    mica_config_free(cfg);

    /* 3: four first verifications of one config at once */
    CHECK(setenv("SSL_CERT_FILE", ca, 1) == 0);
    cfg = mica_config_new();
    CHECK(cfg != NULL);
    {
        pthread_t t[4];
        struct job jobs[4];
        for (int i = 0; i < 4; i++) {
            jobs[i].ok = -1;
            jobs[i].cfg = cfg;
            CHECK(pthread_create(&t[i], NULL, run_job, &jobs[i]) == 0);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(t[i], NULL);
            CHECK_MSG(jobs[i].ok == 1, "thread %d: verified %d", i, jobs[i].ok);
        }
    }
    mica_config_free(cfg);
    mica_config_free(g_server);
    return check_exit("test_trust");
}
